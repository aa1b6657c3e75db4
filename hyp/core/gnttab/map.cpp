// GNTTABOP_map_grant_ref and GNTTABOP_unmap_grant_ref.
#include "gnttab/abi.hpp"
#include "gnttab/domain_lookup.hpp"
#include "gnttab/ops.hpp"

namespace keel::gnttab {

namespace {

GrantStatus map_one(GrantHost& host, GrantDomain& caller, gnttab_map_grant_ref_t& op)
{
    if ((op.flags & (GNTMAP_device_map | GNTMAP_host_map)) == 0) return GrantStatus::bad_gntref;
    // An auto-translated (arm) guest has no device, application or PTE mappings;
    // create_grant_host_mapping also refuses any flag but host_map and readonly.
    if ((op.flags & ~std::uint32_t{GNTMAP_readonly}) != GNTMAP_host_map) return GrantStatus::general_error;
    const bool readonly = (op.flags & GNTMAP_readonly) != 0;

    GrantDomain* granter = live_domain(host, op.dom);
    if (granter == nullptr) return GrantStatus::bad_domain;
    if (!host.may_grant(granter->id(), caller.id())) return GrantStatus::permission_denied;

    PairLock locks(caller, *granter);
    // Either may have started dying since the lookup; a dying domain neither
    // grants nor maps any more.
    if (!granter->live_locked()) return GrantStatus::bad_domain;
    if (!caller.live_locked()) return GrantStatus::general_error;

    Result<grant_handle_t> handle = caller.maptrack_locked().alloc(host);
    if (!handle) return GrantStatus::no_device_space;

    HostPage page;
    const GrantStatus pinned = granter->pin_locked(host, op.ref, caller.id().raw(), readonly, true, page);
    if (pinned != GrantStatus::okay) {
        caller.maptrack_locked().free(*handle);
        return pinned;
    }
    const IpAddr at = IpAddr(op.host_addr).align_down(kPageSize);
    if (!host.map_foreign(caller.id(), at, page, readonly)) {
        granter->unpin_locked(op.ref, readonly);
        caller.maptrack_locked().free(*handle);
        return GrantStatus::general_error;
    }
    MapEntry* e = caller.maptrack_locked().at(*handle);
    e->ref = op.ref;
    e->granter = granter->id().raw();
    e->readonly = readonly;
    e->ipa = at.raw();
    e->state = MapEntry::State::Mapped;

    op.handle = *handle;
    op.dev_bus_addr = page.pa.raw();
    return GrantStatus::okay;
}

GrantStatus unmap_one(GrantHost& host, GrantDomain& caller, const gnttab_unmap_grant_ref_t& op,
                      DomainId& drained)
{
    std::uint16_t granter_id;
    {
        LockGuard g(caller.lock());
        MapEntry* e = caller.maptrack_locked().at(op.handle);
        if (e == nullptr || e->state == MapEntry::State::Free) return GrantStatus::bad_handle;
        if (e->state == MapEntry::State::Orphaned) {
            // The granter is gone and its page was unmapped when it was revoked;
            // what is left is the caller's bookkeeping.
            if (op.host_addr == 0) return GrantStatus::okay;
            if (IpAddr(op.host_addr).align_down(kPageSize).raw() != e->ipa) return GrantStatus::general_error;
            caller.maptrack_locked().free(op.handle);
            return GrantStatus::okay;
        }
        granter_id = e->granter;
    }

    GrantDomain* granter = host.lookup(DomainId(granter_id));
    if (granter == nullptr) return GrantStatus::general_error;  // a mapped grant's granter outlives the mapping

    PairLock locks(caller, *granter);
    // Re-check under both locks: another CPU may have unmapped or revoked meanwhile.
    MapEntry* e = caller.maptrack_locked().at(op.handle);
    if (e->state != MapEntry::State::Mapped || e->granter != granter_id) return GrantStatus::bad_handle;
    const ActiveEntry& act = granter->active_locked(e->ref);
    if (op.dev_bus_addr != 0 && op.dev_bus_addr != act.page.pa.raw()) return GrantStatus::general_error;
    // Xen skips the host mapping when host_addr is 0; the handle stays mapped.
    if (op.host_addr == 0) return GrantStatus::okay;
    const IpAddr at = IpAddr(op.host_addr).align_down(kPageSize);
    // Xen checks the mapper's p2m holds the granted page there; Keel checks the
    // address recorded at map time, so one handle can never unmap another's page.
    if (at.raw() != e->ipa) return GrantStatus::general_error;
    if (!host.unmap_foreign(caller.id(), at, act.page)) return GrantStatus::general_error;
    granter->unpin_locked(e->ref, e->readonly != 0);
    caller.maptrack_locked().free(op.handle);
    if (granter->drained_locked()) drained = granter->id();
    return GrantStatus::okay;
}

} // namespace

void map_grant_ref(GrantHost& host, GrantDomain& caller, gnttab_map_grant_ref_t& op)
{
    op.status = raw(map_one(host, caller, op));
}

void unmap_grant_ref(GrantHost& host, GrantDomain& caller, gnttab_unmap_grant_ref_t& op)
{
    // Set when the granter was dying and this was the last use of its grants.
    DomainId drained(kDomidSelf);
    op.status = raw(unmap_one(host, caller, op, drained));
    if (drained != DomainId(kDomidSelf)) host.grants_drained(drained);
}

} // namespace keel::gnttab
