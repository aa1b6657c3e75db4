// Per-physical-CPU record. TPIDR_EL2 points at this CPU's record; its first word
// is the frame of the vCPU it is running (the vectors save into it).
#pragma once

#include "sched/run_queue.hpp"
#include "vcpu.hpp"

#include <cstdint>

namespace keel::arch {

inline constexpr unsigned kMaxCpus = 8;

struct Pcpu {
    GuestFrame* frame = nullptr;  // must stay first (vectors.S)
    Vcpu* current = nullptr;      // whose state is loaded in the hardware, if any
    unsigned index = 0;
    sched::RunQueue rq;
    std::uint64_t slice_end = 0;
    bool online = false;
};

extern Pcpu pcpus[kMaxCpus];
extern unsigned nr_pcpus;

inline Pcpu& this_cpu()
{
    std::uint64_t p;
    asm volatile("mrs %0, tpidr_el2" : "=r"(p));
    return *reinterpret_cast<Pcpu*>(p);
}

} // namespace keel::arch
