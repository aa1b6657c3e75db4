#include "inject.hpp"

#include "hcr_bits.hpp"
#include "sysreg.hpp"

namespace keel::arch {

namespace {

bool from_el0(const Vcpu& v) { return (v.frame.spsr & spsr::kModeMask) == 0; }

// Enters the guest's EL1 vector for a synchronous exception, as the hardware would.
// The vCPU is loaded, so its EL1 registers are the live ones.
void enter_el1_vector(Vcpu& v, std::uint64_t esr_el1, std::uint64_t far, bool set_far)
{
    const std::uint64_t mode = v.frame.spsr & spsr::kModeMask;
    std::uint64_t offset;
    if (mode == 0) offset = 0x400;         // from EL0 (AArch64): lower-EL vector
    else if (mode == 4) offset = 0x000;    // EL1t: current EL with SP_EL0
    else offset = 0x200;                   // EL1h: current EL with SP_ELx
    sysreg::elr_el1::write(v.frame.elr);
    sysreg::spsr_el1::write(v.frame.spsr);
    sysreg::esr_el1::write(esr_el1);
    if (set_far) sysreg::far_el1::write(far);
    v.frame.elr = sysreg::vbar_el1::read() + offset;
    v.frame.spsr = spsr::kDaif | spsr::kModeEl1h;
}
} // namespace

void inject_undef(Vcpu& v)
{
    enter_el1_vector(v, esr::kIlBit, 0, false);
}

// Aborts carry an empty ISS, exactly as Xen 4.17 injects them (a guest sees the same
// ESR_EL1 on both: 0x96000000 for a data abort taken from EL1).
void inject_data_abort(Vcpu& v, std::uint64_t va, bool /*write*/)
{
    const std::uint64_t ec = from_el0(v) ? 0x24 : 0x25;
    enter_el1_vector(v, ec << esr::kEcShift | esr::kIlBit, va, true);
}

void inject_instruction_abort(Vcpu& v, std::uint64_t va)
{
    const std::uint64_t ec = from_el0(v) ? 0x20 : 0x21;
    enter_el1_vector(v, ec << esr::kEcShift | esr::kIlBit, va, true);
}

void skip_instruction(Vcpu& v, std::uint64_t esr_value)
{
    v.frame.elr += (esr_value & esr::kIlBit) ? 4 : 2;
}

} // namespace keel::arch
