#include "mm/stage2_table.hpp"

#include "mm/stage2_format.hpp"

namespace keel::mm {

using namespace s2;

namespace {

std::uint64_t leaf_attrs(MemType type, S2Access a)
{
    std::uint64_t d = kValid | kAccessFlag;
    d |= type == MemType::Normal ? (kMemAttrNormalWb | kShInner) : kMemAttrDeviceNGnRE;
    if (a.read) d |= kS2apRead;
    if (a.write) d |= kS2apWrite;
    // Device memory is never executable: speculative instruction fetch must not reach it.
    if (!a.exec || type == MemType::Device) d |= kExecNever;
    return d;
}

bool is_table(std::uint64_t d, unsigned level) { return (d & kValid) && (d & kTableOrPage) && level < 3; }
bool is_leaf(std::uint64_t d, unsigned level) { return (d & kValid) && !is_table(d, level); }

} // namespace

Status Stage2Table::init(TableMemory& mem)
{
    mem_ = &mem;
    auto root = mem.alloc_table();
    if (!root) return Err(root.error());
    root_ = *root;
    return {};
}

Result<std::uint64_t*> Stage2Table::next_table(std::uint64_t* table, unsigned index, unsigned level, bool create)
{
    std::uint64_t d = table[index];
    if (is_table(d, level)) return mem_->table_ptr(PhysAddr(d & kOutputMask));
    if (!create) return Err(Errno::XEN_ENOENT);
    auto page = mem_->alloc_table();
    if (!page) return Err(page.error());
    std::uint64_t* child = mem_->table_ptr(*page);
    if (d & kValid) {
        // Split a block into the next level's entries with the same attributes.
        const std::uint64_t attrs = d & ~kOutputMask & ~kTableOrPage;
        const std::uint64_t out = d & kOutputMask;
        const std::uint64_t sub = level_size(level + 1);
        for (std::uint64_t i = 0; i < kEntries; ++i)
            child[i] = attrs | (out + i * sub) | (level + 1 == 3 ? kTableOrPage : 0);
    }
    // Publish the filled table before the descriptor that points at it.
    __atomic_store_n(&table[index], page->raw() | kValid | kTableOrPage, __ATOMIC_RELEASE);
    return child;
}

Status Stage2Table::map_one(std::uint64_t ipa, std::uint64_t pa, std::uint64_t size, std::uint64_t attrs)
{
    std::uint64_t* table = mem_->table_ptr(root_);
    for (unsigned level = kStartLevel;; ++level) {
        const unsigned idx = index_at(ipa, level);
        if (level_size(level) == size) {
            if (table[idx] & kValid) return Err(Errno::XEN_EEXIST);
            table[idx] = (pa & kOutputMask) | attrs | (level == 3 ? kTableOrPage : 0);
            return {};
        }
        if (is_leaf(table[idx], level)) return Err(Errno::XEN_EEXIST);
        auto next = next_table(table, idx, level, true);
        if (!next) return Err(next.error());
        table = *next;
    }
}

Status Stage2Table::map(IpAddr ipa, PhysAddr pa, std::uint64_t size, MemType type, S2Access access)
{
    if (!ipa.aligned(kPageSize) || !pa.aligned(kPageSize) || size == 0 || (size & (kPageSize - 1)))
        return Err(Errno::XEN_EINVAL);
    if (ipa.raw() + size > (1ull << kIpaBits) || ipa.raw() + size < ipa.raw()) return Err(Errno::XEN_EINVAL);
    // Refuse overlap before changing anything, so a failed map leaves no partial state.
    for (std::uint64_t off = 0; off < size; off += kPageSize) {
        if (translate(ipa + off).ok()) return Err(Errno::XEN_EEXIST);
    }
    const std::uint64_t attrs = leaf_attrs(type, access);
    std::uint64_t off = 0;
    while (off < size) {
        // The largest block that is aligned on both sides and fits.
        std::uint64_t chunk = kPageSize;
        for (unsigned level = kStartLevel; level < 3; ++level) {
            const std::uint64_t s = level_size(level);
            if (((ipa.raw() + off) % s) == 0 && ((pa.raw() + off) % s) == 0 && size - off >= s) {
                chunk = s;
                break;
            }
        }
        KEEL_TRY(map_one(ipa.raw() + off, pa.raw() + off, chunk, attrs));
        off += chunk;
    }
    return {};
}

Status Stage2Table::unmap_range(std::uint64_t* table, unsigned level, std::uint64_t base, std::uint64_t lo, std::uint64_t hi)
{
    const std::uint64_t span = level_size(level);
    for (unsigned i = 0; i < kEntries; ++i) {
        const std::uint64_t e_lo = base + i * span, e_hi = e_lo + span;
        if (e_hi <= lo || e_lo >= hi) continue;
        const std::uint64_t d = table[i];
        if (!(d & kValid)) continue;
        const bool whole = lo <= e_lo && e_hi <= hi;
        if (whole) {
            __atomic_store_n(&table[i], 0, __ATOMIC_RELEASE);
            if (is_table(d, level)) {
                const PhysAddr child(d & kOutputMask);
                free_level(mem_->table_ptr(child), level + 1);
                mem_->free_table(child);
            }
            continue;
        }
        auto child = next_table(table, i, level, true);  // splits a block if needed
        if (!child) return Err(child.error());
        KEEL_TRY(unmap_range(*child, level + 1, e_lo, lo, hi));
    }
    return {};
}

Status Stage2Table::unmap(IpAddr ipa, std::uint64_t size)
{
    if (!ipa.aligned(kPageSize) || (size & (kPageSize - 1)) || ipa.raw() + size > (1ull << kIpaBits))
        return Err(Errno::XEN_EINVAL);
    return unmap_range(mem_->table_ptr(root_), kStartLevel, 0, ipa.raw(), ipa.raw() + size);
}

Result<S2Translation> Stage2Table::translate(IpAddr ipa) const
{
    if (ipa.raw() >= (1ull << kIpaBits) || mem_ == nullptr) return Err(Errno::XEN_ENOENT);
    const std::uint64_t* table = mem_->table_ptr(root_);
    for (unsigned level = kStartLevel; level <= 3; ++level) {
        const std::uint64_t d = __atomic_load_n(&table[index_at(ipa.raw(), level)], __ATOMIC_ACQUIRE);
        if (!(d & kValid)) return Err(Errno::XEN_ENOENT);
        if (is_table(d, level)) {
            table = mem_->table_ptr(PhysAddr(d & kOutputMask));
            continue;
        }
        const std::uint64_t offset = ipa.raw() & (level_size(level) - 1);
        S2Translation t{PhysAddr((d & kOutputMask) + offset),
                        (d & kMemAttrMask) == kMemAttrNormalWb ? MemType::Normal : MemType::Device,
                        {bool(d & kS2apRead), bool(d & kS2apWrite), !(d & kExecNever)}};
        return t;
    }
    return Err(Errno::XEN_ENOENT);
}

void Stage2Table::free_level(std::uint64_t* table, unsigned level)
{
    for (unsigned i = 0; i < kEntries; ++i) {
        if (is_table(table[i], level)) {
            const PhysAddr child(table[i] & kOutputMask);
            free_level(mem_->table_ptr(child), level + 1);
            mem_->free_table(child);
            table[i] = 0;
        }
    }
}

void Stage2Table::destroy()
{
    if (mem_ == nullptr) return;
    free_level(mem_->table_ptr(root_), kStartLevel);
    mem_->free_table(root_);
    mem_ = nullptr;
}

} // namespace keel::mm
