// Exceptions Keel delivers to the running guest when it does something the
// hypervisor will not do for it. Each is a named operation, as in Hafnium.
#pragma once

#include "vcpu.hpp"

#include <cstdint>

namespace keel::arch {

// Undefined instruction (EC 0x00) at the guest's current PC.
void inject_undef(Vcpu& v);
// Abort on a data access to `va` (EC 0x24/0x25), as Xen injects it.
void inject_data_abort(Vcpu& v, std::uint64_t va, bool write);
// Abort on instruction fetch from `va` (EC 0x20/0x21), as Xen injects it.
void inject_instruction_abort(Vcpu& v, std::uint64_t va);
// The trapped instruction is done: step over it.
void skip_instruction(Vcpu& v, std::uint64_t esr);

} // namespace keel::arch
