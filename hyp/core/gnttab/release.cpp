#include "gnttab/release.hpp"

namespace keel::gnttab {

namespace {

// Unmaps every mapping the dying domain holds of grants (other domains' or its
// own). Locks are taken per mapping, so none is held across the whole scan.
unsigned release_own_mappings(GrantHost& host, GrantDomain& dying)
{
    unsigned done = 0;
    for (grant_handle_t h = 0;; ++h) {
        std::uint16_t granter_id;
        {
            LockGuard g(dying.lock());
            if (h >= dying.maptrack_locked().limit()) break;
            MapEntry* e = dying.maptrack_locked().at(h);
            if (e->state == MapEntry::State::Free) continue;
            if (e->state == MapEntry::State::Orphaned) {
                dying.maptrack_locked().free(h);
                continue;
            }
            granter_id = e->granter;
        }
        GrantDomain* granter = host.lookup(DomainId(granter_id));
        bool drained = false;
        if (granter == nullptr) {
            // Cannot happen while grants are accounted correctly; drop the record.
            LockGuard g(dying.lock());
            MapEntry* e = dying.maptrack_locked().at(h);
            if (e->state != MapEntry::State::Free) dying.maptrack_locked().free(h);
            continue;
        }
        {
            PairLock locks(dying, *granter);
            MapEntry* e = dying.maptrack_locked().at(h);
            // Re-check: the granter may have revoked it meanwhile.
            if (e->state == MapEntry::State::Mapped && e->granter == granter_id) {
                const HostPage page = granter->active_locked(e->ref).page;
                host.unmap_foreign(dying.id(), IpAddr(e->ipa), page);
                granter->unpin_locked(e->ref, e->readonly != 0);
                ++done;
            }
            if (e->state != MapEntry::State::Free) dying.maptrack_locked().free(h);
            drained = granter != &dying && granter->drained_locked();
        }
        if (drained) host.grants_drained(DomainId(granter_id));
    }
    return done;
}

// Takes back every pin other domains hold on the dying domain's grants, one
// mapper at a time: a pinned entry names its holder, whose maptrack is then
// scanned once for all of its mappings of this domain.
unsigned revoke_all(GrantHost& host, GrantDomain& dying)
{
    unsigned revoked = 0;
    for (;;) {
        // Find a grant someone still holds, and who.
        std::uint16_t mapper_id = 0;
        grant_ref_t ref = 0;
        bool found = false;
        {
            LockGuard g(dying.lock());
            for (; ref < dying.nr_entries_locked(); ++ref) {
                const ActiveEntry& act = dying.active_locked(ref);
                if (act.pinned()) {
                    mapper_id = act.domid;
                    found = true;
                    break;
                }
            }
        }
        if (!found) break;
        GrantDomain* mapper = host.lookup(DomainId(mapper_id));
        if (mapper == nullptr || mapper == &dying) {
            LockGuard g(dying.lock());
            dying.force_unpin_locked(ref);
            continue;
        }
        PairLock locks(dying, *mapper);
        // One pass over the mapper's handles drops every pin it holds on this domain.
        Maptrack& mt = mapper->maptrack_locked();
        for (grant_handle_t h = 0; h < mt.limit(); ++h) {
            MapEntry* e = mt.at(h);
            if (e->state != MapEntry::State::Mapped || e->granter != dying.id().raw()) continue;
            const HostPage page = dying.active_locked(e->ref).page;
            host.unmap_foreign(mapper->id(), IpAddr(e->ipa), page);
            dying.unpin_locked(e->ref, e->readonly != 0);
            e->state = MapEntry::State::Orphaned;
            ++revoked;
        }
        // Pins the maptrack did not explain would stop the loop from finishing.
        if (dying.active_locked(ref).pinned() && dying.active_locked(ref).domid == mapper_id)
            dying.force_unpin_locked(ref);
    }
    return revoked;
}

} // namespace

unsigned revoke_foreign_mappings(GrantHost& host, GrantDomain& dying)
{
    {
        LockGuard g(dying.lock());
        if (dying.live_locked()) return 0;  // only a dying domain's grants are taken back
    }
    const unsigned revoked = revoke_all(host, dying);
    bool drained;
    {
        LockGuard g(dying.lock());
        drained = revoked != 0 && dying.drained_locked();
    }
    if (drained) host.grants_drained(dying.id());
    return revoked;
}

ReleaseSummary release_domain(GrantHost& host, GrantDomain& dying, ForeignMappings foreign)
{
    {
        LockGuard g(dying.lock());
        dying.set_dying_locked();
    }
    ReleaseSummary sum;
    sum.own_unmapped = release_own_mappings(host, dying);
    if (foreign == ForeignMappings::Revoke) sum.foreign_revoked = revoke_all(host, dying);
    LockGuard g(dying.lock());
    dying.set_released_locked();
    sum.still_pinned = dying.pinned_entries_locked();
    return sum;
}

} // namespace keel::gnttab
