// Virtual PSCI 1.1 and the SMCCC discovery calls, as a guest reaches them with
// HVC #0 (or SMC #0). This file decodes the call and checks its arguments; the
// actions (start a vCPU, stop one, power off the domain) belong to the caller.
#pragma once

#include <cstdint>

namespace keel::psci {

namespace fn {
inline constexpr std::uint32_t kSmcccVersion = 0x80000000;
inline constexpr std::uint32_t kSmcccArchFeatures = 0x80000001;
inline constexpr std::uint32_t kVersion = 0x84000000;
inline constexpr std::uint32_t kCpuSuspend32 = 0x84000001, kCpuSuspend64 = 0xc4000001;
inline constexpr std::uint32_t kCpuOff = 0x84000002;
inline constexpr std::uint32_t kCpuOn32 = 0x84000003, kCpuOn64 = 0xc4000003;
inline constexpr std::uint32_t kAffinityInfo32 = 0x84000004, kAffinityInfo64 = 0xc4000004;
inline constexpr std::uint32_t kMigrateInfoType = 0x84000006;
inline constexpr std::uint32_t kSystemOff = 0x84000008;
inline constexpr std::uint32_t kSystemReset = 0x84000009;
inline constexpr std::uint32_t kFeatures = 0x8400000a;
} // namespace fn

enum Ret : std::int64_t {
    kSuccess = 0,
    kNotSupported = -1,
    kInvalidParameters = -2,
    kDenied = -3,
    kAlreadyOn = -4,
    kOnPending = -5,
    kInternalFailure = -6,
};

inline constexpr std::uint64_t kVersion1_1 = 0x10001;
inline constexpr std::uint64_t kSmccc1_1 = 0x10001;
inline constexpr std::uint64_t kMigrateNotRequired = 2;

// What the caller must do with the domain's vCPUs.
class Actions {
public:
    // Start vCPU `target` at `entry` with x0 = `context` (EL1h, MMU off); a PSCI return code.
    virtual std::int64_t cpu_on(unsigned target, std::uint64_t entry, std::uint64_t context) = 0;
    virtual void cpu_off() = 0;                          // the calling vCPU stops
    virtual bool vcpu_online(unsigned target) = 0;      // for AFFINITY_INFO
    virtual unsigned nr_vcpus() = 0;
    virtual void system_off() = 0;                       // the domain shuts down (poweroff)
    virtual void system_reset() = 0;                     // the domain shuts down (reboot)
    virtual void cpu_suspend() = 0;                      // treated as WFI

protected:
    ~Actions() = default;
};

// Whether `function` (from x0) is in the range this module answers.
bool is_psci_or_smccc(std::uint32_t function);

// Performs the call; returns the value for the guest's x0.
std::int64_t call(std::uint32_t function, std::uint64_t a1, std::uint64_t a2, std::uint64_t a3, Actions& act);

// vCPU index from an MPIDR value: Keel gives vCPU n the affinity Aff0 = n.
// Returns -1 for an affinity that names no vCPU.
int vcpu_of_mpidr(std::uint64_t mpidr, unsigned nr_vcpus);

} // namespace keel::psci
