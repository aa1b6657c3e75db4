#pragma once

#include "vcpu.hpp"

#include <cstdint>

namespace keel::arch {

// A trapped MSR/MRS (EC 0x18): the few Keel emulates, undefined for the rest.
void trap_sysreg(Vcpu& v, std::uint64_t esr);

} // namespace keel::arch
