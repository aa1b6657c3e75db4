// A stage-1 identity map as the runtime needs it: 4 KiB granule, 39-bit
// addresses (three levels, the root at level 1), each range mapped with the
// largest blocks that fit. Only table manipulation here, no system registers,
// so it runs on the host as well as in a guest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <keel/result.hpp>

namespace keel::guest {

enum class MemoryType : std::uint8_t {
    kDevice,  // Device-nGnRE, never executable
    kNormal,  // inner/outer write-back, inner shareable, executable at EL1
};

inline constexpr unsigned kIdentityMapBits = 39;
inline constexpr std::uint64_t kIdentityMapLimit = std::uint64_t{1} << kIdentityMapBits;

// The MAIR_EL1 the descriptors' AttrIndx values refer to.
inline constexpr unsigned kMairDeviceIndex = 0;
inline constexpr unsigned kMairNormalIndex = 1;
inline constexpr std::uint64_t kMairValue =
    (std::uint64_t{0x04} << (8 * kMairDeviceIndex)) |  // Device-nGnRE
    (std::uint64_t{0xff} << (8 * kMairNormalIndex));   // Normal WB RA/WA, inner and outer

struct alignas(4096) TablePage {
    std::uint64_t entry[512];
};

class IdentityMap {
public:
    // Tables come from `pool` (caller-owned, `pages` long); the root is the first.
    IdentityMap(TablePage* pool, std::size_t pages);

    // Maps [base, base + size) to itself as `type`, replacing earlier
    // mappings there. Page-aligned, below kIdentityMapLimit, or EINVAL;
    // ENOMEM when the pool runs out. Not for a live map: blocks are split and
    // replaced without break-before-make.
    [[nodiscard]] keel::Status map(std::uint64_t base, std::uint64_t size, MemoryType type);

    // What TTBR0_EL1 gets (the root's address, which is also its IPA).
    std::uint64_t root_address() const;

    struct Mapping {
        MemoryType type;
        unsigned level;  // 1: 1 GiB block, 2: 2 MiB block, 3: 4 KiB page
    };
    // The mapping covering `va`; ENOENT if none.
    keel::Result<Mapping> lookup(std::uint64_t va) const;

    std::size_t tables_used() const { return used_; }

private:
    TablePage* allocate();
    keel::Status map_range(TablePage& table, unsigned level, std::uint64_t va, std::uint64_t end,
                           MemoryType type);

    TablePage* pool_;
    std::size_t pages_;
    std::size_t used_ = 0;
    TablePage* root_;
};

} // namespace keel::guest
