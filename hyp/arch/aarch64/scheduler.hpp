// Choosing what each physical CPU runs, and the moments around a guest's run:
// leaving (list registers back into the vGIC) and entering (the reverse).
#pragma once

#include "pcpu.hpp"

namespace keel::arch {

// Called first on every exit from a guest.
void guest_exit(Pcpu& p);
// Picks the vCPU to run next on this CPU (idling until there is one), switches
// state if it changed, presents its interrupts, and returns its frame.
GuestFrame* schedule(Pcpu& p);
// The current vCPU executed WFI: block it unless an interrupt is already deliverable.
void vcpu_block(Pcpu& p, Vcpu& v);
// Likewise, but also woken at counter value `wake_at` (0: no deadline beyond the timer's).
void vcpu_block_until(Pcpu& p, Vcpu& v, std::uint64_t wake_at);
// Something changed for `v` (interrupt, CPU_ON, shutdown): make it re-evaluate.
void vcpu_kick(Vcpu& v);
// The scheduler tick fired on this CPU.
void scheduler_tick(Pcpu& p);
// Ticks per scheduling slice (derived from CNTFRQ at boot).
void scheduler_init();
std::uint64_t vtimer_deadline(const Vcpu& v);

} // namespace keel::arch
