#pragma once

#include "vcpu.hpp"

#include <cstdint>

namespace keel::arch {

// A stage-2 data abort: emulated device (vGIC, vpl011) or an abort for the guest.
void trap_data_abort(Vcpu& v, std::uint64_t esr);

} // namespace keel::arch
