// What every hypercall handler is given: the calling vCPU, its domain, the CPU
// it runs on, and its memory as seen through its stage-2.
#pragma once

#include "domain.hpp"
#include "pcpu.hpp"
#include "guest_memory_access.hpp"

#include <keel/errno.hpp>

namespace keel::arch {

struct HypercallContext {
    Pcpu& cpu;
    Vcpu& vcpu;
    Domain& dom;
    CurrentGuestMemory& mem;
};

constexpr long xen_err(Errno e) { return -static_cast<long>(e); }
inline long xen_ret(Status s) { return s.ok() ? 0 : s.as_xen_ret(); }

// One handler per hypercall family (hc_*.cpp). Arguments are the guest's x0-x4.
long hc_console_io(HypercallContext& c, std::uint64_t cmd, std::uint64_t count, IpAddr buf);
long hc_sched_op(HypercallContext& c, std::uint64_t cmd, IpAddr arg);
long hc_vcpu_op(HypercallContext& c, std::uint64_t cmd, std::uint64_t vcpuid, IpAddr arg);
long hc_hvm_op(HypercallContext& c, std::uint64_t cmd, IpAddr arg);
long hc_memory_op(HypercallContext& c, std::uint64_t cmd, IpAddr arg);
long hc_event_channel_op(HypercallContext& c, std::uint64_t cmd, IpAddr arg);
long hc_grant_table_op(HypercallContext& c, std::uint64_t cmd, IpAddr arg, std::uint64_t count);
long hc_domctl(HypercallContext& c, IpAddr arg);

// Grant-table frames in the physmap (hc_grant_table.cpp).
long grant_table_add_to_physmap(Domain& d, std::uint64_t idx, std::uint64_t gfn);
void grant_table_forget_frame(Domain& d, std::uint64_t gfn);

// Per-vCPU Xen state (vcpu_xen_state.cpp).
long vcpu_register_vcpu_info(Domain& d, Vcpu& v, std::uint64_t gfn, std::uint32_t offset);
void vcpu_update_runstate(Vcpu& v, xen::GuestMemory& mem);

// The dispatcher itself, also used for each multicall entry.
long do_hypercall(HypercallContext& c, std::uint64_t nr, const std::uint64_t (&args)[5], bool in_multicall);

} // namespace keel::arch
