// The hypervisor's physical page allocator: one bitmap per RAM bank, first-fit
// with alignment, everything the boot path must keep (image, DTB, modules) reserved
// up front. The bitmap storage is handed in, so nothing is allocated behind the caller.
#pragma once

#include <keel/result.hpp>
#include <keel/spinlock.hpp>
#include <keel/strong.hpp>

#include <cstdint>

namespace keel::mm {

class PageAllocator {
public:
    static constexpr unsigned kMaxBanks = 4;

    // Words of bitmap storage needed to track `bytes` of RAM.
    static constexpr std::uint64_t bitmap_words(std::uint64_t bytes) { return (bytes / kPageSize + 63) / 64; }

    // Adds a bank of RAM, all free. `bitmap` must hold bitmap_words(size) words.
    Status add_bank(PhysAddr base, std::uint64_t size, std::uint64_t* bitmap);
    // Marks [base, base+size) in use wherever it overlaps a bank (rounded out to pages).
    void reserve(PhysAddr base, std::uint64_t size);
    // Contiguous pages, aligned to `align` bytes (a power of two, at least a page).
    Result<PhysAddr> alloc(std::uint64_t nr_pages, std::uint64_t align = kPageSize);
    // Returns pages to the pool. Freeing pages that are not allocated is a bug: it returns EINVAL.
    Status free(PhysAddr base, std::uint64_t nr_pages);

    std::uint64_t free_pages() const;
    std::uint64_t total_pages() const;

private:
    struct Bank {
        PhysAddr base;
        std::uint64_t nr_pages = 0;
        std::uint64_t* bitmap = nullptr;  // bit set = page in use
        bool used(std::uint64_t i) const { return (bitmap[i / 64] >> (i % 64)) & 1; }
        void set(std::uint64_t i, bool v)
        {
            if (v) bitmap[i / 64] |= 1ull << (i % 64);
            else bitmap[i / 64] &= ~(1ull << (i % 64));
        }
    };
    Bank* bank_of(PhysAddr pa, std::uint64_t nr_pages);

    Bank banks_[kMaxBanks];
    unsigned nr_banks_ = 0;
    mutable Spinlock lock_;
};

} // namespace keel::mm
