// The guest runtime's stage-1 identity map builder (sdk/runtime/src/page_table.cpp), on the host.
#include <gtest/gtest.h>

#include "page_table.hpp"  // sdk/runtime/src

using keel::guest::IdentityMap;
using keel::guest::kIdentityMapLimit;
using keel::guest::MemoryType;
using keel::guest::TablePage;

namespace {

constexpr std::uint64_t kMiB = 1 << 20;
constexpr std::uint64_t kGiB = 1ull << 30;

struct Pool {
    TablePage pages[16];
};

} // namespace

TEST(GuestIdentityMap, WholeSpaceAsDeviceUsesOnlyTheRoot)
{
    static Pool pool;
    IdentityMap map(pool.pages, 16);
    ASSERT_TRUE(map.map(0, kIdentityMapLimit, MemoryType::kDevice).ok());
    EXPECT_EQ(map.tables_used(), 1u);
    auto m = map.lookup(0x09000000);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->type, MemoryType::kDevice);
    EXPECT_EQ(m->level, 1u);
    EXPECT_EQ(map.root_address(), reinterpret_cast<std::uintptr_t>(&pool.pages[0]));
}

TEST(GuestIdentityMap, RamSplitsBlocksAndKeepsNeighboursDevice)
{
    static Pool pool;
    IdentityMap map(pool.pages, 16);
    ASSERT_TRUE(map.map(0, kIdentityMapLimit, MemoryType::kDevice).ok());
    // 64 MiB at 1 GiB plus a ragged 12 KiB tail: 2 MiB blocks, then 4 KiB pages.
    ASSERT_TRUE(map.map(0x40000000, 64 * kMiB + 0x3000, MemoryType::kNormal).ok());
    EXPECT_EQ(map.tables_used(), 3u);  // root, one level 2, one level 3

    auto first = map.lookup(0x40000000);
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first->type, MemoryType::kNormal);
    EXPECT_EQ(first->level, 2u);

    auto tail = map.lookup(0x44002fff);
    ASSERT_TRUE(tail.ok());
    EXPECT_EQ(tail->type, MemoryType::kNormal);
    EXPECT_EQ(tail->level, 3u);

    auto past = map.lookup(0x44003000);
    ASSERT_TRUE(past.ok());
    EXPECT_EQ(past->type, MemoryType::kDevice);
    EXPECT_EQ(past->level, 3u);  // the split 2 MiB block keeps its device pages

    auto far_past = map.lookup(0x45000000);
    ASSERT_TRUE(far_past.ok());
    EXPECT_EQ(far_past->type, MemoryType::kDevice);
    EXPECT_EQ(far_past->level, 2u);

    auto other_gib = map.lookup(2 * kGiB);
    ASSERT_TRUE(other_gib.ok());
    EXPECT_EQ(other_gib->level, 1u);
}

TEST(GuestIdentityMap, DescriptorsEncodeAttributes)
{
    static Pool pool;
    IdentityMap map(pool.pages, 16);
    ASSERT_TRUE(map.map(0, kIdentityMapLimit, MemoryType::kDevice).ok());
    ASSERT_TRUE(map.map(1 * kGiB, 1 * kGiB, MemoryType::kNormal).ok());
    const std::uint64_t normal = pool.pages[0].entry[1];
    const std::uint64_t device = pool.pages[0].entry[0];
    EXPECT_EQ(normal & 0xfffff000ull, 1 * kGiB);
    EXPECT_EQ(normal & 3, 1u);                   // block
    EXPECT_EQ((normal >> 2) & 7, 1u);            // AttrIndx 1: normal write-back
    EXPECT_EQ((normal >> 8) & 3, 3u);            // inner shareable
    EXPECT_NE(normal & (1ull << 10), 0u);        // AF
    EXPECT_EQ(normal & (1ull << 53), 0u);        // executable at EL1
    EXPECT_EQ((device >> 2) & 7, 0u);            // AttrIndx 0: Device-nGnRE
    EXPECT_NE(device & (1ull << 53), 0u);        // PXN
    EXPECT_NE(device & (1ull << 54), 0u);        // UXN
}

TEST(GuestIdentityMap, RejectsBadRangesAndRunsOutCleanly)
{
    static Pool pool;
    IdentityMap map(pool.pages, 2);
    EXPECT_EQ(map.map(0x1000, 0x800, MemoryType::kNormal).error(), keel::Errno::XEN_EINVAL);
    EXPECT_EQ(map.map(kIdentityMapLimit - 0x1000, 0x2000, MemoryType::kNormal).error(), keel::Errno::XEN_EINVAL);
    // One page needs a level 2 and a level 3 table; the pool has one left.
    EXPECT_EQ(map.map(0x40000000, 0x1000, MemoryType::kNormal).error(), keel::Errno::XEN_ENOMEM);
    EXPECT_FALSE(map.lookup(kIdentityMapLimit).ok());
}
