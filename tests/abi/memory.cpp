// memory_op: the reservation queries, add_to_physmap for shared_info and the
// grant-table frames, decrease_reservation/populate_physmap, remove_from_physmap.
#include "check.hpp"
#include "env.hpp"
#include "hypercall.hpp"
#include "xen_layout.h"

#include <keel/guest/device_tree.hpp>
#include <xen/memory.h>
#include <xen/xen.h>

namespace abi {
namespace {

// RAM pages of our own, given away to the hypervisor by these checks: the one
// shared_info replaces and the one decrease_reservation returns. Never touched
// as plain memory afterwards.
alignas(kPage) std::uint8_t g_shared_info_page[kPage];
alignas(kPage) std::uint8_t g_released_page[kPage];

std::uint64_t gfn_of(const void* p) { return reinterpret_cast<std::uintptr_t>(p) / kPage; }

long memory_op(unsigned cmd, void* a) { return hypercall(__HYPERVISOR_memory_op, cmd, arg(a)); }

long add_to_physmap(unsigned space, std::uint64_t idx, std::uint64_t gfn, std::uint16_t domid = kDomidSelf)
{
    xen_add_to_physmap_t a{};
    a.domid = domid;
    a.space = space;
    a.idx = idx;
    a.gpfn = gfn;
    return memory_op(XENMEM_add_to_physmap, &a);
}

long remove_from_physmap(std::uint64_t gfn, std::uint16_t domid = kDomidSelf)
{
    xen_remove_from_physmap_t r{};
    r.domid = domid;
    r.gpfn = gfn;
    return memory_op(XENMEM_remove_from_physmap, &r);
}

long reservation(unsigned cmd, xen_pfn_t* frames, std::uint64_t count, unsigned order = 0,
                 std::uint16_t domid = kDomidSelf)
{
    xen_memory_reservation_t r{};
    set_xen_guest_handle(r.extent_start, frames);
    r.nr_extents = count;
    r.extent_order = order;
    r.domid = domid;
    return memory_op(cmd, &r);
}

} // namespace

void check_memory(Env& env)
{
    const char* area = "memory_op";
    domid_t self = kDomidSelf;
    const long current = memory_op(XENMEM_current_reservation, &self);
    const std::uint64_t ram_pages = keel::guest::dt::memory_size(env.fdt) / kPage;
    check(area, "current_reservation", "%s", current > 0 ? "> 0" : rc(current));
    check(area, "current_reservation == RAM pages in the DT", "%s",
          yes_no(static_cast<std::uint64_t>(current) == ram_pages));
    const long maximum = memory_op(XENMEM_maximum_reservation, &self);
    check(area, "maximum_reservation >= current", "%s", yes_no(maximum >= current));
    domid_t nobody = kNoSuchDomain;
    check(area, "current_reservation bad domid", "%s", rc(memory_op(XENMEM_current_reservation, &nobody)));
    check(area, "maximum_reservation bad domid", "%s", rc(memory_op(XENMEM_maximum_reservation, &nobody)));
    check(area, "current_reservation bad pointer", "%s",
          rc(hypercall(__HYPERVISOR_memory_op, XENMEM_current_reservation, kBadPointer)));
    check(area, "unknown command 99", "%s", rc(memory_op(99, &self)));

    // shared_info over one of our RAM pages, as Linux does.
    check(area, "add_to_physmap shared_info idx 0", "%s",
          rc(add_to_physmap(XENMAPSPACE_shared_info, 0, gfn_of(g_shared_info_page))));
    env.shared_info = g_shared_info_page;
    check(area, "add_to_physmap shared_info idx 1", "%s",
          rc(add_to_physmap(XENMAPSPACE_shared_info, 1, gfn_of(g_released_page))));
    check(area, "add_to_physmap bad domid", "%s",
          rc(add_to_physmap(XENMAPSPACE_shared_info, 0, gfn_of(g_shared_info_page), kNoSuchDomain)));
    check(area, "add_to_physmap unknown space 99", "%s", rc(add_to_physmap(99, 0, env.region_gfn(8))));
    check(area, "add_to_physmap bad pointer", "%s",
          rc(hypercall(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, kBadPointer)));
    void* vcpu0 = abi_shared_vcpu_info(env.shared_info, 0);
    check(area, "shared_info: vcpu 0 upcall pending", "%u", abi_vcpu_upcall_pending(vcpu0));

    // Grant-table frame 0 at the start of the hypervisor's region.
    check(area, "add_to_physmap grant_table idx 0", "%s",
          rc(add_to_physmap(XENMAPSPACE_grant_table, 0, env.region_gfn(0))));
    env.grant_frame = reinterpret_cast<void*>(env.region_gfn(0) * kPage);
    check(area, "add_to_physmap grant_table status frame (v1)", "%s",
          rc(add_to_physmap(XENMAPSPACE_grant_table, XENMAPIDX_grant_table_status, env.region_gfn(2))));
    check(area, "add_to_physmap grant_table idx 100000", "%s",
          rc(add_to_physmap(XENMAPSPACE_grant_table, 100000, env.region_gfn(2))));

    // Give one page back, then ask for it again.
    xen_pfn_t frame = gfn_of(g_released_page);
    check(area, "decrease_reservation 1 page", "%s", rc(reservation(XENMEM_decrease_reservation, &frame, 1)));
    frame = gfn_of(g_released_page);
    check(area, "decrease_reservation the same page again", "%s",
          rc(reservation(XENMEM_decrease_reservation, &frame, 1)));
    // How much it drops is the implementation's business: Xen's dom0 is direct-mapped and
    // keeps counting the page; a translated domain (any domU, Keel's dom0) drops by one.
    check(area, "current_reservation after decrease <= before", "%s",
          yes_no(memory_op(XENMEM_current_reservation, &self) <= current));
    frame = gfn_of(g_released_page);
    check(area, "populate_physmap that page", "%s", rc(reservation(XENMEM_populate_physmap, &frame, 1)));
    check(area, "populate_physmap 0 extents", "%s", rc(reservation(XENMEM_populate_physmap, &frame, 0)));
    check(area, "populate_physmap bad extent list", "%s",
          rc(reservation(XENMEM_populate_physmap, reinterpret_cast<xen_pfn_t*>(kBadPointer), 1)));
    check(area, "populate_physmap bad domid", "%s",
          rc(reservation(XENMEM_populate_physmap, &frame, 1, 0, kNoSuchDomain)));
    frame = gfn_of(g_released_page);
    check(area, "decrease_reservation order 30", "%s",
          rc(reservation(XENMEM_decrease_reservation, &frame, 1, 30)));
    check(area, "decrease_reservation bad pointer", "%s",
          rc(hypercall(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, kBadPointer)));

    check(area, "remove_from_physmap a hole", "%s", rc(remove_from_physmap(env.region_gfn(9))));
    check(area, "remove_from_physmap bad domid", "%s", rc(remove_from_physmap(env.region_gfn(9), kNoSuchDomain)));
}

void check_memory_teardown(Env& env)
{
    const char* area = "memory_op";
    check(area, "remove_from_physmap grant frame", "%s", rc(remove_from_physmap(env.region_gfn(0))));
    check(area, "remove_from_physmap grant frame again", "%s", rc(remove_from_physmap(env.region_gfn(0))));
}

} // namespace abi
