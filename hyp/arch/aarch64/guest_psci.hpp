#pragma once

#include "vcpu.hpp"

namespace keel::arch {

// A PSCI/SMCCC call from the vCPU (function in x0, arguments x1-x3, result to x0).
void guest_psci_call(Vcpu& v);

} // namespace keel::arch
