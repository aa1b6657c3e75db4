// How grant operations find the domains an operation names.
#pragma once

#include "gnttab/abi.hpp"
#include "gnttab/grant_domain.hpp"
#include "gnttab/grant_host.hpp"

namespace keel::gnttab {

// `domid` if its table is live. DOMID_SELF is not resolved: map_grant_ref names
// the granter by number only (Xen's rcu_lock_domain_by_id).
inline GrantDomain* live_domain(GrantHost& host, std::uint16_t domid)
{
    GrantDomain* d = host.lookup(DomainId(domid));
    if (d == nullptr) return nullptr;
    LockGuard g(d->lock());
    return d->live_locked() ? d : nullptr;
}

// Like live_domain, but DOMID_SELF is the caller (Xen's rcu_lock_domain_by_any_id).
inline GrantDomain* live_domain_or_self(GrantHost& host, GrantDomain& caller, std::uint16_t domid)
{
    if (domid != kDomidSelf) return live_domain(host, domid);
    LockGuard g(caller.lock());
    return caller.live_locked() ? &caller : nullptr;
}

} // namespace keel::gnttab
