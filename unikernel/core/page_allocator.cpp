#include <keel/uk/page_allocator.hpp>

#include <keel/uk/irq_guard.hpp>

namespace keel::uk {
namespace {

std::uintptr_t page_down(std::uintptr_t a) { return a & ~(kPageSize - 1); }
std::uintptr_t page_up(std::uintptr_t a) { return page_down(a + kPageSize - 1); }
std::size_t words_for(std::size_t pages) { return (pages + 63) / 64; }

} // namespace

std::size_t PageAllocator::Zone::first_used(std::size_t from, std::size_t n) const
{
    for (std::size_t i = from; i < from + n; ++i) {
        if (i % 64 == 0 && i + 64 <= from + n && used[i / 64] == 0) {
            i += 63;  // a whole free word
            continue;
        }
        if (test(used, i)) return i;
    }
    return pages;
}

Status PageAllocator::add_range(std::uintptr_t base, std::size_t size)
{
    const std::uintptr_t b = page_up(base);
    const std::uintptr_t e = page_down(base + size);
    if (base + size < base) return Err(Errno::XEN_EINVAL);
    if (b >= e) return Err(Errno::XEN_ENOMEM);
    IrqGuard guard;
    if (nr_zones_ == kMaxZones) return Err(Errno::XEN_E2BIG);
    for (unsigned i = 0; i < nr_zones_; ++i) {
        const Zone& z = zones_[i];
        const std::uintptr_t zb = page_down(reinterpret_cast<std::uintptr_t>(z.used));
        if (b < z.base + z.pages * kPageSize && zb < e) return Err(Errno::XEN_EINVAL);
    }
    // Bitmaps for every page of the range (a slight overestimate: the
    // bookkeeping pages themselves need no bits).
    const std::size_t range_pages = (e - b) / kPageSize;
    const std::size_t words = words_for(range_pages);
    const std::size_t meta_pages = (2 * words * sizeof(std::uint64_t) + kPageSize - 1) / kPageSize;
    if (meta_pages >= range_pages) return Err(Errno::XEN_ENOMEM);

    Zone& z = zones_[nr_zones_];
    z.used = reinterpret_cast<std::uint64_t*>(b);
    z.head = z.used + words;
    z.base = b + meta_pages * kPageSize;
    z.pages = range_pages - meta_pages;
    for (std::size_t i = 0; i < 2 * words; ++i) z.used[i] = 0;
    // Bits past the end of the zone read as used, so no run ever extends there.
    for (std::size_t i = z.pages; i < words * 64; ++i) z.set(z.used, i, true);
    ++nr_zones_;

    stats_.total_pages += z.pages;
    stats_.free_pages += z.pages;
    stats_.bookkeeping_pages += meta_pages;
    return {};
}

Result<void*> PageAllocator::alloc(std::size_t pages, std::size_t align_pages)
{
    if (pages == 0 || align_pages == 0 || (align_pages & (align_pages - 1)) != 0) return Err(Errno::XEN_EINVAL);
    const std::uintptr_t align = align_pages * kPageSize;
    if (align / kPageSize != align_pages) return Err(Errno::XEN_EINVAL);
    IrqGuard guard;
    for (unsigned zi = 0; zi < nr_zones_; ++zi) {
        Zone& z = zones_[zi];
        if (pages > z.pages) continue;
        // Candidate starts are the indices whose address is aligned.
        std::size_t i = ((z.base + align - 1) & ~(align - 1)) - z.base;
        i /= kPageSize;
        while (i + pages <= z.pages) {
            const std::size_t hit = z.first_used(i, pages);
            if (hit == z.pages) {
                for (std::size_t k = i; k < i + pages; ++k) z.set(z.used, k, true);
                z.set(z.head, i, true);
                stats_.free_pages -= pages;
                const std::uint64_t in_use = stats_.total_pages - stats_.free_pages;
                if (in_use > stats_.peak_used_pages) stats_.peak_used_pages = in_use;
                return reinterpret_cast<void*>(z.base + i * kPageSize);
            }
            // Next aligned candidate past the page in use.
            const std::uintptr_t next = (z.base + (hit + 1) * kPageSize + align - 1) & ~(align - 1);
            i = (next - z.base) / kPageSize;
        }
    }
    return Err(Errno::XEN_ENOMEM);
}

Status PageAllocator::free(void* base, std::size_t pages)
{
    const auto a = reinterpret_cast<std::uintptr_t>(base);
    if (pages == 0 || a % kPageSize != 0) return Err(Errno::XEN_EINVAL);
    IrqGuard guard;
    Zone* z = zone_of(a);
    if (z == nullptr) return Err(Errno::XEN_EINVAL);
    const std::size_t first = (a - z->base) / kPageSize;
    if (pages > z->pages - first) return Err(Errno::XEN_EINVAL);
    // Exactly one allocation: it starts here, covers every page, and the page
    // after it is free, outside the zone, or the start of another allocation.
    if (!z->test(z->head, first)) return Err(Errno::XEN_EINVAL);
    for (std::size_t k = first; k < first + pages; ++k) {
        if (!z->test(z->used, k) || (k != first && z->test(z->head, k))) return Err(Errno::XEN_EINVAL);
    }
    const std::size_t after = first + pages;
    if (after < z->pages && z->test(z->used, after) && !z->test(z->head, after)) return Err(Errno::XEN_EINVAL);

    for (std::size_t k = first; k < first + pages; ++k) z->set(z->used, k, false);
    z->set(z->head, first, false);
    stats_.free_pages += pages;
    return {};
}

PageAllocator::Zone* PageAllocator::zone_of(std::uintptr_t a)
{
    for (unsigned i = 0; i < nr_zones_; ++i)
        if (a >= zones_[i].base && a < zones_[i].base + zones_[i].pages * kPageSize) return &zones_[i];
    return nullptr;
}

const PageAllocator::Zone* PageAllocator::zone_of(std::uintptr_t a) const
{
    return const_cast<PageAllocator*>(this)->zone_of(a);
}

bool PageAllocator::owns(const void* p) const { return zone_of(reinterpret_cast<std::uintptr_t>(p)) != nullptr; }

PageAllocator::Stats PageAllocator::stats() const
{
    IrqGuard guard;
    return stats_;
}

} // namespace keel::uk
