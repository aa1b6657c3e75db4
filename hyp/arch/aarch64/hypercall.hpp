#pragma once

#include "vcpu.hpp"

namespace keel::arch {

// HVC #0xEA1: number in x16, arguments x0-x4, result in x0. Other registers are preserved.
void hypercall(Vcpu& v);

} // namespace keel::arch
