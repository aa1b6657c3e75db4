// Bit positions of the EL2 control registers Keel programs, named once.
#pragma once

#include <cstdint>

namespace keel::arch {

namespace hcr {
inline constexpr std::uint64_t VM = 1ull << 0;     // stage-2 translation on
inline constexpr std::uint64_t SWIO = 1ull << 1;   // set/way invalidate -> clean+invalidate
inline constexpr std::uint64_t FMO = 1ull << 3;    // FIQs to EL2, virtual FIQs to the guest
inline constexpr std::uint64_t IMO = 1ull << 4;    // IRQs to EL2, virtual IRQs to the guest
inline constexpr std::uint64_t AMO = 1ull << 5;    // SErrors to EL2
inline constexpr std::uint64_t VSE = 1ull << 8;    // pending virtual SError
inline constexpr std::uint64_t FB = 1ull << 9;     // broadcast TLB/cache maintenance
inline constexpr std::uint64_t BSU_IS = 1ull << 10;// barriers: inner shareable
inline constexpr std::uint64_t TWI = 1ull << 13;   // trap WFI: block the vCPU instead of spinning
inline constexpr std::uint64_t TWE = 1ull << 14;   // trap WFE: yield
inline constexpr std::uint64_t TSC = 1ull << 19;   // trap SMC
inline constexpr std::uint64_t TIDCP = 1ull << 20; // trap IMPLEMENTATION DEFINED registers
inline constexpr std::uint64_t TACR = 1ull << 21;  // trap ACTLR_EL1
inline constexpr std::uint64_t TSW = 1ull << 22;   // trap set/way cache maintenance
inline constexpr std::uint64_t RW = 1ull << 31;    // EL1 is AArch64
} // namespace hcr

namespace esr {
inline constexpr unsigned kEcShift = 26;
inline constexpr std::uint64_t kIlBit = 1ull << 25;
inline constexpr std::uint64_t kIssMask = 0x1ffffff;
enum class Ec : std::uint8_t {
    Unknown = 0x00,
    WfiWfe = 0x01,
    FpAsimd = 0x07,
    IllegalState = 0x0e,
    Svc64 = 0x15,
    Hvc64 = 0x16,
    Smc64 = 0x17,
    SysReg64 = 0x18,
    InstAbortLower = 0x20,
    InstAbortSame = 0x21,
    PcAlign = 0x22,
    DataAbortLower = 0x24,
    DataAbortSame = 0x25,
    SpAlign = 0x26,
    SError = 0x2f,
    BrkLower = 0x30,
    Brk64 = 0x3c,
};
inline Ec ec_of(std::uint64_t esr) { return static_cast<Ec>((esr >> kEcShift) & 0x3f); }
} // namespace esr

namespace spsr {
inline constexpr std::uint64_t kModeEl1h = 0x5;
inline constexpr std::uint64_t kModeMask = 0xf;
inline constexpr std::uint64_t kDaif = 0xfull << 6;
} // namespace spsr

} // namespace keel::arch
