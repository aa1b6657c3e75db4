// The unikernel's page-frame allocator: contiguous runs, alignment, exact
// frees (double free / wrong size / interior pointer refused), exhaustion,
// and randomized sequences that must never hand out a page twice.
#include <gtest/gtest.h>

#include <keel/uk/page_allocator.hpp>

#include "uk_test_support.hpp"

#include <algorithm>
#include <map>
#include <random>
#include <vector>

using keel::Errno;
using keel::kPageSize;
using keel::uk::PageAllocator;

namespace {

std::uintptr_t addr(void* p) { return reinterpret_cast<std::uintptr_t>(p); }

struct UkPageAllocator : ::testing::Test {
    uk_test::HostRam ram{4 << 20};  // 1024 pages
    PageAllocator pages;
    void SetUp() override { ASSERT_TRUE(pages.add_range(ram.base(), ram.size()).ok()); }
};

} // namespace

TEST_F(UkPageAllocator, BookkeepingLivesInTheRange)
{
    const auto s = pages.stats();
    EXPECT_EQ(s.bookkeeping_pages, 1u);  // 2 bitmaps x 16 words for 1024 pages
    EXPECT_EQ(s.total_pages, 1023u);
    EXPECT_EQ(s.free_pages, 1023u);
    auto p = pages.alloc(1);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(addr(*p), ram.base() + kPageSize);  // first fit, after the bitmaps
    EXPECT_TRUE(pages.owns(*p));
    EXPECT_FALSE(pages.owns(ram.bytes()));  // the bitmaps are not allocatable
}

TEST_F(UkPageAllocator, ContiguousAndAlignedRuns)
{
    auto a = pages.alloc(3);
    auto b = pages.alloc(16, 16);
    auto c = pages.alloc(1);
    ASSERT_TRUE(a.ok() && b.ok() && c.ok());
    EXPECT_EQ(addr(*b) % (16 * kPageSize), 0u);
    EXPECT_EQ(addr(*a) + 3 * kPageSize, addr(*c));  // c fills the hole before b's alignment
    EXPECT_EQ(pages.stats().free_pages, 1023u - 20);
    EXPECT_EQ(pages.stats().peak_used_pages, 20u);
    EXPECT_TRUE(pages.free(*b, 16).ok());
    EXPECT_TRUE(pages.free(*a, 3).ok());
    EXPECT_TRUE(pages.free(*c, 1).ok());
    EXPECT_EQ(pages.stats().free_pages, 1023u);
    EXPECT_EQ(pages.stats().peak_used_pages, 20u);
}

TEST_F(UkPageAllocator, BadFreesAreRefusedAndChangeNothing)
{
    auto a = pages.alloc(4);
    auto b = pages.alloc(2);
    ASSERT_TRUE(a.ok() && b.ok());
    const auto before = pages.stats().free_pages;
    EXPECT_EQ(pages.free(*a, 3).error(), Errno::XEN_EINVAL);  // too few
    EXPECT_EQ(pages.free(*a, 5).error(), Errno::XEN_EINVAL);  // runs into b
    EXPECT_EQ(pages.free(static_cast<char*>(*a) + kPageSize, 1).error(), Errno::XEN_EINVAL);  // interior
    EXPECT_EQ(pages.free(static_cast<char*>(*a) + 8, 4).error(), Errno::XEN_EINVAL);  // unaligned
    EXPECT_EQ(pages.free(ram.bytes(), 1).error(), Errno::XEN_EINVAL);  // bookkeeping
    int outside = 0;
    EXPECT_EQ(pages.free(&outside, 1).error(), Errno::XEN_EINVAL);
    EXPECT_EQ(pages.free(*a, 0).error(), Errno::XEN_EINVAL);
    EXPECT_EQ(pages.stats().free_pages, before);

    ASSERT_TRUE(pages.free(*a, 4).ok());
    EXPECT_EQ(pages.free(*a, 4).error(), Errno::XEN_EINVAL);  // double free
    ASSERT_TRUE(pages.free(*b, 2).ok());
    EXPECT_EQ(pages.stats().free_pages, 1023u);
}

TEST_F(UkPageAllocator, FreeCannotSwallowTheNextAllocation)
{
    // Adjacent runs: freeing the first with the combined count must fail even
    // though every page is in use.
    auto a = pages.alloc(2);
    auto b = pages.alloc(2);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ(addr(*a) + 2 * kPageSize, addr(*b));
    EXPECT_EQ(pages.free(*a, 4).error(), Errno::XEN_EINVAL);
    EXPECT_TRUE(pages.free(*a, 2).ok());
    EXPECT_TRUE(pages.free(*b, 2).ok());
}

TEST_F(UkPageAllocator, ExhaustionAndFragmentation)
{
    std::vector<void*> singles;
    for (;;) {
        auto p = pages.alloc(1);
        if (!p) {
            EXPECT_EQ(p.error(), Errno::XEN_ENOMEM);
            break;
        }
        singles.push_back(*p);
    }
    ASSERT_EQ(singles.size(), 1023u);
    EXPECT_EQ(pages.stats().free_pages, 0u);
    for (std::size_t i = 0; i < singles.size(); i += 2) ASSERT_TRUE(pages.free(singles[i], 1).ok());
    EXPECT_EQ(pages.alloc(2).error(), Errno::XEN_ENOMEM);  // 512 free pages, none adjacent
    for (std::size_t i = 1; i < singles.size(); i += 2) ASSERT_TRUE(pages.free(singles[i], 1).ok());
    auto all = pages.alloc(1023);
    ASSERT_TRUE(all.ok());
    EXPECT_TRUE(pages.free(*all, 1023).ok());
}

TEST_F(UkPageAllocator, BadArguments)
{
    EXPECT_EQ(pages.alloc(0).error(), Errno::XEN_EINVAL);
    EXPECT_EQ(pages.alloc(1, 3).error(), Errno::XEN_EINVAL);
    EXPECT_EQ(pages.alloc(1, 0).error(), Errno::XEN_EINVAL);
    EXPECT_EQ(pages.alloc(2000).error(), Errno::XEN_ENOMEM);
}

TEST(UkPageAllocatorZones, SeveralRangesAndOverlap)
{
    uk_test::HostRam ram(8 << 20);
    PageAllocator pages;
    const std::uintptr_t half = ram.base() + (4 << 20);
    ASSERT_TRUE(pages.add_range(ram.base() + 100, (4 << 20) - 100).ok());  // shrinks to whole pages
    EXPECT_EQ(pages.add_range(ram.base() + (2 << 20), 4 << 20).error(), Errno::XEN_EINVAL);
    ASSERT_TRUE(pages.add_range(half, 4 << 20).ok());
    EXPECT_EQ(pages.add_range(ram.base(), 100).error(), Errno::XEN_ENOMEM);
    EXPECT_EQ(pages.stats().total_pages, 1022u + 1023u);
    // A run bigger than what is left in the first zone comes from the second.
    auto big = pages.alloc(1023);
    ASSERT_TRUE(big.ok());
    EXPECT_GE(addr(*big), half);
    EXPECT_TRUE(pages.free(*big, 1023).ok());
}

// Random alloc/free sequences: no page is ever handed out twice (every page
// carries its owner's id, checked when freed), alignment holds, and the end
// state is back to all free.
TEST_F(UkPageAllocator, RandomizedNoOverlap)
{
    std::mt19937 rng(1234);
    struct Run {
        std::size_t pages;
        std::uint32_t id;
    };
    std::map<std::uintptr_t, Run> live;
    std::uint32_t next_id = 1;
    std::size_t used = 0;
    auto check_and_free = [&](std::map<std::uintptr_t, Run>::iterator it) {
        for (std::size_t k = 0; k < it->second.pages; ++k) {
            const auto* w = reinterpret_cast<const std::uint32_t*>(it->first + k * kPageSize);
            ASSERT_EQ(w[0], it->second.id);
            ASSERT_EQ(w[1023], it->second.id);
        }
        ASSERT_TRUE(pages.free(reinterpret_cast<void*>(it->first), it->second.pages).ok());
        used -= it->second.pages;
        live.erase(it);
    };
    for (int step = 0; step < 20000; ++step) {
        if (live.empty() || rng() % 100 < 55) {
            const std::size_t n = rng() % 4 == 0 ? 1 + rng() % 40 : 1 + rng() % 4;
            const std::size_t align = std::size_t{1} << (rng() % 4 == 0 ? rng() % 5 : 0);
            auto p = pages.alloc(n, align);
            if (!p) {
                ASSERT_EQ(p.error(), Errno::XEN_ENOMEM);
                continue;
            }
            const auto a = addr(*p);
            ASSERT_EQ(a % (align * kPageSize), 0u);
            auto after = live.lower_bound(a);
            if (after != live.end()) {
                ASSERT_LE(a + n * kPageSize, after->first);
            }
            if (after != live.begin()) {
                auto before = std::prev(after);
                ASSERT_LE(before->first + before->second.pages * kPageSize, a);
            }
            const std::uint32_t id = next_id++;
            for (std::size_t k = 0; k < n; ++k) {
                auto* w = reinterpret_cast<std::uint32_t*>(a + k * kPageSize);
                w[0] = w[1023] = id;
            }
            live[a] = {n, id};
            used += n;
        } else {
            auto it = live.begin();
            std::advance(it, rng() % live.size());
            check_and_free(it);
        }
        ASSERT_EQ(pages.stats().free_pages, 1023u - used);
    }
    while (!live.empty()) check_and_free(live.begin());
    EXPECT_EQ(pages.stats().free_pages, 1023u);
    auto all = pages.alloc(1023);
    EXPECT_TRUE(all.ok());
}
