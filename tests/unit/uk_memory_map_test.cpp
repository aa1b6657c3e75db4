// usable_ranges: RAM banks minus reservations, in whole pages.
#include <gtest/gtest.h>

#include <keel/uk/memory_map.hpp>

#include <vector>

using keel::uk::MemRange;

namespace {

std::vector<MemRange> usable(std::vector<MemRange> banks, std::vector<MemRange> reserved, std::size_t max = 16)
{
    std::vector<MemRange> out(max);
    auto n = keel::uk::usable_ranges(banks.data(), banks.size(), reserved.data(), reserved.size(), out.data(), max);
    EXPECT_TRUE(n.ok()) << keel::errno_name(n.error());
    out.resize(n.ok() ? *n : 0);
    return out;
}

void expect_ranges(const std::vector<MemRange>& got, const std::vector<MemRange>& want)
{
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].base, want[i].base) << "range " << i;
        EXPECT_EQ(got[i].size, want[i].size) << "range " << i;
    }
}

} // namespace

TEST(UkMemoryMap, BankWithoutReservationsIsAllUsable)
{
    expect_ranges(usable({{0x40000000, 0x4000000}}, {}), {{0x40000000, 0x4000000}});
}

TEST(UkMemoryMap, ImageAndDeviceTreeCarvedOut)
{
    // 64 MiB at 0x40000000, image 0x40080000-0x40123456, DT at the top.
    expect_ranges(usable({{0x40000000, 0x4000000}}, {{0x40080000, 0xa3456}, {0x43e00010, 0x1000}}),
                  {{0x40000000, 0x80000}, {0x40124000, 0x43e00000 - 0x40124000}, {0x43e02000, 0x44000000 - 0x43e02000}});
}

TEST(UkMemoryMap, ReservationsRoundOutwardBanksInward)
{
    expect_ranges(usable({{0x1800, 0x10000}}, {{0x4001, 1}}), {{0x2000, 0x2000}, {0x5000, 0x11000 - 0x5000}});
}

TEST(UkMemoryMap, OverlappingAndChainedReservations)
{
    expect_ranges(usable({{0x0, 0x100000}}, {{0x10000, 0x10000}, {0x18000, 0x10000}, {0x28000, 0x8000}}),
                  {{0x0, 0x10000}, {0x30000, 0xd0000}});
}

TEST(UkMemoryMap, ReservationPastBankEndAndBetweenBanks)
{
    // Two banks (Xen's GUEST_RAM0/GUEST_RAM1 layout); one reservation covers the
    // end of the first bank and the gap; another lies outside all RAM.
    expect_ranges(usable({{0x200000000, 0x100000}, {0x40000000, 0x100000}},
                         {{0x400f0000, 0x10000000}, {0x38000000, 0x1000000}}),
                  {{0x40000000, 0xf0000}, {0x200000000, 0x100000}});
}

TEST(UkMemoryMap, FullyReservedBankVanishes)
{
    expect_ranges(usable({{0x40000000, 0x10000}, {0x50000000, 0x10000}}, {{0x40000000, 0x10000}}),
                  {{0x50000000, 0x10000}});
}

TEST(UkMemoryMap, TooManyRangesIsE2big)
{
    std::vector<MemRange> reserved;
    for (int i = 1; i < 10; ++i) reserved.push_back({static_cast<std::uint64_t>(i) * 0x10000, 0x1000});
    MemRange bank{0, 0x100000};
    MemRange out[4];
    auto n = keel::uk::usable_ranges(&bank, 1, reserved.data(), reserved.size(), out, 4);
    EXPECT_EQ(n.error(), keel::Errno::XEN_E2BIG);
}

TEST(UkMemoryMap, WrappingRangeIsEinval)
{
    MemRange bank{0xfffffffffff00000, 0x200000};
    MemRange out[4];
    auto n = keel::uk::usable_ranges(&bank, 1, nullptr, 0, out, 4);
    EXPECT_EQ(n.error(), keel::Errno::XEN_EINVAL);
}
