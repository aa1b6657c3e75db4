// A virtual CPU: the guest's registers while it is trapped (GuestFrame, which the
// vectors fill), its EL1 system state, FP/SIMD file and virtual GIC/timer state
// while it is switched out, and the scheduler's view of it.
#pragma once

#include "gic.hpp"
#include "sched/run_queue.hpp"

#include <cstddef>
#include <cstdint>

namespace keel::arch {

struct Domain;

// Layout shared with vectors.S: x0..x30, ELR_EL2, SPSR_EL2.
struct GuestFrame {
    std::uint64_t x[31];
    std::uint64_t elr;
    std::uint64_t spsr;
};
static_assert(offsetof(GuestFrame, elr) == 31 * 8 && offsetof(GuestFrame, spsr) == 32 * 8);

// EL1/EL0 system registers a guest owns. Saved and restored on every switch.
struct El1Context {
    std::uint64_t sctlr, ttbr0, ttbr1, tcr, mair, amair, vbar, contextidr;
    std::uint64_t tpidr_el0, tpidrro_el0, tpidr_el1, sp_el0, sp_el1, elr_el1, spsr_el1;
    std::uint64_t esr, far, afsr0, afsr1, par, cpacr, csselr, cntkctl, mdscr;
    std::uint64_t cntv_ctl, cntv_cval;
};

// Layout shared with fpsimd.S: q0..q31, FPSR, FPCR.
struct alignas(16) FpState {
    unsigned __int128 q[32];
    std::uint64_t fpsr, fpcr;
};
static_assert(offsetof(FpState, fpsr) == 512);

struct Vcpu {
    GuestFrame frame;  // must stay first: the per-CPU record points at it
    El1Context el1;
    FpState fp;
    GicCpuState gic;
    sched::Entity sched;
    Domain* domain = nullptr;
    unsigned id = 0;
    unsigned pcpu = 0;
    // Xen ABI: where the guest asked for its runstate (a guest *virtual* address,
    // translated through the guest's own stage 1 when written); 0 = none.
    std::uint64_t runstate_va = 0;
    // In SCHEDOP_poll: an event on any of the domain's ports must wake it.
    bool polling = false;
};

} // namespace keel::arch
