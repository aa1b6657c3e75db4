// The one place a guest enters the hypervisor: Xen's Arm calling convention,
// HVC #0xEA1 with the hypercall number in x16, up to five arguments in x0-x4
// and the result in x0. Xen may clobber every argument register (debug builds
// do on purpose), so all of them are outputs of the asm.
//
// On the host (unit tests) there is no HVC: raw_hypercall is declared here and
// defined by the test's in-process fake hypervisor, so the SDK above this line
// is exactly the code that runs in a guest.
#pragma once

#include <cstdint>
#include <keel/guest/types.hpp>

namespace keel::guest {

#if defined(__aarch64__)
inline long raw_hypercall(std::uint64_t number, std::uint64_t a0 = 0, std::uint64_t a1 = 0,
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
#else
long raw_hypercall(std::uint64_t number, std::uint64_t a0 = 0, std::uint64_t a1 = 0,
                   std::uint64_t a2 = 0, std::uint64_t a3 = 0, std::uint64_t a4 = 0);
#endif

// A pointer argument as the register value the ABI wants (a guest virtual
// address: Xen on Arm translates it through the caller's stage 1 and 2).
template <typename T>
inline std::uint64_t handle(T* p)
{
    return reinterpret_cast<std::uintptr_t>(p);
}

// A hypercall whose non-negative result means success: the result, or the errno.
inline Result<long> hypercall(std::uint64_t number, std::uint64_t a0 = 0, std::uint64_t a1 = 0,
                              std::uint64_t a2 = 0, std::uint64_t a3 = 0, std::uint64_t a4 = 0)
{
    const long r = raw_hypercall(number, a0, a1, a2, a3, a4);
    if (r < 0) return Err(static_cast<Errno>(-r));
    return r;
}

// The same for calls that return nothing but 0 or -errno.
inline Status hypercall_status(std::uint64_t number, std::uint64_t a0 = 0, std::uint64_t a1 = 0,
                               std::uint64_t a2 = 0, std::uint64_t a3 = 0, std::uint64_t a4 = 0)
{
    const long r = raw_hypercall(number, a0, a1, a2, a3, a4);
    if (r < 0) return Err(static_cast<Errno>(-r));
    return {};
}

} // namespace keel::guest
