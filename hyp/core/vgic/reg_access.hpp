// One trapped guest access to a GIC register, decoded, and the stock answers
// to it (read-only, read-as-zero/write-ignored, wrong size).
#pragma once

#include <cstdint>

namespace keel::vgic {

struct RegAccess {
    std::uint32_t offset;  // within its frame (GICD, GICR RD frame or GICR SGI frame)
    unsigned size;         // 1, 2, 4 or 8, and offset is a multiple of it
    bool is_write;
    std::uint64_t value;   // in: the value written, masked to size; out: the value read
    unsigned vcpu;         // the accessing vCPU
};

constexpr std::uint64_t size_mask(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

constexpr bool in_range(std::uint32_t offset, std::uint32_t base, std::uint32_t len)
{
    return offset >= base && offset - base < len;
}

} // namespace keel::vgic
