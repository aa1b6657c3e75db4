#include "psci/vpsci.hpp"

namespace keel::psci {

bool is_psci_or_smccc(std::uint32_t function)
{
    // SMCCC "Arm architecture" and "standard secure service" (PSCI) owning entity numbers.
    const std::uint32_t owner = (function >> 24) & 0x3f;
    return owner == 0 || owner == 4;
}

int vcpu_of_mpidr(std::uint64_t mpidr, unsigned nr_vcpus)
{
    // Aff3 (bits 39:32) and Aff2/Aff1 (23:8) must be zero; bits 31/30 (RES1/U) are ignored.
    if ((mpidr & 0xff00ffff00ull) != 0) return -1;
    const unsigned aff0 = mpidr & 0xff;
    return aff0 < nr_vcpus ? static_cast<int>(aff0) : -1;
}

static bool implemented(std::uint32_t f)
{
    switch (f) {
    case fn::kVersion:
    case fn::kCpuSuspend32: case fn::kCpuSuspend64:
    case fn::kCpuOff:
    case fn::kCpuOn32: case fn::kCpuOn64:
    case fn::kAffinityInfo32: case fn::kAffinityInfo64:
    case fn::kMigrateInfoType:
    case fn::kSystemOff:
    case fn::kSystemReset:
    case fn::kFeatures:
        return true;
    default:
        return false;
    }
}

std::int64_t call(std::uint32_t f, std::uint64_t a1, std::uint64_t a2, std::uint64_t a3, Actions& act)
{
    // 32-bit calling convention: arguments are 32-bit, upper halves ignored.
    const bool smc32 = (f & 0x40000000) == 0;
    if (smc32) {
        a1 &= 0xffffffffu;
        a2 &= 0xffffffffu;
        a3 &= 0xffffffffu;
    }
    switch (f) {
    case fn::kSmcccVersion: return kSmccc1_1;
    case fn::kSmcccArchFeatures:
        // No firmware workarounds are needed or offered inside a Keel guest.
        return a1 == fn::kSmcccVersion ? kSuccess : kNotSupported;
    case fn::kVersion: return kVersion1_1;
    case fn::kFeatures: {
        const std::uint32_t q = static_cast<std::uint32_t>(a1);
        if (q == fn::kSmcccVersion) return kSuccess;
        if (!implemented(q)) return kNotSupported;
        // CPU_SUSPEND: original power-state format, no OS-initiated mode.
        return (q == fn::kCpuSuspend32 || q == fn::kCpuSuspend64) ? std::int64_t{0} : std::int64_t{kSuccess};
    }
    case fn::kCpuSuspend32:
    case fn::kCpuSuspend64:
        act.cpu_suspend();
        return kSuccess;
    case fn::kCpuOff:
        act.cpu_off();
        return kSuccess;  // not seen by the guest: the vCPU is gone
    case fn::kCpuOn32:
    case fn::kCpuOn64: {
        const int target = vcpu_of_mpidr(a1, act.nr_vcpus());
        if (target < 0) return kInvalidParameters;
        return act.cpu_on(static_cast<unsigned>(target), a2, a3);
    }
    case fn::kAffinityInfo32:
    case fn::kAffinityInfo64: {
        if (a2 != 0) return kInvalidParameters;  // only level-0 affinity is meaningful
        const int target = vcpu_of_mpidr(a1, act.nr_vcpus());
        if (target < 0) return kInvalidParameters;
        return act.vcpu_online(static_cast<unsigned>(target)) ? 0 /* ON */ : 1 /* OFF */;
    }
    case fn::kMigrateInfoType: return kMigrateNotRequired;
    case fn::kSystemOff:
        act.system_off();
        return kSuccess;
    case fn::kSystemReset:
        act.system_reset();
        return kSuccess;
    default: return kNotSupported;
    }
}

} // namespace keel::psci
