// GNTTABOP_copy: the hypervisor copies between a grant and the caller's own
// memory (or two grants), so neither side has to map the other's page.
#include "gnttab/abi.hpp"
#include "gnttab/domain_lookup.hpp"
#include "gnttab/ops.hpp"

namespace keel::gnttab {

namespace {

// One end of a copy: a grant of `dom` to the caller, or a frame of the caller's RAM.
struct CopyEnd {
    GrantDomain* dom = nullptr;
    bool is_gref = false;
    bool readonly = false;  // the source is only read
    grant_ref_t ref = 0;
    std::uint64_t gmfn = 0;
    HostPage page;
    bool pinned = false;
};

GrantStatus find_domain(GrantHost& host, GrantDomain& caller, const gnttab_copy::gnttab_copy_ptr& p, CopyEnd& end)
{
    // Only the caller's own frames may be named by frame number, and only as DOMID_SELF.
    if (!end.is_gref && p.domid != kDomidSelf) return GrantStatus::permission_denied;
    end.dom = live_domain_or_self(host, caller, p.domid);
    if (end.dom == nullptr) return GrantStatus::bad_domain;
    if (end.is_gref) end.ref = p.u.ref;
    else end.gmfn = p.u.gmfn;
    return GrantStatus::okay;
}

// Takes the page of one end: for a grant, a pin that keeps GTF_reading/GTF_writing
// set in the granter's entry for the duration of the copy.
GrantStatus claim(GrantHost& host, GrantDomain& caller, CopyEnd& end)
{
    if (end.is_gref) {
        const GrantStatus s = end.dom->pin_locked(host, end.ref, caller.id().raw(), end.readonly, false, end.page);
        end.pinned = s == GrantStatus::okay;
        return s;
    }
    return host.ram_page(caller.id(), end.gmfn, !end.readonly, end.page) ? GrantStatus::okay : GrantStatus::bad_page;
}

void release(CopyEnd& end)
{
    if (end.pinned) end.dom->unpin_locked(end.ref, end.readonly);
    end.pinned = false;
}

GrantStatus copy_one(GrantHost& host, GrantDomain& caller, const gnttab_copy_t& op)
{
    CopyEnd src, dst;
    src.is_gref = (op.flags & GNTCOPY_source_gref) != 0;
    src.readonly = true;
    dst.is_gref = (op.flags & GNTCOPY_dest_gref) != 0;
    GrantStatus s = find_domain(host, caller, op.source, src);
    if (s != GrantStatus::okay) return s;
    s = find_domain(host, caller, op.dest, dst);
    if (s != GrantStatus::okay) return s;
    if (!host.may_grant(src.dom->id(), dst.dom->id())) return GrantStatus::permission_denied;

    PairLock locks(*src.dom, *dst.dom);
    if (!src.dom->live_locked() || !dst.dom->live_locked()) return GrantStatus::bad_domain;
    if ((s = claim(host, caller, src)) != GrantStatus::okay) return s;
    if ((s = claim(host, caller, dst)) != GrantStatus::okay) {
        release(src);
        return s;
    }
    // Checked after both ends are claimed, so a bad grant reports as such first (as Xen).
    if (op.source.offset + op.len > kPageSize || op.dest.offset + op.len > kPageSize) {
        release(dst);
        release(src);
        return GrantStatus::bad_copy_arg;
    }
    // Both ends may be the same page; the grant locks keep the granters' pages
    // from being revoked or freed until the copy is done.
    __builtin_memmove(static_cast<std::uint8_t*>(dst.page.ptr) + op.dest.offset,
                      static_cast<const std::uint8_t*>(src.page.ptr) + op.source.offset, op.len);
    release(dst);
    release(src);
    return GrantStatus::okay;
}

} // namespace

void copy(GrantHost& host, GrantDomain& caller, gnttab_copy_t& op)
{
    op.status = raw(copy_one(host, caller, op));
}

} // namespace keel::gnttab
