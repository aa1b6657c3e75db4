// Calls from the hypervisor to the platform firmware (PSCI over SMC or HVC as the
// host DT says; on QEMU virt with virtualization=on that is SMC).
#pragma once

#include <cstdint>

namespace keel::arch {

void firmware_init(bool use_smc);
std::int64_t firmware_cpu_on(std::uint64_t mpidr, std::uint64_t entry, std::uint64_t context);
[[noreturn]] void firmware_system_off();

} // namespace keel::arch
