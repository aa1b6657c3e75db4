// What the grant-table core needs from the rest of the hypervisor: domains by
// id, pages for the tables, a domain's own RAM, and the mapper's stage-2. The
// arch glue implements it; unit tests implement it with host memory.
#pragma once

#include <keel/result.hpp>
#include <keel/strong.hpp>

#include <cstdint>

namespace keel::gnttab {

class GrantDomain;

// One page as the hypervisor reaches it: its physical address (what stage-2
// maps, what Xen reports as dev_bus_addr) and where the hypervisor can read it.
struct HostPage {
    PhysAddr pa;
    void* ptr = nullptr;
};

class GrantHost {
public:
    // The grant table of `dom` from GrantDomain::activate() until GrantDomain::destroy(),
    // dying domains included (the core checks their state). nullptr for anything else.
    // The object must stay valid while any CPU may still be inside a grant operation.
    virtual GrantDomain* lookup(DomainId dom) = 0;

    // One zero-filled page for table frames, active entries or maptrack.
    virtual Result<HostPage> alloc_page() = 0;
    virtual void free_page(HostPage page) = 0;

    // A page of `owner`'s own RAM by guest frame number. False for anything else:
    // MMIO, grant-table frames, pages it has mapped from another domain, holes.
    virtual bool ram_page(DomainId owner, std::uint64_t gfn, bool writable, HostPage& out) = 0;

    // Stage-2 of the mapper: map `page` at IPA `at` (page-aligned) read-only or
    // read-write, not executable. Should fail if `at` is not a hole the mapper may
    // fill (its own RAM, MMIO, the grant-table window, an existing mapping).
    virtual bool map_foreign(DomainId mapper, IpAddr at, HostPage page, bool readonly) = 0;
    // Undo map_foreign. Fails if `at` does not map `page` in the mapper.
    virtual bool unmap_foreign(DomainId mapper, IpAddr at, HostPage page) = 0;

    // XSM hook for map (granter, mapper) and copy (source domain, destination
    // domain). Xen's dummy policy allows everything; Debian's default SILO policy
    // refuses grants between two unprivileged domains. Keel allows domU<->domU.
    virtual bool may_grant(DomainId from, DomainId to) = 0;
    // XSM_TARGET for setup_table/query_size/get_version on another domain:
    // Xen allows it only to a privileged (control) domain.
    virtual bool may_control(DomainId caller, DomainId target) = 0;

    // A dying domain's grants are no longer mapped or pinned by anyone: its RAM
    // and its grant table may now be freed (GrantDomain::destroy). Called with no
    // grant lock held.
    virtual void grants_drained(DomainId dom) = 0;

protected:
    ~GrantHost() = default;
};

} // namespace keel::gnttab
