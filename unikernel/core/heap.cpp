#include <keel/uk/heap.hpp>

#include <keel/uk/irq_guard.hpp>

#include <cstddef>

namespace keel::uk {
namespace {

// A chunk header's second word: size (a multiple of 16) | tag << 48 | flags.
// The tag says what the chunk is, so a stray pointer, a double free or an
// overwritten header is recognised instead of trusted.
constexpr std::uint64_t kPrevFreeBit = 1;
constexpr unsigned kTagShift = 48;
constexpr std::uint64_t kSizeMask = ((std::uint64_t{1} << kTagShift) - 1) & ~std::uint64_t{0xf};
constexpr std::uint16_t kTagUsed = 0xa11c;
constexpr std::uint16_t kTagFree = 0xf4ee;
constexpr std::uint16_t kTagEnd = 0xe4d0;
constexpr std::uint64_t kArenaMagic = 0x616e6572416b556bull;  // "kUkArena"

constexpr std::size_t kHeader = 16;
constexpr std::size_t kMinChunk = 32;  // header + the two free-list links
constexpr std::size_t kMaxRequest = std::size_t{1} << 40;

constexpr std::size_t round_up(std::size_t v, std::size_t a) { return (v + a - 1) & ~(a - 1); }

} // namespace

struct Heap::Chunk {
    std::uint64_t prev_size;  // the previous chunk's size, kept only while that one is free
    std::uint64_t word;
    Chunk* next_free;         // free chunks only: the payload holds the list links
    Chunk* prev_free;

    std::size_t size() const { return word & kSizeMask; }
    std::uint16_t tag() const { return static_cast<std::uint16_t>(word >> kTagShift); }
    bool prev_is_free() const { return (word & kPrevFreeBit) != 0; }
    void set(std::size_t size, std::uint16_t tag, bool prev_free)
    {
        word = size | (std::uint64_t{tag} << kTagShift) | (prev_free ? kPrevFreeBit : 0);
    }
    Chunk* at(std::size_t offset) { return reinterpret_cast<Chunk*>(reinterpret_cast<char*>(this) + offset); }
    Chunk* next() { return at(size()); }
    Chunk* prev() { return reinterpret_cast<Chunk*>(reinterpret_cast<char*>(this) - prev_size); }
    void* payload() { return reinterpret_cast<char*>(this) + kHeader; }
    static Chunk* of(const void* p)
    {
        return reinterpret_cast<Chunk*>(const_cast<char*>(static_cast<const char*>(p)) - kHeader);
    }
};

// An arena: this header, chunks, and a size-0 end chunk (tag kTagEnd) whose
// prev_size/flag describe the last real chunk.
struct Heap::Arena {
    Arena* next;
    std::size_t bytes;
    std::uint64_t magic;
    std::uint64_t reserved;

    Chunk* first() { return reinterpret_cast<Chunk*>(this + 1); }
    Chunk* end() { return reinterpret_cast<Chunk*>(reinterpret_cast<char*>(this) + bytes - kHeader); }
};

Heap::Heap(PageAllocator& pages, CorruptionHandler on_corruption, std::size_t arena_pages)
    : pages_(pages), on_corruption_(on_corruption), arena_pages_(arena_pages != 0 ? arena_pages : 1)
{
    static_assert(offsetof(Chunk, next_free) == kHeader);
    static_assert(sizeof(Arena) % kAlign == 0, "the first payload must be kAlign-aligned");
}

Errno Heap::report(const char* what, const void* p, Errno e) const
{
    ++stats_.corruptions;
    if (on_corruption_ != nullptr) on_corruption_(what, p);
    return e;
}

// --- the free list (address order: first fit then prefers low addresses) ----

void Heap::free_list_insert(Chunk* c, Chunk* hint)
{
    // `hint`, when given, is a free chunk below c: the walk starts there.
    Chunk* prev = (hint != nullptr && hint < c) ? hint : nullptr;
    Chunk* cur = prev != nullptr ? prev->next_free : free_head_;
    while (cur != nullptr && cur < c) {
        prev = cur;
        cur = cur->next_free;
    }
    c->prev_free = prev;
    c->next_free = cur;
    if (prev != nullptr) prev->next_free = c;
    else free_head_ = c;
    if (cur != nullptr) cur->prev_free = c;
    ++stats_.free_chunks;
}

void Heap::free_list_remove(Chunk* c)
{
    if (c->prev_free != nullptr) c->prev_free->next_free = c->next_free;
    else free_head_ = c->next_free;
    if (c->next_free != nullptr) c->next_free->prev_free = c->prev_free;
    c->next_free = c->prev_free = nullptr;
    --stats_.free_chunks;
}

// Header of c and the neighbour flags of the chunk after it, for a free chunk.
void Heap::make_free(Chunk* c, std::size_t size)
{
    c->set(size, kTagFree, c->prev_is_free());
    Chunk* n = c->next();
    n->prev_size = size;
    n->word |= kPrevFreeBit;
}

void Heap::make_used(Chunk* c, std::size_t size)
{
    c->set(size, kTagUsed, c->prev_is_free());
    c->next()->word &= ~kPrevFreeBit;
}

// Shrinks used chunk c to `keep` bytes when the rest makes a chunk; the rest
// is freed, merged with a free chunk after it.
void Heap::split_tail(Chunk* c, std::size_t keep)
{
    const std::size_t size = c->size();
    if (size - keep < kMinChunk) return;
    Chunk* n = c->next();
    Chunk* rest = c->at(keep);
    std::size_t rest_size = size - keep;
    Chunk* hint = nullptr;
    if (n->tag() == kTagFree) {
        hint = n->prev_free;  // below c, hence below rest
        free_list_remove(n);
        rest_size += n->size();
    }
    c->set(keep, kTagUsed, c->prev_is_free());
    rest->set(0, kTagFree, false);
    make_free(rest, rest_size);
    free_list_insert(rest, hint);
}

// --- allocation ---------------------------------------------------------------

Heap::Chunk* Heap::find_fit(std::size_t need, std::size_t align, std::size_t* lead) const
{
    for (Chunk* c = free_head_; c != nullptr; c = c->next_free) {
        if (c->tag() != kTagFree || c->size() < kMinChunk) {
            (void)report("heap: free chunk header overwritten (write after free?)", c->payload(), Errno::XEN_EIO);
            return nullptr;
        }
        const auto base = reinterpret_cast<std::uintptr_t>(c);
        std::size_t l = round_up(base + kHeader, align) - kHeader - base;
        // A leading gap must be able to stand as a free chunk of its own.
        while (l != 0 && l < kMinChunk) l += align;
        if (l + need <= c->size()) {
            *lead = l;
            return c;
        }
    }
    return nullptr;
}

Status Heap::grow(std::size_t need, std::size_t align)
{
    std::size_t bytes = sizeof(Arena) + need + kHeader + (align > kAlign ? align + kMinChunk : 0);
    bytes = round_up(bytes, kPageSize);
    if (bytes < arena_pages_ * kPageSize) bytes = arena_pages_ * kPageSize;
    auto mem = pages_.alloc(bytes / kPageSize);
    if (!mem) return Err(mem.error());

    auto* a = static_cast<Arena*>(*mem);
    a->next = arenas_;
    a->bytes = bytes;
    a->magic = kArenaMagic;
    a->reserved = 0;
    arenas_ = a;
    Chunk* c = a->first();
    const std::size_t size = bytes - sizeof(Arena) - kHeader;
    Chunk* e = a->end();
    e->set(0, kTagEnd, false);
    c->set(0, kTagFree, false);
    make_free(c, size);
    free_list_insert(c, nullptr);

    ++stats_.arenas;
    stats_.arena_bytes += bytes;
    if (stats_.arena_bytes > stats_.peak_arena_bytes) stats_.peak_arena_bytes = stats_.arena_bytes;
    return {};
}

// Takes free chunk c: a leading gap of `lead` bytes stays free, the next
// `need` bytes become the allocation, a big enough tail is freed again.
void* Heap::carve(Chunk* c, std::size_t lead, std::size_t need)
{
    Chunk* hint = c->prev_free;
    free_list_remove(c);
    const std::size_t total = c->size();
    Chunk* u = c;
    if (lead != 0) {
        c->set(lead, kTagFree, c->prev_is_free());
        free_list_insert(c, hint);
        hint = c;
        u = c->at(lead);
        u->prev_size = lead;
        u->set(total - lead, kTagUsed, true);
    } else {
        u->set(total, kTagUsed, c->prev_is_free());
    }
    u->next()->word &= ~kPrevFreeBit;
    if (u->size() - need >= kMinChunk) {
        Chunk* rest = u->at(need);
        const std::size_t rest_size = u->size() - need;
        u->set(need, kTagUsed, u->prev_is_free());
        rest->set(0, kTagFree, false);
        make_free(rest, rest_size);
        free_list_insert(rest, hint);
    }

    stats_.bytes_in_use += u->size() - kHeader;
    if (stats_.bytes_in_use > stats_.peak_bytes_in_use) stats_.peak_bytes_in_use = stats_.bytes_in_use;
    ++stats_.live_allocations;
    ++stats_.total_allocations;
    return u->payload();
}

Result<void*> Heap::allocate(std::size_t size, std::size_t align)
{
    if (align < kAlign) align = kAlign;
    if ((align & (align - 1)) != 0) return Err(Errno::XEN_EINVAL);
    IrqGuard guard;
    if (size > kMaxRequest || align > kMaxRequest) {
        ++stats_.failed_allocations;
        return Err(Errno::XEN_ENOMEM);
    }
    std::size_t need = round_up(size + kHeader, kAlign);
    if (need < kMinChunk) need = kMinChunk;

    const std::uint64_t corruptions = stats_.corruptions;
    std::size_t lead = 0;
    Chunk* c = find_fit(need, align, &lead);
    if (c == nullptr && stats_.corruptions == corruptions) {
        if (auto grown = grow(need, align); grown) c = find_fit(need, align, &lead);
    }
    if (c == nullptr) {
        ++stats_.failed_allocations;
        return Err(stats_.corruptions != corruptions ? Errno::XEN_EIO : Errno::XEN_ENOMEM);
    }
    return carve(c, lead, need);
}

void* Heap::calloc(std::size_t n, std::size_t size)
{
    if (size != 0 && n > ~std::size_t{0} / size) return nullptr;
    void* p = malloc(n * size);
    if (p != nullptr) __builtin_memset(p, 0, n * size);
    return p;
}

// --- release --------------------------------------------------------------------

Heap::Arena* Heap::arena_of(const void* p) const
{
    for (Arena* a = arenas_; a != nullptr; a = a->next) {
        const auto* lo = reinterpret_cast<const char*>(a->first()) + kHeader;
        const auto* hi = reinterpret_cast<const char*>(a->end());
        if (p >= lo && p < hi) return a;
    }
    return nullptr;
}

// The chunk of a pointer malloc returned, after every check that it is one.
Result<Heap::Chunk*> Heap::used_chunk(const void* p, bool rep) const
{
    auto fail = [&](const char* what, Errno e) -> Result<Chunk*> {
        return Err(rep ? report(what, p, e) : e);
    };
    if (reinterpret_cast<std::uintptr_t>(p) % kAlign != 0) return fail("heap: free of a misaligned pointer", Errno::XEN_EINVAL);
    Arena* a = arena_of(p);
    if (a == nullptr) return fail("heap: free of a pointer the heap never returned", Errno::XEN_EINVAL);
    Chunk* c = Chunk::of(p);
    if (c->tag() == kTagFree) return fail("heap: double free", Errno::XEN_EINVAL);
    if (c->tag() != kTagUsed) return fail("heap: free of a pointer that is not an allocation", Errno::XEN_EINVAL);
    const auto room = static_cast<std::size_t>(reinterpret_cast<char*>(a->end()) - reinterpret_cast<char*>(c));
    if (c->size() < kMinChunk || c->size() > room)
        return fail("heap: chunk header overwritten (underflow of this block?)", Errno::XEN_EIO);
    Chunk* n = c->next();
    if ((n->tag() != kTagUsed && n->tag() != kTagFree && n->tag() != kTagEnd) || n->prev_is_free())
        return fail("heap: the chunk after this block is overwritten (overflow?)", Errno::XEN_EIO);
    if (c->prev_is_free()) {
        const auto below = static_cast<std::size_t>(reinterpret_cast<char*>(c) - reinterpret_cast<char*>(a->first()));
        Chunk* pc = c->prev();
        if (c->prev_size > below || c->prev_size < kMinChunk || pc->tag() != kTagFree || pc->size() != c->prev_size)
            return fail("heap: the free chunk before this block is overwritten", Errno::XEN_EIO);
    }
    return c;
}

bool Heap::arena_empty(const Arena* a) const
{
    Chunk* f = const_cast<Arena*>(a)->first();
    return f->tag() == kTagFree && f->next() == const_cast<Arena*>(a)->end();
}

void Heap::release_arena(Arena* a)
{
    free_list_remove(a->first());
    for (Arena** link = &arenas_; *link != nullptr; link = &(*link)->next) {
        if (*link == a) {
            *link = a->next;
            break;
        }
    }
    --stats_.arenas;
    stats_.arena_bytes -= a->bytes;
    a->magic = 0;
    if (auto freed = pages_.free(a, a->bytes / kPageSize); !freed)
        (void)report("heap: page allocator refused an arena back", a, freed.error());
}

Status Heap::release(void* p)
{
    if (p == nullptr) return {};
    IrqGuard guard;
    auto r = used_chunk(p, true);
    if (!r) return Err(r.error());
    Chunk* c = *r;
    std::size_t size = c->size();
    stats_.bytes_in_use -= size - kHeader;
    --stats_.live_allocations;
    ++stats_.total_frees;
    // Stamped free even if it is about to vanish into its lower neighbour: a
    // second free of this pointer then reads as the double free it is.
    c->set(size, kTagFree, c->prev_is_free());

    Chunk* hint = nullptr;
    Chunk* n = c->next();
    if (n->tag() == kTagFree) {
        hint = n->prev_free;
        free_list_remove(n);
        size += n->size();
    }
    if (c->prev_is_free()) {
        c = c->prev();  // already on the list: it just grows
        make_free(c, c->size() + size);
    } else {
        make_free(c, size);
        free_list_insert(c, hint);
    }

    // An empty arena goes back to the page allocator unless it is the only spare.
    Arena* a = arena_of(c->payload());
    if (arena_empty(a)) {
        for (Arena* other = arenas_; other != nullptr; other = other->next) {
            if (other != a && arena_empty(other)) {
                release_arena(a);
                break;
            }
        }
    }
    return {};
}

Result<void*> Heap::reallocate(void* p, std::size_t size)
{
    if (p == nullptr) return allocate(size);
    if (size == 0) {
        KEEL_TRY(release(p));
        return static_cast<void*>(nullptr);
    }
    if (size > kMaxRequest) return Err(Errno::XEN_ENOMEM);
    IrqGuard guard;
    auto r = used_chunk(p, true);
    if (!r) return Err(r.error());
    Chunk* c = *r;
    std::size_t need = round_up(size + kHeader, kAlign);
    if (need < kMinChunk) need = kMinChunk;
    const std::size_t old = c->size();

    Chunk* n = c->next();
    if (old < need && n->tag() == kTagFree && old + n->size() >= need) {
        free_list_remove(n);  // absorb the free neighbour, then give back what is left
        make_used(c, old + n->size());
    }
    if (c->size() >= need) {
        split_tail(c, need);
        stats_.bytes_in_use = stats_.bytes_in_use - old + c->size();
        if (stats_.bytes_in_use > stats_.peak_bytes_in_use) stats_.peak_bytes_in_use = stats_.bytes_in_use;
        return p;
    }
    auto q = allocate(size);
    if (!q) return q;
    __builtin_memcpy(*q, p, old - kHeader);
    (void)release(p);
    return q;
}

std::size_t Heap::usable_size(const void* p) const
{
    if (p == nullptr) return 0;
    IrqGuard guard;
    auto r = used_chunk(p, false);
    return r ? r.value()->size() - kHeader : 0;
}

void Heap::trim()
{
    IrqGuard guard;
    for (Arena* a = arenas_; a != nullptr;) {
        Arena* next = a->next;
        if (arena_empty(a)) release_arena(a);
        a = next;
    }
}

Heap::Stats Heap::stats() const
{
    IrqGuard guard;
    return stats_;
}

// --- consistency walk -------------------------------------------------------------

Status Heap::check() const
{
    IrqGuard guard;
    auto bad = [&](const char* what, const void* p) -> Status { return Err(report(what, p, Errno::XEN_EIO)); };
    std::uint64_t free_seen = 0, used_bytes = 0, live = 0;
    for (Arena* a = arenas_; a != nullptr; a = a->next) {
        if (a->magic != kArenaMagic) return bad("heap check: arena header overwritten", a);
        Chunk* c = a->first();
        bool prev_free = false;
        std::size_t prev_size = 0;
        while (c != a->end()) {
            const auto room = static_cast<std::size_t>(reinterpret_cast<char*>(a->end()) - reinterpret_cast<char*>(c));
            if (c->size() < kMinChunk || c->size() > room) return bad("heap check: chunk size out of bounds", c);
            if (c->tag() != kTagUsed && c->tag() != kTagFree) return bad("heap check: bad chunk tag", c);
            if (c->prev_is_free() != prev_free) return bad("heap check: previous-free flag wrong", c);
            if (prev_free && c->prev_size != prev_size) return bad("heap check: boundary tag wrong", c);
            const bool is_free = c->tag() == kTagFree;
            if (is_free && prev_free) return bad("heap check: two adjacent free chunks (missed coalesce)", c);
            if (is_free) ++free_seen;
            else {
                used_bytes += c->size() - kHeader;
                ++live;
            }
            prev_free = is_free;
            prev_size = c->size();
            c = c->next();
        }
        if (c->tag() != kTagEnd || c->prev_is_free() != prev_free || (prev_free && c->prev_size != prev_size))
            return bad("heap check: arena end marker wrong", c);
    }
    std::uint64_t listed = 0;
    for (Chunk* c = free_head_, *prev = nullptr; c != nullptr; prev = c, c = c->next_free) {
        if (c->tag() != kTagFree) return bad("heap check: used chunk on the free list", c);
        if (c->prev_free != prev || (prev != nullptr && prev >= c)) return bad("heap check: free list out of order", c);
        if (arena_of(c->payload()) == nullptr) return bad("heap check: free list leaves the heap", c);
        if (++listed > free_seen) break;
    }
    if (listed != free_seen || listed != stats_.free_chunks) return bad("heap check: free list misses chunks", free_head_);
    if (used_bytes != stats_.bytes_in_use || live != stats_.live_allocations)
        return bad("heap check: statistics disagree with the chunks", nullptr);
    return {};
}

} // namespace keel::uk
