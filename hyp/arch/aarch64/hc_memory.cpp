// HYPERVISOR_memory_op: the physmap changes an auto-translated Arm guest makes.
// A domain's RAM is one contiguous block mapped at 0x40000000; ballooning
// (decrease_reservation) unmaps pages of it and populate_physmap maps them
// back (for a domain the control domain builds, populate_physmap is how its
// RAM appears at all). add_to_physmap places hypervisor pages (shared_info,
// grant frames); add_to_physmap_batch with XENMAPSPACE_gmfn_foreign lets the
// control domain map another domain's RAM pages. As on Xen, the reservation
// calls answer with the number of extents done, never an errno.
#include "hypercall_context.hpp"

#include "mm/stage2_format.hpp"

#include <xen/memory.h>

namespace keel::arch {

Spinlock foreign_map_lock;

namespace {
constexpr std::uint64_t kRamBaseGfn = guest_layout::kRam0.raw() >> kPageShift;

bool is_self(const Domain& d, domid_t id) { return id == DOMID_SELF || id == d.id; }

// The domain a reservation or query names: the caller, or any live domain for the
// control domain. nullptr if there is none it may act on.
Domain* target_of(Domain& caller, domid_t id)
{
    if (is_self(caller, id)) return &caller;
    if (!caller.privileged) return nullptr;
    return domain_by_id(DomainId(id), false);
}

// The RAM page that backs `gfn` when it is mapped as RAM, if `gfn` is in the RAM block.
Result<PhysAddr> ram_backing(const Domain& d, std::uint64_t gfn)
{
    const std::uint64_t ram_pages = d.ram_size >> kPageShift;
    if (gfn < kRamBaseGfn || gfn - kRamBaseGfn >= ram_pages) return Err(Errno::XEN_EINVAL);
    return d.ram_pa + ((gfn - kRamBaseGfn) << kPageShift);
}

long reservation(HypercallContext& c, std::uint64_t cmd, IpAddr arg)
{
    xen_memory_reservation_t r;
    if (!c.mem.read_obj(arg, r).ok()) return 0;
    Domain* target = target_of(c.dom, r.domid);
    if (!target || r.extent_order != 0) return 0;
    Domain& d = *target;
    LockGuard g(d.p2m_lock);
    long done = 0;
    for (; static_cast<xen_ulong_t>(done) < r.nr_extents; ++done) {
        xen_pfn_t gfn;
        if (!c.mem.read_obj(IpAddr(r.extent_start.q + done * sizeof gfn), gfn).ok()) break;
        auto backing = ram_backing(d, gfn);
        if (!backing) break;
        const IpAddr at(gfn << kPageShift);
        auto now = d.s2.translate(at);
        if (cmd == XENMEM_decrease_reservation) {
            if (!now || now->pa != *backing) break;  // not a RAM page of ours right now
            if (!d.s2.unmap(at, kPageSize).ok()) break;
            ++d.ballooned_pages;
        } else {
            if (now.ok()) break;  // something is mapped there already
            if ((d.ram_size >> kPageShift) - d.ballooned_pages >= d.max_pages) break;  // XEN_DOMCTL_max_mem
            if (!d.s2.map(at, *backing, kPageSize, mm::MemType::Normal, {}).ok()) break;
            --d.ballooned_pages;
        }
    }
    if (cmd == XENMEM_decrease_reservation && done > 0) domain_flush_tlb(d);
    return done;
}

long add_to_physmap(HypercallContext& c, IpAddr arg)
{
    xen_add_to_physmap_t x;
    if (Status s = c.mem.read_obj(arg, x); !s) return s.as_xen_ret();
    if (!is_self(c.dom, x.domid)) return xen_err(Errno::XEN_ESRCH);
    switch (x.space) {
    case XENMAPSPACE_shared_info:
        if (x.idx != 0) return xen_err(Errno::XEN_EINVAL);
        return xen_ret(domain_map_page(c.dom, x.gpfn, c.dom.shared_info, &c.dom.shared_info_gfn));
    case XENMAPSPACE_grant_table: return grant_table_add_to_physmap(c.dom, x.idx, x.gpfn);
    default: return xen_err(Errno::XEN_ENOSYS);
    }
}

ForeignMap* foreign_slot(Domain& d, std::uint64_t gfn)
{
    for (ForeignMap& f : d.foreign)
        if (f.gfn == gfn) return &f;
    return nullptr;
}

// One page of `owner`'s RAM (its frame `idx`) at `gfn` in the caller's physmap:
// Xen's per-entry answer.
int map_foreign_page(Domain& caller, Domain* owner, std::uint64_t idx, std::uint64_t gfn)
{
    if (!owner) return static_cast<int>(xen_err(Errno::XEN_ESRCH));
    if (owner == &caller) return static_cast<int>(xen_err(Errno::XEN_EINVAL));
    PhysAddr page;
    {
        LockGuard g(owner->p2m_lock);
        auto backing = ram_backing(*owner, idx);
        auto now = owner->s2.translate(IpAddr(idx << kPageShift));
        // Only a populated page of the owner's own RAM, never what it maps itself.
        if (!backing || !now || now->pa != *backing) return static_cast<int>(xen_err(Errno::XEN_EINVAL));
        page = *backing;
    }
    const IpAddr at(gfn << kPageShift);
    if (gfn >= (1ull << (mm::s2::kIpaBits - kPageShift))) return static_cast<int>(xen_err(Errno::XEN_EINVAL));
    LockGuard g(caller.p2m_lock);
    ForeignMap* slot = foreign_slot(caller, gfn);
    if (!slot) {
        // Into a hole only (Linux maps foreign pages into ballooned-out or unused space).
        if (caller.s2.translate(at).ok()) return static_cast<int>(xen_err(Errno::XEN_EBUSY));
        slot = foreign_slot(caller, ~0ull);
        if (!slot) return static_cast<int>(xen_err(Errno::XEN_ENOMEM));
    } else {
        (void)caller.s2.unmap(at, kPageSize);  // replacing an earlier foreign page
        domain_flush_tlb(caller);
    }
    if (Status s = caller.s2.map(at, page, kPageSize, mm::MemType::Normal, {true, true, false}); !s) {
        *slot = ForeignMap{};
        return static_cast<int>(s.as_xen_ret());
    }
    *slot = ForeignMap{gfn, owner->id};
    return 0;
}

long add_to_physmap_batch(HypercallContext& c, IpAddr arg)
{
    xen_add_to_physmap_batch_t b;
    if (Status s = c.mem.read_obj(arg, b); !s) return s.as_xen_ret();
    if (!is_self(c.dom, b.domid)) return xen_err(domain_by_id(DomainId(b.domid), false) ? Errno::XEN_EPERM : Errno::XEN_ESRCH);
    if (b.space != XENMAPSPACE_gmfn_foreign) return xen_err(Errno::XEN_ENOSYS);  // Linux batches only foreign pages
    for (unsigned i = 0; i < b.size; ++i) {
        xen_ulong_t idx;
        xen_pfn_t gfn;
        if (Status s = c.mem.read_obj(IpAddr(b.idxs.q + i * sizeof idx), idx); !s) return s.as_xen_ret();
        if (Status s = c.mem.read_obj(IpAddr(b.gpfns.q + i * sizeof gfn), gfn); !s) return s.as_xen_ret();
        int err;
        if (!c.dom.privileged) {
            err = static_cast<int>(xen_err(Errno::XEN_EPERM));
        } else {
            LockGuard g(foreign_map_lock);
            err = map_foreign_page(c.dom, domain_by_id(DomainId(b.u.foreign_domid), false), idx, gfn);
        }
        if (Status s = c.mem.write_obj(IpAddr(b.errs.q + i * sizeof err), err); !s) return s.as_xen_ret();
    }
    return 0;
}

long remove_from_physmap(HypercallContext& c, IpAddr arg)
{
    xen_remove_from_physmap_t x;
    if (Status s = c.mem.read_obj(arg, x); !s) return s.as_xen_ret();
    if (!is_self(c.dom, x.domid)) return xen_err(Errno::XEN_ESRCH);
    Domain& d = c.dom;
    const IpAddr at(x.gpfn << kPageShift);
    LockGuard g(d.p2m_lock);
    auto now = d.s2.translate(at);
    if (!now || now->type != mm::MemType::Normal) return xen_err(Errno::XEN_ENOENT);
    if (Status s = d.s2.unmap(at, kPageSize); !s) return s.as_xen_ret();
    domain_flush_tlb(d);
    if (x.gpfn == d.shared_info_gfn) {
        d.shared_info_gfn = ~0ull;
    } else if (auto b = ram_backing(d, x.gpfn); b && *b == now->pa) {
        ++d.ballooned_pages;
    } else if (ForeignMap* f = foreign_slot(d, x.gpfn)) {
        *f = ForeignMap{};
    } else {
        grant_table_forget_frame(d, x.gpfn);
    }
    return 0;
}
} // namespace

long hc_memory_op(HypercallContext& c, std::uint64_t cmd, IpAddr arg)
{
    switch (cmd) {
    case XENMEM_current_reservation:
    case XENMEM_maximum_reservation: {
        domid_t dom;
        if (Status s = c.mem.read_obj(arg, dom); !s) return s.as_xen_ret();
        const Domain* d = target_of(c.dom, dom);
        if (!d) return xen_err(Errno::XEN_ESRCH);
        const long total = static_cast<long>(d->ram_size >> kPageShift);
        return cmd == XENMEM_current_reservation ? total - static_cast<long>(d->ballooned_pages)
                                                 : static_cast<long>(d->max_pages);
    }
    case XENMEM_decrease_reservation:
    case XENMEM_populate_physmap: return reservation(c, cmd, arg);
    case XENMEM_add_to_physmap: return add_to_physmap(c, arg);
    case XENMEM_remove_from_physmap: return remove_from_physmap(c, arg);
    case XENMEM_add_to_physmap_batch: return add_to_physmap_batch(c, arg);
    default: return xen_err(Errno::XEN_ENOSYS);
    }
}

} // namespace keel::arch
