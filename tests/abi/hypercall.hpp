// The ABI checks call the hypervisor through the SDK's one HVC #0xEA1 stub
// (keel::guest::raw_hypercall): raw answers, since the checks print Xen's own
// return values, errors and positive results alike.
#pragma once

#include <keel/guest/hypercall.hpp>

#include <cstdint>

namespace abi {

using keel::guest::raw_hypercall;

inline long hypercall(std::uint64_t number, std::uint64_t a0 = 0, std::uint64_t a1 = 0,
                      std::uint64_t a2 = 0, std::uint64_t a3 = 0, std::uint64_t a4 = 0)
{
    return raw_hypercall(number, a0, a1, a2, a3, a4);
}

// A pointer argument as the register value the ABI wants.
template <typename T>
std::uint64_t arg(T* p)
{
    return keel::guest::handle(p);
}

// An address no guest has mapped: "bad pointer" checks pass it for a buffer.
inline constexpr std::uint64_t kBadPointer = 0xdead0000000ull;
// A domain id no domain has (below DOMID_FIRST_RESERVED, never created here).
inline constexpr std::uint16_t kNoSuchDomain = 0x7f00;

} // namespace abi
