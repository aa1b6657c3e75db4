// PSCI, through the conduit the device tree's /psci `method` names ("hvc"
// under Xen and Keel, "smc" on bare metal with firmware at EL3).
#pragma once

#include <cstdint>
#include <keel/result.hpp>

namespace keel::guest::psci {

// PSCI_VERSION as (major << 16) | minor; ENODEV if the device tree has no /psci.
keel::Result<std::uint32_t> version();

// SYSTEM_OFF. If PSCI is missing or the call returns, the vCPU parks in WFI.
[[noreturn]] void system_off();

} // namespace keel::guest::psci
