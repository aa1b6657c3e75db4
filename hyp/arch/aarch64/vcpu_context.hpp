// Moving a vCPU's state in and out of the physical CPU.
#pragma once

#include "vcpu.hpp"

namespace keel::arch {

// Architectural reset state for a vCPU about to start at `entry` (EL1h, MMU off,
// interrupts masked, x0 = `x0`), as PSCI CPU_ON and the boot protocol require.
void vcpu_reset(Vcpu& v, std::uint64_t entry, std::uint64_t x0);
// Everything but the GuestFrame (which the vectors handle) to/from the hardware.
void vcpu_save(Vcpu& v);
void vcpu_load(Vcpu& v);
// The constant EL2 trap configuration for running guests.
void el2_configure_traps();

} // namespace keel::arch
