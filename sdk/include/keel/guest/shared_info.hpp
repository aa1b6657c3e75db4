// Placing the pages a guest shares with the hypervisor.
//
// shared_info is a hypervisor page that appears in the guest's physical map
// only where the guest asks (XENMEM_add_to_physmap, XENMAPSPACE_shared_info).
// The guest chooses a free frame for it: on real guests a frame of the region
// the hypervisor's device-tree node (`xen,xen`, reg[0]) sets aside for such
// pages, never RAM. The frame must also be mapped in the guest's stage 1
// (GuestFrame::va), as normal cacheable memory: the event protocol uses
// atomics on it.
//
// vCPU 0's vcpu_info sits inside shared_info. Every other vCPU must register
// one in its own memory (VCPUOP_register_vcpu_info) before it can receive
// events; vCPU 0 may too. Xen refuses a second registration for a vCPU.
#pragma once

#include <keel/guest/hypercalls.hpp>
#include <keel/guest/types.hpp>
#include <keel/guest/xen_abi.hpp>

namespace keel::guest {

// Asks the hypervisor to place shared_info at `frame`, and returns it as this
// guest sees it there (at frame.va). Errors: the hypervisor's (EINVAL for a
// frame it cannot use, EBUSY/EEXIST on some hypervisors for a frame in use).
Result<SharedInfo*> map_shared_info(GuestFrame frame);

// Registers `vcpu`'s vcpu_info at byte `offset` of `frame`. The record must
// not cross the page and should be 64-byte aligned (Xen only requires that it
// fit; Linux aligns it to a cache line so the hypervisor's atomics on it never
// share a line with unrelated data). EINVAL for an offset that does not fit
// or is misaligned, before asking; else the hypervisor's answer: ENOENT (no
// such vCPU), EINVAL (already registered, or the vCPU is running elsewhere).
// On success the hypervisor has copied the old contents over and flagged every
// event word pending, so the next upcall on that vCPU rescans everything.
Result<VcpuInfo*> register_vcpu_info(unsigned vcpu, GuestFrame frame, std::uint32_t offset);

} // namespace keel::guest
