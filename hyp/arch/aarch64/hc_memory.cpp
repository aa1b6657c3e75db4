// HYPERVISOR_memory_op: the physmap changes an auto-translated Arm guest makes.
// A domain's RAM is one contiguous block mapped at 0x40000000; ballooning
// (decrease_reservation) unmaps pages of it and populate_physmap maps them
// back. add_to_physmap places hypervisor pages (shared_info, grant frames).
// As on Xen, the reservation calls answer with the number of extents done,
// never an errno.
#include "hypercall_context.hpp"

#include <xen/memory.h>

namespace keel::arch {

namespace {
constexpr std::uint64_t kRamBaseGfn = guest_layout::kRam0.raw() >> kPageShift;

bool is_self(const Domain& d, domid_t id) { return id == DOMID_SELF || id == d.id; }

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
    if (!is_self(c.dom, r.domid) || r.extent_order != 0) return 0;
    Domain& d = c.dom;
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

long remove_from_physmap(HypercallContext& c, IpAddr arg)
{
    xen_remove_from_physmap_t x;
    if (Status s = c.mem.read_obj(arg, x); !s) return s.as_xen_ret();
    if (!is_self(c.dom, x.domid)) return xen_err(Errno::XEN_ESRCH);
    Domain& d = c.dom;
    const IpAddr at(x.gpfn << kPageShift);
    auto now = d.s2.translate(at);
    if (!now || now->type != mm::MemType::Normal) return xen_err(Errno::XEN_ENOENT);
    if (Status s = d.s2.unmap(at, kPageSize); !s) return s.as_xen_ret();
    domain_flush_tlb(d);
    if (x.gpfn == d.shared_info_gfn) d.shared_info_gfn = ~0ull;
    else if (auto b = ram_backing(d, x.gpfn); b && *b == now->pa) ++d.ballooned_pages;
    else grant_table_forget_frame(d, x.gpfn);
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
        if (!is_self(c.dom, dom)) return xen_err(Errno::XEN_ESRCH);
        const long total = static_cast<long>(c.dom.ram_size >> kPageShift);
        return cmd == XENMEM_current_reservation ? total - static_cast<long>(c.dom.ballooned_pages) : total;
    }
    case XENMEM_decrease_reservation:
    case XENMEM_populate_physmap: return reservation(c, cmd, arg);
    case XENMEM_add_to_physmap: return add_to_physmap(c, arg);
    case XENMEM_remove_from_physmap: return remove_from_physmap(c, arg);
    default: return xen_err(Errno::XEN_ENOSYS);
    }
}

} // namespace keel::arch
