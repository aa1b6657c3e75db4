// The unikernel's heap: malloc/free/realloc/aligned_alloc semantics over
// arenas of pages taken from the PageAllocator.
//
// Boundary-tag chunks (a 16-byte header before every payload; a free chunk
// also links into one address-ordered free list), first fit, split on
// allocate, coalesce with both neighbours on free. An arena that becomes
// entirely free goes back to the page allocator, except one kept as a spare
// so a malloc/free loop does not churn pages (trim() drops it too).
//
// Misuse is never silent: freeing a pointer the heap did not hand out, a
// double free, and headers overwritten by an overflow or a use after free are
// reported through the CorruptionHandler and returned as errors (EINVAL for a
// bad pointer, EIO for damaged heap metadata), and the heap is left as it was.
//
// Every operation runs under an IrqGuard: threads preempted mid-malloc are
// safe. Not for interrupt handlers (they must not allocate).
#pragma once

#include <cstddef>
#include <cstdint>
#include <keel/result.hpp>
#include <keel/uk/page_allocator.hpp>

namespace keel::uk {

class Heap {
public:
    // Told what was found wrong and the pointer involved; the target's handler
    // prints and stops the domain, tests record.
    using CorruptionHandler = void (*)(const char* what, const void* ptr);

    static constexpr std::size_t kAlign = 16;  // malloc's alignment: AArch64's max_align_t
    static constexpr std::size_t kDefaultArenaPages = 16;

    struct Stats {
        std::uint64_t bytes_in_use = 0;       // usable bytes of live allocations
        std::uint64_t peak_bytes_in_use = 0;
        std::uint64_t live_allocations = 0;
        std::uint64_t arena_bytes = 0;        // pages held from the page allocator
        std::uint64_t peak_arena_bytes = 0;
        std::uint64_t arenas = 0;
        std::uint64_t free_chunks = 0;        // fragments on the free list
        std::uint64_t total_allocations = 0;
        std::uint64_t total_frees = 0;
        std::uint64_t failed_allocations = 0;
        std::uint64_t corruptions = 0;        // misuse and damage reported
    };

    Heap(PageAllocator& pages, CorruptionHandler on_corruption, std::size_t arena_pages = kDefaultArenaPages);
    Heap(const Heap&) = delete;
    Heap& operator=(const Heap&) = delete;

    // `size` bytes aligned to `align` (a power of two; at least kAlign is
    // given). Size 0 yields a unique minimal allocation. ENOMEM, EINVAL.
    Result<void*> allocate(std::size_t size, std::size_t align = kAlign);
    // nullptr is accepted and does nothing.
    Status release(void* p);
    // realloc: nullptr allocates; size 0 releases and yields nullptr; otherwise
    // grows or shrinks in place when it can, else moves (alignment kAlign).
    // On failure `p` is untouched.
    Result<void*> reallocate(void* p, std::size_t size);
    // Bytes usable at p (at least what was asked); 0 for nullptr or a bad pointer.
    std::size_t usable_size(const void* p) const;

    // The C spellings, for the libc glue. Errors already went to the handler.
    void* malloc(std::size_t size) { return value_or_null(allocate(size)); }
    void* calloc(std::size_t n, std::size_t size);
    void* realloc(void* p, std::size_t size) { return value_or_null(reallocate(p, size)); }
    void* aligned_alloc(std::size_t align, std::size_t size) { return value_or_null(allocate(size, align)); }
    void free(void* p) { (void)release(p); }

    // Walks every arena: headers, neighbour flags, no two free chunks adjacent
    // (coalescing is complete), the free list matching the chunks. EIO (and a
    // report) on the first inconsistency.
    Status check() const;
    // Returns every entirely free arena to the page allocator.
    void trim();
    Stats stats() const;

private:
    struct Chunk;
    struct Arena;

    static void* value_or_null(const Result<void*>& r) { return r ? r.value() : nullptr; }

    Chunk* find_fit(std::size_t need, std::size_t align, std::size_t* lead) const;
    Status grow(std::size_t need, std::size_t align);
    void* carve(Chunk* c, std::size_t lead, std::size_t need);
    Result<Chunk*> used_chunk(const void* p, bool report) const;
    Arena* arena_of(const void* p) const;
    // Marks c free with `size` bytes (coalescing already done) and links it.
    void free_list_insert(Chunk* c, Chunk* hint);
    void free_list_remove(Chunk* c);
    void make_free(Chunk* c, std::size_t size);
    void make_used(Chunk* c, std::size_t size);
    void split_tail(Chunk* c, std::size_t keep);
    bool arena_empty(const Arena* a) const;
    void release_arena(Arena* a);
    Errno report(const char* what, const void* p, Errno e) const;

    PageAllocator& pages_;
    CorruptionHandler on_corruption_;
    std::size_t arena_pages_;
    Arena* arenas_ = nullptr;
    Chunk* free_head_ = nullptr;
    mutable Stats stats_;
};

} // namespace keel::uk
