// EL1 system-register access for the runtime, and the bit positions it uses.
#pragma once

#include <cstdint>

namespace keel::guest::sysreg {

#define KEEL_SYSREG_READ(name) \
    ({ std::uint64_t v_; asm volatile("mrs %0, " #name : "=r"(v_)); v_; })
#define KEEL_SYSREG_WRITE(name, value) \
    asm volatile("msr " #name ", %0" : : "r"(static_cast<std::uint64_t>(value)) : "memory")

inline void isb() { asm volatile("isb" ::: "memory"); }
inline void dsb_sy() { asm volatile("dsb sy" ::: "memory"); }
inline void dsb_ishst() { asm volatile("dsb ishst" ::: "memory"); }
// All EL1&0 stage-1 TLB entries of this VMID, on this CPU, then wait for it.
inline void flush_tlb_local()
{
    asm volatile("tlbi vmalle1\n\tdsb nsh\n\tisb" ::: "memory");
}

// SCTLR_EL1
inline constexpr std::uint64_t kSctlrM = 1 << 0;     // stage-1 MMU
inline constexpr std::uint64_t kSctlrC = 1 << 2;     // data cacheability
inline constexpr std::uint64_t kSctlrSa = 1 << 3;    // SP alignment check at EL1
inline constexpr std::uint64_t kSctlrI = 1 << 12;    // instruction cacheability
inline constexpr std::uint64_t kSctlrNtwi = 1 << 16; // EL0 WFI not trapped
inline constexpr std::uint64_t kSctlrNtwe = 1 << 18; // EL0 WFE not trapped
// Bits that read as one in ARMv8.0 (11, 20, 22, 23, 28, 29).
inline constexpr std::uint64_t kSctlrRes1 = (1 << 11) | (1 << 20) | (1 << 22) | (1 << 23) | (1 << 28) | (1 << 29);

// TCR_EL1
inline constexpr unsigned kTcrT0szShift = 0;
inline constexpr std::uint64_t kTcrIrgn0WriteBack = 1 << 8;
inline constexpr std::uint64_t kTcrOrgn0WriteBack = 1 << 10;
inline constexpr std::uint64_t kTcrSh0Inner = 3 << 12;
inline constexpr std::uint64_t kTcrTg0_4k = 0 << 14;
inline constexpr std::uint64_t kTcrEpd1 = 1 << 23;  // no TTBR1 walks: the upper half is unused
inline constexpr unsigned kTcrIpsShift = 32;

// ID_AA64MMFR0_EL1.PARange, the same encoding TCR_EL1.IPS takes.
inline constexpr std::uint64_t kParangeMask = 0xf;
inline constexpr std::uint64_t kParange48 = 5;

} // namespace keel::guest::sysreg
