// Xen's hypercall calling convention on Arm, as a guest sees it: HVC #0xEA1,
// the hypercall number in x16, up to five arguments in x0-x4, the result in
// x0. Xen may clobber the argument registers (debug builds do on purpose), so
// every one of them is an output here.
#pragma once

#include <cstdint>

namespace abi {

inline long hypercall(std::uint64_t number, std::uint64_t a0 = 0, std::uint64_t a1 = 0,
                      std::uint64_t a2 = 0, std::uint64_t a3 = 0, std::uint64_t a4 = 0)
{
    register std::uint64_t x0 asm("x0") = a0;
    register std::uint64_t x1 asm("x1") = a1;
    register std::uint64_t x2 asm("x2") = a2;
    register std::uint64_t x3 asm("x3") = a3;
    register std::uint64_t x4 asm("x4") = a4;
    register std::uint64_t x16 asm("x16") = number;
    asm volatile("hvc #0xea1"
                 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4), "+r"(x16)
                 :
                 : "memory");
    return static_cast<long>(x0);
}

// A pointer argument as the register value the ABI wants.
template <typename T>
std::uint64_t arg(T* p)
{
    return reinterpret_cast<std::uintptr_t>(p);
}

// An address no guest has mapped: "bad pointer" checks pass it for a buffer.
inline constexpr std::uint64_t kBadPointer = 0xdead0000000ull;
// A domain id no domain has (below DOMID_FIRST_RESERVED, never created here).
inline constexpr std::uint16_t kNoSuchDomain = 0x7f00;

} // namespace abi
