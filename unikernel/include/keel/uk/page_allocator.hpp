// The unikernel's page-frame allocator: whole 4 KiB pages, contiguous runs
// with alignment, over the usable RAM ranges (memory_map.hpp). Each range is
// a zone whose first pages hold its own bookkeeping, so nothing is allocated
// behind anyone's back.
//
// Two bitmaps per zone: "in use" and "starts an allocation". The second makes
// free() exact: freeing a run that was not handed out as exactly that run
// (double free, a wrong page count, a pointer into the middle) is refused with
// EINVAL and changes nothing.
//
// Addresses are the guest's identity-mapped addresses (virtual == physical, as
// the runtime maps RAM), so a page pointer is also what a grant would name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <keel/result.hpp>
#include <keel/strong.hpp>

namespace keel::uk {

class PageAllocator {
public:
    static constexpr unsigned kMaxZones = 8;

    struct Stats {
        std::uint64_t total_pages = 0;      // allocatable, bookkeeping excluded
        std::uint64_t free_pages = 0;
        std::uint64_t peak_used_pages = 0;  // high-water mark of total - free
        std::uint64_t bookkeeping_pages = 0;
    };

    PageAllocator() = default;
    PageAllocator(const PageAllocator&) = delete;
    PageAllocator& operator=(const PageAllocator&) = delete;

    // Hands [base, base + size) to the allocator (shrunk to whole pages); its
    // first pages become the zone's bitmaps. EINVAL for a range overlapping a
    // zone already added, E2BIG past kMaxZones, ENOMEM when too small to hold
    // one page beside its bitmaps.
    Status add_range(std::uintptr_t base, std::size_t size);

    // `pages` contiguous pages whose address is a multiple of `align_pages`
    // pages (a power of two). ENOMEM when no such run is free, EINVAL for 0
    // pages or a bad alignment.
    Result<void*> alloc(std::size_t pages, std::size_t align_pages = 1);
    // Returns a run exactly as alloc gave it out; EINVAL otherwise (see above).
    Status free(void* base, std::size_t pages);

    bool owns(const void* p) const;
    Stats stats() const;

private:
    struct Zone {
        std::uintptr_t base = 0;   // first allocatable page
        std::size_t pages = 0;
        std::uint64_t* used = nullptr;
        std::uint64_t* head = nullptr;

        bool test(const std::uint64_t* map, std::size_t i) const { return (map[i / 64] >> (i % 64)) & 1; }
        void set(std::uint64_t* map, std::size_t i, bool v)
        {
            if (v) map[i / 64] |= std::uint64_t{1} << (i % 64);
            else map[i / 64] &= ~(std::uint64_t{1} << (i % 64));
        }
        // First index >= from with a page in use in [i, i + n), or `pages` if none
        // before the zone ends. Skips whole free or used words.
        std::size_t first_used(std::size_t from, std::size_t n) const;
    };

    Zone* zone_of(std::uintptr_t a);
    const Zone* zone_of(std::uintptr_t a) const;

    Zone zones_[kMaxZones];
    unsigned nr_zones_ = 0;
    Stats stats_;
};

} // namespace keel::uk
