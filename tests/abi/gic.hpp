// Just enough GICv3 to see the event-channel upcall arrive: one PPI enabled
// at the distributor/redistributor, the CPU interface opened through the ICC
// system registers. IRQs stay masked at the PE (PSTATE.I): the test polls
// ISR_EL1 and acknowledges with ICC_IAR1_EL1 instead of taking an exception.
#pragma once

#include <cstdint>
#include <keel/result.hpp>

namespace abi::gic {

// The first `arm,gic-v3` node's distributor and first redistributor (vCPU 0's).
keel::Status init(const void* fdt, unsigned ppi);

// Group 1 at the CPU interface on or off (ICC_IGRPEN1_EL1).
void set_group1(bool enabled);

// Waits (bounded) for an IRQ pending at the PE; acknowledges it and returns
// its INTID, or 1023 when none came.
unsigned wait_and_ack(unsigned spins);
void end_of_interrupt(unsigned intid);

// Acknowledge and complete everything pending (stale upcalls from earlier checks).
void drain();

} // namespace abi::gic
