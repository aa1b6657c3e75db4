#include "host_table_memory.hpp"
#include "mm/stage2_format.hpp"
#include "mm/stage2_table.hpp"

#include <gtest/gtest.h>

using namespace keel;
using namespace keel::mm;

namespace {

constexpr std::uint64_t MiB = 1ull << 20, GiB = 1ull << 30;

struct Stage2 : ::testing::Test {
    test::HostTableMemory mem;
    Stage2Table t;
    void SetUp() override { ASSERT_TRUE(t.init(mem).ok()); }
    void TearDown() override
    {
        t.destroy();
        EXPECT_EQ(mem.live(), 0u) << "table pages leaked";
    }
    std::uint64_t root_entry(std::uint64_t ipa) { return mem.table_ptr(t.root())[s2::index_at(ipa, 1)]; }
};

} // namespace

TEST_F(Stage2, GuestRamUsesBlocksAndTranslates)
{
    // 64 MiB of guest RAM at 0x40000000 backed by 2 MiB-aligned host memory.
    ASSERT_TRUE(t.map(IpAddr(0x40000000), PhysAddr(0x80200000), 64 * MiB, MemType::Normal, {}).ok());
    // Root entry for 1 GiB at 0x40000000 is a table; its entries are 2 MiB blocks.
    const std::uint64_t l1 = root_entry(0x40000000);
    ASSERT_EQ(l1 & 3, 3u);
    const std::uint64_t* l2 = mem.table_ptr(PhysAddr(l1 & s2::kOutputMask));
    EXPECT_EQ(l2[0] & 3, 1u) << "expected a 2 MiB block descriptor";
    EXPECT_EQ(l2[0] & s2::kOutputMask, 0x80200000u);
    EXPECT_EQ(l2[31] & s2::kOutputMask, 0x80200000u + 31 * 2 * MiB);
    EXPECT_EQ(l2[32], 0u);
    EXPECT_EQ(mem.live(), 2u) << "root + one level-2 table, no level-3 tables";

    auto tr = t.translate(IpAddr(0x40000000 + 5 * MiB + 0x123));
    ASSERT_TRUE(tr.ok());
    EXPECT_EQ(tr->pa.raw(), 0x80200000u + 5 * MiB + 0x123);
    EXPECT_EQ(tr->type, MemType::Normal);
    EXPECT_TRUE(tr->access.write);
    EXPECT_EQ(t.translate(IpAddr(0x40000000 + 64 * MiB)).error(), Errno::XEN_ENOENT);
}

TEST_F(Stage2, DeviceMappingIsPageGrainedAndNeverExecutable)
{
    ASSERT_TRUE(t.map(IpAddr(0x03002000), PhysAddr(0x08040000), 0x2000, MemType::Device, {}).ok());
    auto tr = t.translate(IpAddr(0x03003004));
    ASSERT_TRUE(tr.ok());
    EXPECT_EQ(tr->pa.raw(), 0x08041004u);
    EXPECT_EQ(tr->type, MemType::Device);
    EXPECT_FALSE(tr->access.exec);
    EXPECT_FALSE(t.translate(IpAddr(0x03001000)).ok());
    EXPECT_FALSE(t.translate(IpAddr(0x03004000)).ok());
}

TEST_F(Stage2, OneGigabyteBlockWhenBothSidesAligned)
{
    ASSERT_TRUE(t.map(IpAddr(GiB), PhysAddr(2 * GiB), GiB, MemType::Normal, {}).ok());
    EXPECT_EQ(root_entry(GiB) & 3, 1u);
    EXPECT_EQ(mem.live(), 1u);
}

TEST_F(Stage2, OverlapIsRefusedWithoutPartialState)
{
    ASSERT_TRUE(t.map(IpAddr(0x40400000), PhysAddr(0x90000000), 2 * MiB, MemType::Normal, {}).ok());
    EXPECT_EQ(t.map(IpAddr(0x40000000), PhysAddr(0xa0000000), 8 * MiB, MemType::Normal, {}).error(), Errno::XEN_EEXIST);
    EXPECT_FALSE(t.translate(IpAddr(0x40000000)).ok()) << "failed map left a partial mapping";
    EXPECT_EQ(t.translate(IpAddr(0x40400000))->pa.raw(), 0x90000000u);
}

TEST_F(Stage2, BadArgumentsAreRejected)
{
    EXPECT_EQ(t.map(IpAddr(0x40000001), PhysAddr(0), kPageSize, MemType::Normal, {}).error(), Errno::XEN_EINVAL);
    EXPECT_EQ(t.map(IpAddr(0x40000000), PhysAddr(0x123), kPageSize, MemType::Normal, {}).error(), Errno::XEN_EINVAL);
    EXPECT_EQ(t.map(IpAddr(0x40000000), PhysAddr(0), 0, MemType::Normal, {}).error(), Errno::XEN_EINVAL);
    EXPECT_EQ(t.map(IpAddr((1ull << 39) - kPageSize), PhysAddr(0), 2 * kPageSize, MemType::Normal, {}).error(), Errno::XEN_EINVAL);
    EXPECT_EQ(t.map(IpAddr(~0ull & ~0xfffull), PhysAddr(0), 2 * kPageSize, MemType::Normal, {}).error(), Errno::XEN_EINVAL);
    EXPECT_FALSE(t.translate(IpAddr(~0ull)).ok());
}

TEST_F(Stage2, UnmapSplitsBlocksAtTheEdges)
{
    ASSERT_TRUE(t.map(IpAddr(0x40000000), PhysAddr(0x80000000), 4 * MiB, MemType::Normal, {}).ok());
    // Punch one page out of the middle of the first 2 MiB block (a shared_info-style hole).
    ASSERT_TRUE(t.unmap(IpAddr(0x40001000), kPageSize).ok());
    EXPECT_FALSE(t.translate(IpAddr(0x40001000)).ok());
    EXPECT_EQ(t.translate(IpAddr(0x40000fff))->pa.raw(), 0x80000fffu);
    EXPECT_EQ(t.translate(IpAddr(0x40002000))->pa.raw(), 0x80002000u);
    EXPECT_EQ(t.translate(IpAddr(0x40200000))->pa.raw(), 0x80200000u);
    // The hole can be filled with a different page.
    ASSERT_TRUE(t.map(IpAddr(0x40001000), PhysAddr(0x12345000), kPageSize, MemType::Normal, {}).ok());
    EXPECT_EQ(t.translate(IpAddr(0x40001008))->pa.raw(), 0x12345008u);
    // Unmapping everything frees the tables it no longer needs.
    ASSERT_TRUE(t.unmap(IpAddr(0), 1ull << 39).ok());
    EXPECT_EQ(mem.live(), 1u);
}

TEST_F(Stage2, OutOfTableMemoryIsAnError)
{
    mem.fail_after(0);
    EXPECT_EQ(t.map(IpAddr(0x40000000), PhysAddr(0x80000000), kPageSize, MemType::Normal, {}).error(), Errno::XEN_ENOMEM);
}
