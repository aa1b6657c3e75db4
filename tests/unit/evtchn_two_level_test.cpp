// 2-level delivery bits, checked in a real arm64-layout shared_info page: which
// word and bit each step touches, and when the vCPU is interrupted.
#include "evtchn/two_level.hpp"

#include "evtchn_test_support.hpp"

#include <cstring>

using namespace keel::evtchn;
using keel::evtchn::test::Page;

namespace {

struct EvtchnTwoLevelTest : ::testing::Test {
    Page page{};
    SharedInfo& s = *reinterpret_cast<SharedInfo*>(page.bytes);
    VcpuInfo& v0 = s.vcpu_info[0];

    // The same words, read the way a guest compiled against the C header does: by byte offset.
    std::uint64_t word_at(std::size_t offset) const
    {
        std::uint64_t w;
        std::memcpy(&w, page.bytes + offset, sizeof w);
        return w;
    }
};

} // namespace

TEST_F(EvtchnTwoLevelTest, SetPendingSetsPortSelectorAndUpcallAtTheArmOffsets)
{
    // Port 70: word 1, bit 6.
    EXPECT_TRUE(two_level::set_pending(s, v0, 70)) << "first event interrupts the vCPU";
    EXPECT_EQ(word_at(48 + 8 * 1), 1ull << 6) << "evtchn_pending at offset 48";
    EXPECT_EQ(word_at(8), 1ull << 1) << "evtchn_pending_sel at offset 8 of vcpu_info";
    EXPECT_EQ(page.bytes[0], 1) << "evtchn_upcall_pending is byte 0";
    EXPECT_EQ(word_at(560 + 8), 0u) << "mask untouched";
}

TEST_F(EvtchnTwoLevelTest, OnlyTheFirstEventOfAnUnconsumedBatchInterrupts)
{
    EXPECT_TRUE(two_level::set_pending(s, v0, 5));
    EXPECT_FALSE(two_level::set_pending(s, v0, 5)) << "already pending";
    EXPECT_FALSE(two_level::set_pending(s, v0, 6)) << "same word already selected";
    EXPECT_FALSE(two_level::set_pending(s, v0, 64 * 3)) << "new word, but the upcall flag is still set";
    EXPECT_EQ(v0.evtchn_pending_sel, (1ull << 0) | (1ull << 3));
    // The guest takes the upcall: clears the flag and the selector, leaves port bits pending.
    v0.evtchn_upcall_pending = 0;
    v0.evtchn_pending_sel = 0;
    EXPECT_FALSE(two_level::set_pending(s, v0, 5)) << "port 5 was never cleared by the guest: still pending";
    EXPECT_TRUE(two_level::set_pending(s, v0, 7));
}

TEST_F(EvtchnTwoLevelTest, MaskedPortStaysPendingUntilUnmasked)
{
    s.evtchn_mask[2] = 1ull << 1;  // port 129
    EXPECT_FALSE(two_level::set_pending(s, v0, 129));
    EXPECT_TRUE(two_level::is_pending(s, 129));
    EXPECT_EQ(v0.evtchn_pending_sel, 0u);
    EXPECT_EQ(v0.evtchn_upcall_pending, 0);

    EXPECT_TRUE(two_level::unmask(s, v0, 129)) << "unmask delivers what was held back";
    EXPECT_FALSE(two_level::is_masked(s, 129));
    EXPECT_EQ(v0.evtchn_pending_sel, 1ull << 2);
    EXPECT_EQ(v0.evtchn_upcall_pending, 1);
}

TEST_F(EvtchnTwoLevelTest, UnmaskOfANotMaskedOrNotPendingPortDeliversNothing)
{
    EXPECT_FALSE(two_level::unmask(s, v0, 9)) << "not masked";
    s.evtchn_mask[0] = 1ull << 9;
    EXPECT_FALSE(two_level::unmask(s, v0, 9)) << "masked but not pending";
    EXPECT_FALSE(two_level::is_masked(s, 9));
    EXPECT_EQ(v0.evtchn_upcall_pending, 0);
}

TEST_F(EvtchnTwoLevelTest, ClearPendingTouchesOnlyItsBit)
{
    s.evtchn_pending[0] = 0b1110;
    two_level::clear_pending(s, 2);
    EXPECT_EQ(s.evtchn_pending[0], 0b1010u);
}

TEST_F(EvtchnTwoLevelTest, HighestPortUsesTheLastWord)
{
    EXPECT_TRUE(two_level::set_pending(s, v0, kTwoLevelPorts - 1));
    EXPECT_EQ(s.evtchn_pending[63], 1ull << 63);
    EXPECT_EQ(v0.evtchn_pending_sel, 1ull << 63);
}

TEST_F(EvtchnTwoLevelTest, GuestDrainSeesEachEventOnce)
{
    ASSERT_TRUE(two_level::set_pending(s, v0, 3));
    (void)two_level::set_pending(s, v0, 700);
    s.evtchn_mask[0] |= 1ull << 4;
    (void)two_level::set_pending(s, v0, 4);
    auto got = keel::evtchn::test::guest_drain(s, v0);
    EXPECT_EQ(got, (std::vector<evtchn_port_t>{3, 700}));
    EXPECT_TRUE(two_level::is_pending(s, 4)) << "masked one waits";
    EXPECT_TRUE(two_level::unmask(s, v0, 4));
    EXPECT_EQ(keel::evtchn::test::guest_drain(s, v0), (std::vector<evtchn_port_t>{4}));
}

TEST(EvtchnPortPending, ReadsTheSharedInfoBitAndRefusesOutOfRangePorts)
{
    static keel::evtchn::SharedInfo shared{};
    keel::evtchn::EventDomain d;
    ASSERT_TRUE(d.init(keel::DomainId(1), &shared, 1).ok());
    EXPECT_FALSE(d.port_pending(5));
    shared.evtchn_pending[0] |= 1ull << 5;
    EXPECT_TRUE(d.port_pending(5));
    EXPECT_FALSE(d.port_pending(4));
    EXPECT_FALSE(d.port_pending(~0u)) << "beyond the 2-level port space";
}
