#include "mm/page_allocator.hpp"

#include <gtest/gtest.h>
#include <vector>

using namespace keel;
using namespace keel::mm;

namespace {
constexpr std::uint64_t MiB = 1ull << 20;

struct Alloc : ::testing::Test {
    std::vector<std::uint64_t> bitmap = std::vector<std::uint64_t>(PageAllocator::bitmap_words(64 * MiB));
    PageAllocator a;
    void SetUp() override { ASSERT_TRUE(a.add_bank(PhysAddr(0x40000000), 64 * MiB, bitmap.data()).ok()); }
};
} // namespace

TEST_F(Alloc, ReservedRangesAreNeverHandedOut)
{
    a.reserve(PhysAddr(0x40000000), 3 * MiB + 1);  // e.g. the hypervisor image, rounded out to pages
    auto p = a.alloc(1);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->raw(), 0x40000000u + 3 * MiB + 4096);
    EXPECT_EQ(a.free_pages(), a.total_pages() - (3 * MiB / 4096 + 1) - 1);
}

TEST_F(Alloc, AlignmentIsHonoured)
{
    ASSERT_TRUE(a.alloc(1).ok());
    auto big = a.alloc(512, 2 * MiB);
    ASSERT_TRUE(big.ok());
    EXPECT_TRUE(big->aligned(2 * MiB));
    EXPECT_EQ(big->raw(), 0x40200000u);
}

TEST_F(Alloc, ExhaustionAndFreeRoundTrip)
{
    const auto total = a.total_pages();
    auto all = a.alloc(total);
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(a.alloc(1).error(), Errno::XEN_ENOMEM);
    ASSERT_TRUE(a.free(*all, total).ok());
    EXPECT_EQ(a.free_pages(), total);
}

TEST_F(Alloc, BadFreesAreRefused)
{
    auto p = a.alloc(2);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(a.free(*p + 2 * 4096, 1).error(), Errno::XEN_EINVAL) << "page never allocated";
    EXPECT_EQ(a.free(PhysAddr(0x1000), 1).error(), Errno::XEN_EINVAL) << "outside every bank";
    EXPECT_EQ(a.free(*p + 1, 1).error(), Errno::XEN_EINVAL) << "unaligned";
    ASSERT_TRUE(a.free(*p, 2).ok());
    EXPECT_EQ(a.free(*p, 2).error(), Errno::XEN_EINVAL) << "double free";
}

TEST_F(Alloc, BadRequestsAreRefused)
{
    EXPECT_EQ(a.alloc(0).error(), Errno::XEN_EINVAL);
    EXPECT_EQ(a.alloc(1, 3 * 4096).error(), Errno::XEN_EINVAL);
    EXPECT_EQ(a.alloc(1ull << 40).error(), Errno::XEN_ENOMEM);
}
