// Grant tables: the arch-neutral core (core/gnttab) wired to Keel's domains.
// Grant frames are hypervisor pages the guest places in its physmap; a foreign
// mapping is a stage-2 entry in the mapper for a page of the granter's RAM.
#include "hypercall_context.hpp"
#include "hyp_memory.hpp"
#include "cache.hpp"

#include "gnttab/hypercall.hpp"
#include "gnttab/release.hpp"

#include <xen/memory.h>

namespace keel::arch {

namespace {

class DomainGrants final : public gnttab::GrantHost {
public:
    gnttab::GrantDomain* lookup(DomainId id) override
    {
        Domain* d = domain_by_id(id, true);
        return d ? &d->grants : nullptr;
    }
    Result<gnttab::HostPage> alloc_page() override
    {
        auto p = page_allocator().alloc(1);
        if (!p) return Err(p.error());
        zero_memory(p->raw(), kPageSize);
        return gnttab::HostPage{*p, phys_to_ptr(*p)};
    }
    void free_page(gnttab::HostPage page) override { (void)page_allocator().free(page.pa, 1); }
    bool ram_page(DomainId owner, std::uint64_t gfn, bool writable, gnttab::HostPage& out) override
    {
        Domain* d = domain_by_id(owner, true);
        if (!d) return false;
        LockGuard g(d->p2m_lock);
        auto t = d->s2.translate(IpAddr(gfn << kPageShift));
        // Only the domain's own RAM block: not grant frames, not pages it maps from others.
        if (!t || t->pa < d->ram_pa || t->pa >= d->ram_pa + d->ram_size || (writable && !t->access.write)) return false;
        out = {t->pa.align_down(kPageSize), phys_to_ptr(t->pa.align_down(kPageSize))};
        return true;
    }
    bool map_foreign(DomainId mapper, IpAddr at, gnttab::HostPage page, bool readonly) override
    {
        Domain* d = domain_by_id(mapper, true);
        if (!d || !at.aligned(kPageSize)) return false;
        LockGuard g(d->p2m_lock);
        if (d->s2.translate(at).ok()) return false;  // holes only
        return d->s2.map(at, page.pa, kPageSize, mm::MemType::Normal, {true, !readonly, false}).ok();
    }
    bool unmap_foreign(DomainId mapper, IpAddr at, gnttab::HostPage page) override
    {
        Domain* d = domain_by_id(mapper, true);
        if (!d) return false;
        LockGuard g(d->p2m_lock);
        auto t = d->s2.translate(at);
        if (!t || t->pa != page.pa) return false;
        if (!d->s2.unmap(at, kPageSize).ok()) return false;
        domain_flush_tlb(*d);
        return true;
    }
    bool may_grant(DomainId, DomainId) override { return true; }  // Keel allows domU<->domU (Xen's SILO does not)
    bool may_control(DomainId caller, DomainId target) override
    {
        Domain* c = domain_by_id(caller, true);
        return caller == target || (c && c->privileged);
    }
    void grants_drained(DomainId) override {}  // Keel revokes at death (see domain_release_grants)
};

DomainGrants host;

// gnttab's view of the calling vCPU's memory: the same guest-virtual copies.
class Buffer final : public gnttab::GuestBuffer {
public:
    explicit Buffer(xen::GuestMemory& m) : m_(m) {}
    bool read(std::uint64_t a, void* dst, std::size_t n) override { return m_.read(IpAddr(a), dst, n).ok(); }
    bool write(std::uint64_t a, const void* src, std::size_t n) override { return m_.write(IpAddr(a), src, n).ok(); }

private:
    xen::GuestMemory& m_;
};
} // namespace

gnttab::GrantHost& grant_host() { return host; }

long hc_grant_table_op(HypercallContext& c, std::uint64_t cmd, IpAddr arg, std::uint64_t count)
{
    Buffer buf(c.mem);
    gnttab::Continuation cont;
    const long r = gnttab::grant_table_op(host, c.dom.grants, buf, static_cast<std::uint32_t>(cmd), arg.raw(),
                                          static_cast<std::uint32_t>(count), cont);
    if (cont.needed) {
        // Re-execute the HVC with the remaining records, as Xen's continuations do.
        c.vcpu.frame.elr -= 4;
        c.vcpu.frame.x[1] = cont.uop;
        c.vcpu.frame.x[2] = cont.count;
        return static_cast<long>(cmd);  // x0 keeps the command
    }
    return r;
}

long grant_table_add_to_physmap(Domain& d, std::uint64_t idx, std::uint64_t gfn)
{
    if (idx & XENMAPIDX_grant_table_status) return xen_err(Errno::XEN_EINVAL);  // v1 has no status frames
    auto page = d.grants.map_frame(host, static_cast<unsigned>(idx), gfn);
    if (!page) return -static_cast<long>(page.error());
    if (Status s = domain_map_page(d, gfn, page->pa, nullptr); !s) {
        d.grants.unmap_frame_gfn(gfn);
        return s.as_xen_ret();
    }
    return 0;
}

void grant_table_forget_frame(Domain& d, std::uint64_t gfn) { (void)d.grants.unmap_frame_gfn(gfn); }

Status domain_activate_grants(Domain& d) { return d.grants.activate(host, DomainId(d.id)); }

void domain_release_grants(Domain& d)
{
    if (d.grants.state() == gnttab::GrantDomain::State::Unused) return;
    // Keel revokes other domains' mappings of a dead domain's pages at once, so its
    // memory can be returned now (Xen keeps the domain as a zombie until they unmap).
    (void)gnttab::release_domain(host, d.grants, gnttab::ForeignMappings::Revoke);
}

void domain_destroy_grants(Domain& d)
{
    if (d.grants.state() == gnttab::GrantDomain::State::Dying) (void)d.grants.destroy(host);
}

} // namespace keel::arch
