// The unikernel heap: malloc/free/realloc/aligned_alloc semantics, statistics,
// corruption reports (double free, bad pointers, overflows, writes after free),
// and randomized sequences that check no two live blocks overlap and that
// freeing everything coalesces back to whole arenas and whole pages.
#include <gtest/gtest.h>

#include <keel/uk/heap.hpp>
#include <keel/uk/page_allocator.hpp>

#include "uk_test_support.hpp"

#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

using keel::Errno;
using keel::kPageSize;
using keel::uk::Heap;
using keel::uk::PageAllocator;

namespace {

std::vector<std::string> g_reports;
void record(const char* what, const void*) { g_reports.emplace_back(what); }

std::uintptr_t addr(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

struct UkHeap : ::testing::Test {
    uk_test::HostRam ram{16 << 20};
    PageAllocator pages;
    std::uint64_t initial_free = 0;
    Heap heap{pages, record};
    bool broken_on_purpose = false;  // a test that damages the heap skips the final walk

    void SetUp() override
    {
        g_reports.clear();
        ASSERT_TRUE(pages.add_range(ram.base(), ram.size()).ok());
        initial_free = pages.stats().free_pages;
    }
    void TearDown() override
    {
        if (!broken_on_purpose) {
            EXPECT_TRUE(heap.check().ok());
        }
    }
};

} // namespace

TEST_F(UkHeap, MallocFreeAndStatistics)
{
    void* a = heap.malloc(100);
    void* b = heap.malloc(1);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(addr(a) % 16, 0u);
    EXPECT_EQ(addr(b) % 16, 0u);
    EXPECT_GE(heap.usable_size(a), 100u);
    EXPECT_GE(heap.usable_size(b), 1u);
    auto s = heap.stats();
    EXPECT_EQ(s.live_allocations, 2u);
    EXPECT_EQ(s.bytes_in_use, heap.usable_size(a) + heap.usable_size(b));
    EXPECT_EQ(s.arenas, 1u);
    EXPECT_EQ(s.arena_bytes, Heap::kDefaultArenaPages * kPageSize);
    EXPECT_EQ(pages.stats().free_pages, initial_free - Heap::kDefaultArenaPages);
    const auto peak = s.bytes_in_use;
    heap.free(a);
    heap.free(b);
    s = heap.stats();
    EXPECT_EQ(s.bytes_in_use, 0u);
    EXPECT_EQ(s.peak_bytes_in_use, peak);
    EXPECT_EQ(s.live_allocations, 0u);
    EXPECT_EQ(s.total_allocations, 2u);
    EXPECT_EQ(s.total_frees, 2u);
    EXPECT_EQ(s.free_chunks, 1u);  // fully coalesced
    EXPECT_EQ(s.arenas, 1u);       // kept as the spare
    heap.trim();
    EXPECT_EQ(heap.stats().arenas, 0u);
    EXPECT_EQ(pages.stats().free_pages, initial_free);
    EXPECT_TRUE(g_reports.empty());
}

TEST_F(UkHeap, ZeroSizeAndNull)
{
    void* a = heap.malloc(0);
    void* b = heap.malloc(0);
    ASSERT_NE(a, nullptr);
    EXPECT_NE(a, b);
    EXPECT_TRUE(heap.release(nullptr).ok());
    EXPECT_EQ(heap.usable_size(nullptr), 0u);
    heap.free(a);
    heap.free(b);
}

TEST_F(UkHeap, AlignedAllocations)
{
    std::vector<void*> blocks;
    for (std::size_t align = 16; align <= 16384; align *= 2) {
        for (std::size_t size : {1ul, 40ul, 5000ul}) {
            auto p = heap.allocate(size, align);
            ASSERT_TRUE(p.ok()) << align << " " << size;
            EXPECT_EQ(addr(*p) % align, 0u) << align;
            std::memset(*p, 0x5a, size);
            blocks.push_back(*p);
        }
    }
    EXPECT_TRUE(heap.check().ok());
    EXPECT_EQ(heap.allocate(8, 24).error(), Errno::XEN_EINVAL);
    EXPECT_EQ(heap.aligned_alloc(48, 8), nullptr);
    for (void* p : blocks) heap.free(p);
    EXPECT_EQ(heap.stats().bytes_in_use, 0u);
    heap.trim();
    EXPECT_EQ(pages.stats().free_pages, initial_free);
}

TEST_F(UkHeap, CallocZeroesAndChecksOverflow)
{
    auto* p = static_cast<unsigned char*>(heap.malloc(256));
    std::memset(p, 0xff, 256);
    heap.free(p);
    auto* q = static_cast<unsigned char*>(heap.calloc(16, 16));
    ASSERT_NE(q, nullptr);
    for (int i = 0; i < 256; ++i) ASSERT_EQ(q[i], 0);
    EXPECT_EQ(heap.calloc(~std::size_t{0} / 2, 4), nullptr);
    heap.free(q);
}

TEST_F(UkHeap, ReallocInPlaceAndMoving)
{
    auto* a = static_cast<char*>(heap.malloc(64));
    auto* b = static_cast<char*>(heap.malloc(64));
    std::memcpy(a, "keel unikernel heap", 20);
    // Growing a into b's place is impossible: it moves and keeps its bytes.
    auto* a2 = static_cast<char*>(heap.realloc(a, 500));
    ASSERT_NE(a2, nullptr);
    EXPECT_NE(a2, a);
    EXPECT_STREQ(a2, "keel unikernel heap");
    // b now has a free neighbour below (a's old chunk) and free space after a2? No:
    // grow a2 in place into the free space after it.
    auto* a3 = static_cast<char*>(heap.realloc(a2, 2000));
    EXPECT_EQ(a3, a2);
    EXPECT_GE(heap.usable_size(a3), 2000u);
    // Shrinking stays in place and gives the tail back.
    auto* a4 = static_cast<char*>(heap.realloc(a3, 10));
    EXPECT_EQ(a4, a3);
    EXPECT_LT(heap.usable_size(a4), 64u);
    EXPECT_STREQ(a4, "keel unikernel heap");  // within the first 20 bytes... kept
    // realloc(nullptr) allocates, realloc(p, 0) frees.
    void* c = heap.realloc(nullptr, 32);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(heap.realloc(c, 0), nullptr);
    EXPECT_EQ(heap.stats().live_allocations, 2u);
    heap.free(a4);
    heap.free(b);
    EXPECT_EQ(heap.stats().bytes_in_use, 0u);
    EXPECT_EQ(heap.stats().free_chunks, 1u);
}

TEST_F(UkHeap, LargeAllocationsGetTheirOwnArena)
{
    void* big = heap.malloc(1 << 20);
    ASSERT_NE(big, nullptr);
    std::memset(big, 1, 1 << 20);
    void* small = heap.malloc(32);
    EXPECT_EQ(heap.stats().arenas, 1u);  // the big arena's tail serves small requests
    heap.free(big);
    heap.free(small);
    heap.trim();
    EXPECT_EQ(pages.stats().free_pages, initial_free);
}

TEST_F(UkHeap, OutOfMemoryIsAnError)
{
    std::vector<void*> blocks;
    for (;;) {
        auto p = heap.allocate(200 * 1024);
        if (!p) {
            EXPECT_EQ(p.error(), Errno::XEN_ENOMEM);
            break;
        }
        blocks.push_back(*p);
    }
    EXPECT_GT(blocks.size(), 50u);
    EXPECT_EQ(heap.stats().failed_allocations, 1u);
    EXPECT_EQ(heap.malloc(std::size_t{1} << 50), nullptr);
    EXPECT_TRUE(heap.check().ok());
    for (void* p : blocks) heap.free(p);
    heap.trim();
    EXPECT_EQ(pages.stats().free_pages, initial_free);
    EXPECT_TRUE(g_reports.empty());
}

// --- misuse is reported, never silent ---------------------------------------------

TEST_F(UkHeap, DoubleFreeIsReported)
{
    void* a = heap.malloc(48);
    void* keep = heap.malloc(48);
    ASSERT_TRUE(heap.release(a).ok());
    EXPECT_EQ(heap.release(a).error(), Errno::XEN_EINVAL);
    ASSERT_EQ(g_reports.size(), 1u);
    EXPECT_NE(g_reports[0].find("double free"), std::string::npos) << g_reports[0];
    EXPECT_EQ(heap.stats().corruptions, 1u);
    EXPECT_EQ(heap.stats().live_allocations, 1u);
    heap.free(keep);
}

TEST_F(UkHeap, DoubleFreeAfterCoalescingIsReported)
{
    void* a = heap.malloc(48);
    void* b = heap.malloc(48);
    void* c = heap.malloc(48);
    heap.free(a);
    heap.free(b);  // merges into a's chunk; b's old header stays marked free
    EXPECT_EQ(heap.release(b).error(), Errno::XEN_EINVAL);
    ASSERT_EQ(g_reports.size(), 1u);
    EXPECT_NE(g_reports[0].find("double free"), std::string::npos);
    heap.free(c);
}

TEST_F(UkHeap, BadPointersAreReported)
{
    auto* a = static_cast<char*>(heap.malloc(256));
    int on_stack = 0;
    EXPECT_EQ(heap.release(&on_stack).error(), Errno::XEN_EINVAL);
    EXPECT_EQ(heap.release(a + 8).error(), Errno::XEN_EINVAL);    // misaligned
    std::memset(a, 0, 256);
    EXPECT_EQ(heap.release(a + 64).error(), Errno::XEN_EINVAL);   // interior
    EXPECT_EQ(g_reports.size(), 3u);
    EXPECT_EQ(heap.usable_size(a + 64), 0u);  // a question, not a misuse: no report
    EXPECT_EQ(g_reports.size(), 3u);
    EXPECT_EQ(heap.stats().live_allocations, 1u);
    heap.free(a);
}

TEST_F(UkHeap, OverflowIntoTheNextHeaderIsReported)
{
    auto* a = static_cast<char*>(heap.malloc(32));
    auto* b = static_cast<char*>(heap.malloc(32));
    const std::size_t room = heap.usable_size(a);
    std::memset(a, 0x41, room + 16);  // runs over b's header
    EXPECT_EQ(heap.release(a).error(), Errno::XEN_EIO);
    ASSERT_EQ(g_reports.size(), 1u);
    EXPECT_NE(g_reports[0].find("overflow"), std::string::npos) << g_reports[0];
    EXPECT_EQ(heap.check().error(), Errno::XEN_EIO);
    (void)b;
    broken_on_purpose = true;
}

TEST_F(UkHeap, WriteAfterFreeIsReportedOnTheNextAllocation)
{
    auto* a = static_cast<char*>(heap.malloc(64));
    void* b = heap.malloc(64);
    heap.free(a);
    std::memset(a - 16, 0, 32);  // clobbers the free chunk's header and links
    EXPECT_EQ(heap.allocate(16).error(), Errno::XEN_EIO);
    ASSERT_GE(g_reports.size(), 1u);
    EXPECT_NE(g_reports[0].find("after free"), std::string::npos) << g_reports[0];
    (void)b;
    broken_on_purpose = true;
}

// --- randomized ---------------------------------------------------------------------

namespace {

struct Block {
    std::size_t size;
    std::uint8_t fill;
};

void expect_fill(const void* p, const Block& b)
{
    const auto* bytes = static_cast<const std::uint8_t*>(p);
    std::size_t i = 0;
    while (i < b.size && bytes[i] == b.fill) ++i;
    ASSERT_EQ(i, b.size) << "byte " << i << " of " << p << " changed";
}

} // namespace

// Mixed malloc / aligned_alloc / realloc / free: live blocks never overlap and
// keep their contents; the heap's own walk agrees at every step; freeing it
// all (in random order) leaves one free chunk per arena, and trim returns
// every page.
TEST_F(UkHeap, RandomizedNoOverlapAndFullCoalescing)
{
    for (unsigned seed : {1u, 2u, 3u}) {
        std::mt19937 rng(seed);
        std::map<std::uintptr_t, Block> live;
        auto overlaps = [&](std::uintptr_t a, std::size_t size) {
            auto after = live.lower_bound(a);
            if (after != live.end() && a + size > after->first) return true;
            if (after != live.begin()) {
                auto before = std::prev(after);
                if (before->first + before->second.size > a) return true;
            }
            return false;
        };
        auto random_size = [&]() -> std::size_t {
            switch (rng() % 10) {
            case 0: return rng() % 100000;         // beyond one arena sometimes
            case 1: case 2: return rng() % 4096;
            default: return rng() % 200;
            }
        };
        for (int step = 0; step < 20000; ++step) {
            const unsigned op = rng() % 100;
            if (live.empty() || op < 45) {
                const std::size_t size = random_size();
                const std::size_t align = op % 7 == 0 ? std::size_t{16} << (rng() % 9) : 16;
                auto p = heap.allocate(size, align);
                ASSERT_TRUE(p.ok()) << keel::errno_name(p.error());
                const auto a = addr(*p);
                ASSERT_EQ(a % align, 0u);
                ASSERT_GE(heap.usable_size(*p), size);
                ASSERT_FALSE(overlaps(a, size));
                const Block b{size, static_cast<std::uint8_t>(rng())};
                std::memset(*p, b.fill, size);
                live[a] = b;
            } else if (op < 60) {
                auto it = live.begin();
                std::advance(it, rng() % live.size());
                ASSERT_NO_FATAL_FAILURE(expect_fill(reinterpret_cast<void*>(it->first), it->second));
                const std::size_t size = random_size() + 1;
                auto q = heap.reallocate(reinterpret_cast<void*>(it->first), size);
                ASSERT_TRUE(q.ok());
                Block b = it->second;
                live.erase(it);
                const std::size_t kept = b.size < size ? b.size : size;
                ASSERT_NO_FATAL_FAILURE(expect_fill(*q, Block{kept, b.fill}));
                ASSERT_FALSE(overlaps(addr(*q), size));
                b.size = size;
                std::memset(*q, b.fill, size);
                live[addr(*q)] = b;
            } else {
                auto it = live.begin();
                std::advance(it, rng() % live.size());
                ASSERT_NO_FATAL_FAILURE(expect_fill(reinterpret_cast<void*>(it->first), it->second));
                ASSERT_TRUE(heap.release(reinterpret_cast<void*>(it->first)).ok());
                live.erase(it);
            }
            if (step % 97 == 0) {
                ASSERT_TRUE(heap.check().ok()) << "step " << step;
            }
            ASSERT_EQ(heap.stats().live_allocations, live.size());
        }
        std::vector<std::uintptr_t> order;
        for (auto& [a, b] : live) order.push_back(a);
        std::shuffle(order.begin(), order.end(), rng);
        for (auto a : order) {
            ASSERT_NO_FATAL_FAILURE(expect_fill(reinterpret_cast<void*>(a), live[a]));
            ASSERT_TRUE(heap.release(reinterpret_cast<void*>(a)).ok());
        }
        const auto s = heap.stats();
        EXPECT_EQ(s.bytes_in_use, 0u);
        EXPECT_EQ(s.live_allocations, 0u);
        EXPECT_EQ(s.free_chunks, s.arenas);  // every arena one free chunk
        EXPECT_LE(s.arenas, 1u);             // all but the spare went back already
        EXPECT_GT(s.peak_bytes_in_use, 0u);
        ASSERT_TRUE(heap.check().ok());
        heap.trim();
        EXPECT_EQ(pages.stats().free_pages, initial_free);
        EXPECT_TRUE(g_reports.empty());
    }
}
