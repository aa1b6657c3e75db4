// Strong typedefs: a PhysAddr is not an IpAddr is not a DomainId, even though
// each is an integer underneath. Mixing them is a compile error.
#pragma once

#include <cstdint>
#include <compare>

namespace keel {

template <typename Tag, typename T>
class Strong {
public:
    using Raw = T;
    constexpr Strong() = default;
    constexpr explicit Strong(T v) : v_(v) {}
    constexpr T raw() const { return v_; }
    constexpr auto operator<=>(const Strong&) const = default;

private:
    T v_{};
};

// An address type: supports offsetting and alignment, not arbitrary arithmetic.
template <typename Tag>
class Address : public Strong<Tag, std::uint64_t> {
public:
    using Strong<Tag, std::uint64_t>::Strong;
    constexpr Address operator+(std::uint64_t off) const { return Address(this->raw() + off); }
    constexpr Address operator-(std::uint64_t off) const { return Address(this->raw() - off); }
    constexpr std::uint64_t operator-(Address o) const { return this->raw() - o.raw(); }
    constexpr Address align_down(std::uint64_t a) const { return Address(this->raw() & ~(a - 1)); }
    constexpr Address align_up(std::uint64_t a) const { return Address((this->raw() + a - 1) & ~(a - 1)); }
    constexpr bool aligned(std::uint64_t a) const { return (this->raw() & (a - 1)) == 0; }
    constexpr auto operator<=>(const Address&) const = default;
};

struct PhysTag;
struct IpaTag;
struct VirtTag;

using PhysAddr = Address<PhysTag>;   // host physical (what the hypervisor's MMU outputs)
using IpAddr = Address<IpaTag>;      // intermediate physical (a guest's "physical")
using VirtAddr = Address<VirtTag>;   // virtual, in whichever regime is current

struct DomainIdTag;
struct VcpuIdTag;
using DomainId = Strong<DomainIdTag, std::uint16_t>;
using VcpuId = Strong<VcpuIdTag, std::uint32_t>;

inline constexpr std::uint64_t kPageSize = 4096;
inline constexpr std::uint64_t kPageShift = 12;

} // namespace keel
