// The hypervisor's own (stage-1, EL2) address space: an identity map built
// before the MMU is on, so only plain stores are used here. 1 GiB blocks: the
// first gigabyte (device space on every platform Keel supports) as Device-nGnRE,
// the next 15 as normal write-back memory, which covers RAM up to 16 GiB on
// QEMU virt. Nothing is mapped above; the DT's RAM bounds what is ever touched.
#include <cstdint>

namespace {
constexpr std::uint64_t kValidBlock = 0x1;        // level-1 block descriptor
constexpr std::uint64_t kAttrNormal = 1ull << 2;  // MAIR index 1
constexpr std::uint64_t kAttrDevice = 2ull << 2;  // MAIR index 2
constexpr std::uint64_t kApRes1 = 1ull << 6;      // AP[1] is RES1 at EL2
constexpr std::uint64_t kShInner = 3ull << 8;
constexpr std::uint64_t kAf = 1ull << 10;
constexpr std::uint64_t kXn = 1ull << 54;
constexpr std::uint64_t kGiB = 1ull << 30;
} // namespace

extern "C" {
alignas(4096) std::uint64_t keel_el2_l1_table[512];

void keel_build_el2_tables()
{
    keel_el2_l1_table[0] = 0 | kValidBlock | kAttrDevice | kApRes1 | kAf | kXn;
    for (std::uint64_t i = 1; i < 16; ++i)
        keel_el2_l1_table[i] = i * kGiB | kValidBlock | kAttrNormal | kApRes1 | kShInner | kAf;
}
}
