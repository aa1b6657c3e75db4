#include "mm/page_allocator.hpp"

namespace keel::mm {

Status PageAllocator::add_bank(PhysAddr base, std::uint64_t size, std::uint64_t* bitmap)
{
    LockGuard g(lock_);
    if (nr_banks_ == kMaxBanks || !base.aligned(kPageSize) || size < kPageSize || bitmap == nullptr)
        return Err(Errno::XEN_EINVAL);
    Bank& b = banks_[nr_banks_++];
    b.base = base;
    b.nr_pages = size / kPageSize;
    b.bitmap = bitmap;
    for (std::uint64_t w = 0; w < bitmap_words(size); ++w) b.bitmap[w] = 0;
    return {};
}

void PageAllocator::reserve(PhysAddr base, std::uint64_t size)
{
    LockGuard g(lock_);
    const PhysAddr lo = base.align_down(kPageSize);
    const PhysAddr hi = (base + size).align_up(kPageSize);
    for (unsigned i = 0; i < nr_banks_; ++i) {
        Bank& b = banks_[i];
        const PhysAddr bank_end = b.base + b.nr_pages * kPageSize;
        const PhysAddr from = lo > b.base ? lo : b.base;
        const PhysAddr to = hi < bank_end ? hi : bank_end;
        for (PhysAddr p = from; p < to; p = p + kPageSize) b.set((p - b.base) / kPageSize, true);
    }
}

Result<PhysAddr> PageAllocator::alloc(std::uint64_t nr_pages, std::uint64_t align)
{
    if (nr_pages == 0 || align < kPageSize || (align & (align - 1)) != 0) return Err(Errno::XEN_EINVAL);
    LockGuard g(lock_);
    for (unsigned i = 0; i < nr_banks_; ++i) {
        Bank& b = banks_[i];
        // Candidate starts are the aligned addresses inside the bank.
        std::uint64_t start = (b.base.align_up(align) - b.base) / kPageSize;
        const std::uint64_t step = align / kPageSize;
        while (start + nr_pages <= b.nr_pages) {
            std::uint64_t run = 0;
            while (run < nr_pages && !b.used(start + run)) ++run;
            if (run == nr_pages) {
                for (std::uint64_t k = 0; k < nr_pages; ++k) b.set(start + k, true);
                return b.base + start * kPageSize;
            }
            // Skip past the page in use, to the next aligned candidate.
            const std::uint64_t next = start + run + 1;
            start = (next + step - 1) / step * step;
        }
    }
    return Err(Errno::XEN_ENOMEM);
}

PageAllocator::Bank* PageAllocator::bank_of(PhysAddr pa, std::uint64_t nr_pages)
{
    for (unsigned i = 0; i < nr_banks_; ++i) {
        Bank& b = banks_[i];
        if (pa >= b.base && pa.aligned(kPageSize) && (pa - b.base) / kPageSize + nr_pages <= b.nr_pages)
            return &b;
    }
    return nullptr;
}

Status PageAllocator::free(PhysAddr base, std::uint64_t nr_pages)
{
    LockGuard g(lock_);
    Bank* b = bank_of(base, nr_pages);
    if (b == nullptr) return Err(Errno::XEN_EINVAL);
    const std::uint64_t first = (base - b->base) / kPageSize;
    for (std::uint64_t k = 0; k < nr_pages; ++k)
        if (!b->used(first + k)) return Err(Errno::XEN_EINVAL);
    for (std::uint64_t k = 0; k < nr_pages; ++k) b->set(first + k, false);
    return {};
}

std::uint64_t PageAllocator::free_pages() const
{
    LockGuard g(lock_);
    std::uint64_t n = 0;
    for (unsigned i = 0; i < nr_banks_; ++i)
        for (std::uint64_t p = 0; p < banks_[i].nr_pages; ++p) n += !banks_[i].used(p);
    return n;
}

std::uint64_t PageAllocator::total_pages() const
{
    std::uint64_t n = 0;
    for (unsigned i = 0; i < nr_banks_; ++i) n += banks_[i].nr_pages;
    return n;
}

} // namespace keel::mm
