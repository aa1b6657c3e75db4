#include "page_table.hpp"

namespace keel::guest {
namespace {

// VMSAv8-64 descriptor bits (4 KiB granule).
constexpr std::uint64_t kValid = 1;
constexpr std::uint64_t kTableOrPage = 1 << 1;  // at levels 1-2: next-level table; at level 3: page
constexpr unsigned kAttrIndxShift = 2;
constexpr std::uint64_t kInnerShareable = 3 << 8;
constexpr std::uint64_t kAccessFlag = 1 << 10;
constexpr std::uint64_t kPxn = std::uint64_t{1} << 53;
constexpr std::uint64_t kUxn = std::uint64_t{1} << 54;
constexpr std::uint64_t kOutputAddressMask = 0x0000fffffffff000;
constexpr std::uint64_t kAttrIndxMask = std::uint64_t{7} << kAttrIndxShift;

constexpr unsigned kLastLevel = 3;
constexpr unsigned kEntries = 512;

constexpr unsigned level_shift(unsigned level) { return 12 + 9 * (kLastLevel - level); }
constexpr std::uint64_t level_size(unsigned level) { return std::uint64_t{1} << level_shift(level); }

// A block (levels 1-2) or page (level 3) descriptor; AP = 0b00 (EL1 read/write).
std::uint64_t leaf(std::uint64_t address, MemoryType type, unsigned level)
{
    std::uint64_t d = address | kValid | kAccessFlag | (level == kLastLevel ? kTableOrPage : 0);
    if (type == MemoryType::kNormal)
        return d | (std::uint64_t{kMairNormalIndex} << kAttrIndxShift) | kInnerShareable | kUxn;
    return d | (std::uint64_t{kMairDeviceIndex} << kAttrIndxShift) | kPxn | kUxn;
}

bool is_table(std::uint64_t d, unsigned level) { return level < kLastLevel && (d & (kValid | kTableOrPage)) == (kValid | kTableOrPage); }

MemoryType type_of(std::uint64_t d)
{
    return ((d & kAttrIndxMask) >> kAttrIndxShift) == kMairNormalIndex ? MemoryType::kNormal : MemoryType::kDevice;
}

TablePage& table_at(std::uint64_t d) { return *reinterpret_cast<TablePage*>(d & kOutputAddressMask); }

} // namespace

IdentityMap::IdentityMap(TablePage* pool, std::size_t pages) : pool_(pool), pages_(pages), root_(allocate()) {}

TablePage* IdentityMap::allocate()
{
    if (used_ == pages_) return nullptr;
    TablePage* t = &pool_[used_++];
    for (auto& e : t->entry) e = 0;
    return t;
}

std::uint64_t IdentityMap::root_address() const { return reinterpret_cast<std::uintptr_t>(root_); }

keel::Status IdentityMap::map(std::uint64_t base, std::uint64_t size, MemoryType type)
{
    if (root_ == nullptr) return keel::Err(keel::Errno::XEN_ENOMEM);
    const std::uint64_t end = base + size;
    if ((base | size) % level_size(kLastLevel) != 0 || end < base || end > kIdentityMapLimit)
        return keel::Err(keel::Errno::XEN_EINVAL);
    if (size == 0) return {};
    return map_range(*root_, 1, base, end, type);
}

keel::Status IdentityMap::map_range(TablePage& table, unsigned level, std::uint64_t va, std::uint64_t end,
                                    MemoryType type)
{
    const std::uint64_t block = level_size(level);
    while (va < end) {
        const std::uint64_t block_end = (va & ~(block - 1)) + block;
        const std::uint64_t next = end < block_end ? end : block_end;
        std::uint64_t& d = table.entry[(va >> level_shift(level)) % kEntries];

        if (va % block == 0 && next == block_end) {
            // A whole block (or page): a table that was here is dropped, its
            // page stays used; maps are built once, so the pool does not refill.
            d = leaf(va, type, level);
        } else {
            if (!is_table(d, level)) {
                // Split: a table reproducing the block (or nothing) it replaces.
                TablePage* sub = allocate();
                if (sub == nullptr) return keel::Err(keel::Errno::XEN_ENOMEM);
                if (d & kValid) {
                    const std::uint64_t child = level_size(level + 1);
                    const std::uint64_t first = d & kOutputAddressMask & ~(block - 1);
                    for (unsigned i = 0; i < kEntries; ++i)
                        sub->entry[i] = leaf(first + i * child, type_of(d), level + 1);
                }
                d = reinterpret_cast<std::uintptr_t>(sub) | kValid | kTableOrPage;
            }
            KEEL_TRY(map_range(table_at(d), level + 1, va, next, type));
        }
        va = next;
    }
    return {};
}

keel::Result<IdentityMap::Mapping> IdentityMap::lookup(std::uint64_t va) const
{
    if (root_ == nullptr || va >= kIdentityMapLimit) return keel::Err(keel::Errno::XEN_ENOENT);
    const TablePage* table = root_;
    for (unsigned level = 1;; ++level) {
        const std::uint64_t d = table->entry[(va >> level_shift(level)) % kEntries];
        if (!(d & kValid)) return keel::Err(keel::Errno::XEN_ENOENT);
        if (!is_table(d, level)) return Mapping{type_of(d), level};
        table = &table_at(d);
    }
}

} // namespace keel::guest
