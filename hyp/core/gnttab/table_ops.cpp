// GNTTABOP_setup_table, query_size, set_version, get_version: questions about a
// table rather than about one grant.
#include "gnttab/abi.hpp"
#include "gnttab/domain_lookup.hpp"
#include "gnttab/ops.hpp"

namespace keel::gnttab {

namespace {

// The domain an operation of this kind names, with Xen's XSM_TARGET rule:
// itself always, any other only if the caller controls it.
GrantStatus target_domain(GrantHost& host, GrantDomain& caller, std::uint16_t domid, GrantDomain*& out)
{
    out = live_domain_or_self(host, caller, domid);
    if (out == nullptr) return GrantStatus::bad_domain;
    if (out != &caller && !host.may_control(caller.id(), out->id())) return GrantStatus::permission_denied;
    return GrantStatus::okay;
}

GrantStatus setup_one(GrantHost& host, GrantDomain& caller, const gnttab_setup_table_t& op, FrameList& frames)
{
    GrantDomain* d;
    const GrantStatus s = target_domain(host, caller, op.dom, d);
    if (s != GrantStatus::okay) return s;
    LockGuard g(d->lock());
    if (op.nr_frames > d->max_frames()) return GrantStatus::general_error;
    if (!d->grow_locked(host, op.nr_frames)) return GrantStatus::general_error;
    for (unsigned i = 0; i < op.nr_frames; ++i) frames[i] = d->frame_gfn_locked(i);
    return GrantStatus::okay;
}

} // namespace

void setup_table(GrantHost& host, GrantDomain& caller, gnttab_setup_table_t& op, FrameList& frames)
{
    op.status = raw(setup_one(host, caller, op, frames));
}

void query_size(GrantHost& host, GrantDomain& caller, gnttab_query_size_t& op)
{
    GrantDomain* d;
    const GrantStatus s = target_domain(host, caller, op.dom, d);
    if (s == GrantStatus::okay) {
        LockGuard g(d->lock());
        op.nr_frames = d->nr_frames_locked();
        op.max_nr_frames = d->max_frames();
    }
    op.status = raw(s);
}

Status set_version(GrantDomain&, gnttab_set_version_t& op)
{
    const std::uint32_t asked = op.version;
    // Whatever happens, the guest reads back the version in force.
    op.version = 1;
    if (asked == 1) return {};
    // Xen with gnttab_max_version=1 behaves "as before set_version was introduced".
    if (asked == 2) return Err(Errno::XEN_ENOSYS);
    return Err(Errno::XEN_EINVAL);
}

GrantStatus swap_grant_ref(GrantDomain& caller, grant_ref_t a, grant_ref_t b)
{
    LockGuard g(caller.lock());
    if (a >= caller.nr_entries_locked() || b >= caller.nr_entries_locked()) return GrantStatus::bad_gntref;
    if (a == b) return GrantStatus::okay;
    if (caller.active_locked(a).pinned() || caller.active_locked(b).pinned()) return GrantStatus::eagain;
    caller.shared_locked(a).exchange(caller.shared_locked(b));
    return GrantStatus::okay;
}

Status get_version(GrantHost& host, GrantDomain& caller, gnttab_get_version_t& op)
{
    GrantDomain* d = live_domain_or_self(host, caller, op.dom);
    if (d == nullptr) return Err(Errno::XEN_ESRCH);
    if (d != &caller && !host.may_control(caller.id(), d->id())) return Err(Errno::XEN_EPERM);
    op.version = 1;
    return {};
}

} // namespace keel::gnttab
