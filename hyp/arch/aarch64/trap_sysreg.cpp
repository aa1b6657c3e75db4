#include "trap_sysreg.hpp"

#include "domain.hpp"
#include "inject.hpp"

namespace keel::arch {

namespace {
// ISS encoding of a system register (Op0, Op1, CRn, CRm, Op2), direction masked out.
constexpr std::uint32_t encode(unsigned op0, unsigned op1, unsigned crn, unsigned crm, unsigned op2)
{
    return op0 << 20 | op2 << 17 | op1 << 14 | crn << 10 | crm << 1;
}
constexpr std::uint32_t kRegMask = 0x3ffc1e;  // Op0/Op2/Op1/CRn/CRm fields of the ISS
constexpr std::uint32_t ACTLR_EL1 = encode(3, 0, 1, 0, 1);
constexpr std::uint32_t ICC_SGI1R_EL1 = encode(3, 0, 12, 11, 5);
constexpr std::uint32_t ICC_ASGI1R_EL1 = encode(3, 0, 12, 11, 6);
constexpr std::uint32_t ICC_SGI0R_EL1 = encode(3, 0, 12, 11, 7);
} // namespace

void trap_sysreg(Vcpu& v, std::uint64_t esr)
{
    const std::uint32_t iss = static_cast<std::uint32_t>(esr & 0x1ffffff);
    const bool read = iss & 1;
    const unsigned rt = (iss >> 5) & 0x1f;
    const std::uint64_t value = rt == 31 ? 0 : v.frame.x[rt];
    auto set_result = [&](std::uint64_t r) {
        if (rt != 31) v.frame.x[rt] = r;
    };

    switch (iss & kRegMask) {
    case ACTLR_EL1:
        // Implementation-defined auxiliary control: the guest sees zero and cannot change it.
        if (read) set_result(0);
        break;
    case ICC_SGI1R_EL1:
        if (read) return inject_undef(v);
        v.domain->vgic.send_sgi_v3(v.id, value);
        break;
    case ICC_ASGI1R_EL1:
    case ICC_SGI0R_EL1:
        // Group-0 / other-security-state SGIs do not exist for a guest: ignored, as on Xen.
        if (read) return inject_undef(v);
        break;
    default:
        // IMPLEMENTATION DEFINED registers (TIDCP), the physical timer and anything
        // else Keel does not emulate.
        return inject_undef(v);
    }
    skip_instruction(v, esr);
}

} // namespace keel::arch
