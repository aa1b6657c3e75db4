// Delivery through the list registers: what fill() presents and in which order,
// the ack/EOI lifecycle through sync(), level re-pend, SGI targeting, SPI routing,
// kicks, and the races between a running vCPU and the rest of the machine.
#include "vgic_test_support.hpp"

namespace keel::vgic::test {
namespace {

using namespace regs;

class VgicDelivery : public VgicTest {
protected:
    void SetUp() override
    {
        init_v3(4);
        enable_distributor();
    }
};

TEST_F(VgicDelivery, DistributorEnableGatesDelivery)
{
    write(0, gicd(kGicdCtlr), 0);
    enable(0, 40);
    gic.inject_edge(0, 40);
    EXPECT_FALSE(gic.has_deliverable(0));
    EXPECT_EQ(fill(0).size(), 0u);
    EXPECT_TRUE(hooks.kicks.empty());
    write(0, gicd(kGicdCtlr), kCtlrV3EnableGrp1);   // bit 0 alone is not Group 1 NS
    EXPECT_FALSE(gic.has_deliverable(0));
    write(0, gicd(kGicdCtlr), kCtlrV3EnableGrp1A);
    EXPECT_TRUE(gic.has_deliverable(0));
    EXPECT_TRUE(hooks.kicked(0)) << "enabling the distributor wakes whoever now has work";
    EXPECT_EQ(intids(fill(0)), std::vector<unsigned>{40});
}

TEST_F(VgicDelivery, OnlyEnabledPendingInterruptsArePresented)
{
    gic.inject_edge(0, 40);
    EXPECT_FALSE(gic.has_deliverable(0));
    EXPECT_TRUE(hooks.kicks.empty()) << "nothing to wake for a disabled interrupt";
    enable(0, 40);
    EXPECT_TRUE(hooks.kicked(0)) << "enabling a pending interrupt makes it deliverable";
    EXPECT_TRUE(gic.has_deliverable(0));
    disable(0, 40);
    EXPECT_FALSE(gic.has_deliverable(0));
    EXPECT_EQ(read(0, gicd(kIspendr + 4)), 1u << 8) << "still pending while disabled";
}

TEST_F(VgicDelivery, FillOrdersByPriorityThenIntid)
{
    const unsigned ids[] = {33, 34, 35, 36, 37};
    const std::uint8_t prios[] = {0xa0, 0x80, 0xa0, 0x20, 0xf0};
    for (unsigned i = 0; i < 5; ++i) {
        enable(0, ids[i]);
        set_priority(0, ids[i], prios[i]);
        gic.inject_edge(0, ids[i]);
    }
    auto lrs = fill(0, 3);
    EXPECT_EQ(intids(lrs), (std::vector<unsigned>{36, 34, 33}));
    EXPECT_EQ(lrs[0].priority, 0x20);
    EXPECT_TRUE(lrs[0].pending);
    EXPECT_FALSE(lrs[0].active);
    EXPECT_TRUE(gic.overflowed(0)) << "35 and 37 did not fit";
    sync(0, lrs);   // the guest took none of them
    lrs = fill(0, 8);
    EXPECT_EQ(intids(lrs), (std::vector<unsigned>{36, 34, 33, 35, 37}));
    EXPECT_FALSE(gic.overflowed(0));
}

TEST_F(VgicDelivery, AckEoiLifecycle)
{
    enable(1, 27);   // the virtual timer PPI on vCPU 1
    write(1, sgi(1, kIcfgr + 4), 1u << 23);   // PPI 27 edge
    gic.inject_edge(1, 27);
    EXPECT_TRUE(hooks.kicked(1));
    auto lrs = fill(1);
    ASSERT_EQ(lrs.size(), 1u);
    EXPECT_EQ(lrs[0].intid, 27);
    EXPECT_TRUE(lrs[0].pending);
    EXPECT_FALSE(lrs[0].eoi_maintenance);

    ack(lrs[0]);   // guest read ICC_IAR1_EL1
    sync(1, lrs);
    EXPECT_FALSE(gic.has_deliverable(1)) << "active, not pending";
    EXPECT_EQ(read(1, sgi(1, kIsactiver)), 1u << 27);
    EXPECT_EQ(read(1, sgi(1, kIspendr)), 0u);

    lrs = fill(1);
    ASSERT_EQ(lrs.size(), 1u) << "active interrupts stay presented";
    EXPECT_TRUE(lrs[0].active);
    EXPECT_FALSE(lrs[0].pending);

    eoi(lrs[0]);   // guest wrote ICC_EOIR1_EL1
    sync(1, lrs);
    EXPECT_EQ(read(1, sgi(1, kIsactiver)), 0u);
    EXPECT_EQ(fill(1).size(), 0u);
    EXPECT_EQ(fill(0).size(), 0u) << "a private interrupt never shows up elsewhere";
}

TEST_F(VgicDelivery, ActiveStaysPresentedAheadOfHigherPriority)
{
    enable(0, 50);
    set_priority(0, 50, 0xf0);
    enable(0, 51);
    set_priority(0, 51, 0x00);
    gic.inject_edge(0, 50);
    auto lrs = fill(0, 1);
    ack(lrs[0]);
    sync(0, lrs);
    gic.inject_edge(0, 51);
    lrs = fill(0, 1);
    ASSERT_EQ(lrs.size(), 1u);
    EXPECT_EQ(lrs[0].intid, 50) << "the active one keeps its LR until deactivated";
    EXPECT_TRUE(gic.overflowed(0)) << "51 is waiting: ask for an underflow exit";
    eoi(lrs[0]);
    sync(0, lrs);
    EXPECT_EQ(intids(fill(0, 1)), std::vector<unsigned>{51});
}

TEST_F(VgicDelivery, EdgeArrivingWhileActiveIsActiveAndPending)
{
    write(0, gicd(kIcfgr + 24), 0x2);   // SPI 96 edge (ICFGR6 covers 96..111)
    enable(0, 96);
    gic.inject_edge(0, 96);
    auto lrs = fill(0);
    ack(lrs[0]);
    sync(0, lrs);
    gic.inject_edge(0, 96);
    lrs = fill(0);
    ASSERT_EQ(lrs.size(), 1u);
    EXPECT_TRUE(lrs[0].active);
    EXPECT_TRUE(lrs[0].pending);
    // Guest EOIs the first instance: the LR turns pending, guest takes it again.
    lrs[0].active = false;
    ack(lrs[0]);
    eoi(lrs[0]);
    sync(0, lrs);
    EXPECT_EQ(fill(0).size(), 0u) << "two edges, two deliveries, no more";
}

TEST_F(VgicDelivery, LevelInterruptRependsWhileLineIsHigh)
{
    // The emulated UART's SPI: level-sensitive (the reset configuration).
    enable(0, 33);
    gic.set_level(0, 33, true);
    EXPECT_TRUE(hooks.kicked(0));
    auto lrs = fill(0);
    ASSERT_EQ(lrs.size(), 1u);
    EXPECT_TRUE(lrs[0].pending);
    EXPECT_TRUE(lrs[0].eoi_maintenance) << "we must look again at EOI";

    ack(lrs[0]);
    sync(0, lrs);
    lrs = fill(0);
    ASSERT_EQ(lrs.size(), 1u);
    EXPECT_TRUE(lrs[0].active);
    EXPECT_TRUE(lrs[0].pending) << "line still high: active and pending";

    // Guest EOIs without servicing the device: pending again.
    lrs[0].active = false;
    sync(0, lrs);
    EXPECT_TRUE(gic.has_deliverable(0));
    lrs = fill(0);
    ASSERT_EQ(lrs.size(), 1u);
    EXPECT_TRUE(lrs[0].pending);
    EXPECT_FALSE(lrs[0].active);

    // Guest acks, services the UART (trap: sync first, then the device lowers
    // the line), then EOIs: gone for good.
    ack(lrs[0]);
    sync(0, lrs);
    gic.set_level(0, 33, false);
    lrs = fill(0);
    ASSERT_EQ(lrs.size(), 1u);
    EXPECT_TRUE(lrs[0].active);
    EXPECT_FALSE(lrs[0].pending);
    EXPECT_FALSE(lrs[0].eoi_maintenance);
    eoi(lrs[0]);
    sync(0, lrs);
    EXPECT_FALSE(gic.has_deliverable(0));
    EXPECT_EQ(fill(0).size(), 0u);
}

TEST_F(VgicDelivery, LevelLineDroppedBeforeAckIsNotDelivered)
{
    enable(0, 34);
    gic.set_level(0, 34, true);
    auto lrs = fill(0);
    gic.set_level(0, 34, false);   // device de-asserts while the guest runs
    sync(0, lrs);                  // guest never took it
    EXPECT_FALSE(gic.has_deliverable(0));
    EXPECT_EQ(fill(0).size(), 0u);
    // But a software pend (ISPENDR) of a level interrupt latches.
    write(0, gicd(kIspendr + 4), 1u << 2);
    EXPECT_EQ(intids(fill(0)), std::vector<unsigned>{34});
}

TEST_F(VgicDelivery, EdgeConfiguredLineLatchesOnRisingEdge)
{
    write(0, gicd(kIcfgr + 8), 0x2 << 4);   // SPI 34 edge
    enable(0, 34);
    gic.set_level(0, 34, true);
    gic.set_level(0, 34, false);
    auto lrs = fill(0);
    ASSERT_EQ(lrs.size(), 1u) << "the edge was latched";
    ack(lrs[0]);
    eoi(lrs[0]);
    sync(0, lrs);
    gic.set_level(0, 34, true);
    gic.set_level(0, 34, true);   // no new edge
    lrs = fill(0);
    ASSERT_EQ(lrs.size(), 1u);
    ack(lrs[0]);
    eoi(lrs[0]);
    sync(0, lrs);
    EXPECT_EQ(fill(0).size(), 0u);
}

TEST_F(VgicDelivery, InjectionBetweenFillAndSyncIsNotLost)
{
    write(0, gicd(kIcfgr + 8), 0x2);   // SPI 32 edge
    enable(0, 32);
    gic.inject_edge(0, 32);
    auto lrs = fill(0);
    ASSERT_EQ(lrs.size(), 1u);
    hooks.clear();
    // Another pCPU injects while vCPU 0 runs with the first one in its LR.
    gic.inject_edge(0, 32);
    EXPECT_TRUE(hooks.kicked(0)) << "the running vCPU must be made to exit";
    // The guest had acknowledged the first one meanwhile.
    ack(lrs[0]);
    sync(0, lrs);
    lrs = fill(0);
    ASSERT_EQ(lrs.size(), 1u);
    EXPECT_TRUE(lrs[0].active);
    EXPECT_TRUE(lrs[0].pending) << "the second edge survived the sync";

    // Same race, but the guest had already finished with the first one.
    lrs[0] = ListReg{32, 0, false, false, 0, false};
    sync(0, lrs);
    gic.inject_edge(0, 32);
    lrs = fill(0);
    ASSERT_EQ(lrs.size(), 1u);
    gic.inject_edge(0, 32);
    ack(lrs[0]);
    eoi(lrs[0]);
    sync(0, lrs);
    EXPECT_TRUE(gic.has_deliverable(0));
    lrs = fill(0);
    ASSERT_EQ(lrs.size(), 1u);
    EXPECT_TRUE(lrs[0].pending);
}

TEST_F(VgicDelivery, UntakenInterruptSurvivesSyncAndRefill)
{
    enable(0, 3);
    gic.inject_edge(0, 3);
    auto lrs = fill(0);
    ASSERT_EQ(lrs.size(), 1u);
    EXPECT_FALSE(gic.has_deliverable(0)) << "it is in the LR now";
    sync(0, lrs);   // exited before the guest took it
    EXPECT_TRUE(gic.has_deliverable(0));
    // fill() twice without a sync (the vCPU did not run after all): nothing lost.
    ASSERT_EQ(fill(0).size(), 1u);
    lrs = fill(0);
    ASSERT_EQ(lrs.size(), 1u);
    EXPECT_TRUE(lrs[0].pending);
    // sync() with LRs handed back out of order, or not at all, is taken as "untouched".
    gic.sync(0, nullptr, 0);
    lrs = fill(0);
    ASSERT_EQ(lrs.size(), 1u);
    ack(lrs[0]);
    eoi(lrs[0]);
    sync(0, lrs);
    EXPECT_FALSE(gic.has_deliverable(0));
}

TEST_F(VgicDelivery, ClearPendingWhileInLrIsNotUndoneBySync)
{
    enable(0, 45);
    gic.inject_edge(0, 45);
    auto lrs = fill(0);
    write(1, gicd(kIcpendr + 4), 1u << 13);   // vCPU 1 clears it
    sync(0, lrs);   // the LR still said pending
    EXPECT_FALSE(gic.has_deliverable(0));
}

TEST_F(VgicDelivery, SgiTargetListAndAff1)
{
    for (unsigned v = 0; v < 4; ++v) enable(v, 6);
    // ICC_SGI1R_EL1: INTID 6, Aff1 0, TargetList {1, 3}.
    gic.send_sgi_v3(0, 6ull << 24 | 0b1010);
    EXPECT_FALSE(gic.has_deliverable(0));
    EXPECT_TRUE(gic.has_deliverable(1));
    EXPECT_FALSE(gic.has_deliverable(2));
    EXPECT_TRUE(gic.has_deliverable(3));
    EXPECT_TRUE(hooks.kicked(1) && hooks.kicked(3));
    for (unsigned v : {1u, 3u}) {
        auto lrs = fill(v);
        ASSERT_EQ(lrs.size(), 1u);
        EXPECT_EQ(lrs[0].intid, 6);
        ack(lrs[0]);
        eoi(lrs[0]);
        sync(v, lrs);
    }
    // Aff1 = 1 (or Aff2/Aff3) names a cluster we do not have.
    gic.send_sgi_v3(0, 6ull << 24 | 1ull << 16 | 0xF);
    gic.send_sgi_v3(0, 6ull << 24 | 1ull << 32 | 0xF);
    gic.send_sgi_v3(0, 6ull << 24 | 1ull << 48 | 0xF);
    // RS = 1 names Aff0 16..31: nobody here.
    gic.send_sgi_v3(0, 6ull << 24 | 1ull << 44 | 0xF);
    for (unsigned v = 0; v < 4; ++v) EXPECT_FALSE(gic.has_deliverable(v)) << v;
    // IRM = 1: everyone but the sender.
    gic.send_sgi_v3(2, 6ull << 24 | 1ull << 40);
    EXPECT_TRUE(gic.has_deliverable(0));
    EXPECT_TRUE(gic.has_deliverable(1));
    EXPECT_FALSE(gic.has_deliverable(2));
    EXPECT_TRUE(gic.has_deliverable(3));
    // Self-IPI through the TargetList.
    gic.send_sgi_v3(2, 6ull << 24 | 1u << 2);
    EXPECT_TRUE(gic.has_deliverable(2));
}

TEST_F(VgicDelivery, SpiRoutingFollowsIrouter)
{
    enable(0, 64);
    route_v3(64, 2);
    gic.inject_edge(0, 64);   // the `vcpu` argument does not matter for an SPI
    EXPECT_TRUE(hooks.kicked(2));
    EXPECT_FALSE(gic.has_deliverable(0));
    EXPECT_TRUE(gic.has_deliverable(2));
    EXPECT_EQ(fill(0).size(), 0u);
    EXPECT_EQ(intids(fill(2)), std::vector<unsigned>{64});
    gic.sync(2, nullptr, 0);

    hooks.clear();
    route_v3(64, 3);   // migrate while pending
    EXPECT_TRUE(hooks.kicked(3));
    EXPECT_TRUE(gic.has_deliverable(3));
    EXPECT_FALSE(gic.has_deliverable(2));

    route_v3(64, kIrouterIrm | 3);   // 1-of-N: vCPU 0
    EXPECT_TRUE(gic.has_deliverable(0));

    route_v3(64, 1ull << 8);   // Aff1 = 1: no such vCPU, the interrupt waits
    for (unsigned v = 0; v < 4; ++v) EXPECT_FALSE(gic.has_deliverable(v));
    route_v3(64, 9);           // Aff0 = 9: likewise
    for (unsigned v = 0; v < 4; ++v) EXPECT_FALSE(gic.has_deliverable(v));
    EXPECT_EQ(read(0, gicd(kIspendr + 8)), 1u) << "still pending";
    route_v3(64, 1);
    EXPECT_TRUE(gic.has_deliverable(1));
}

TEST_F(VgicDelivery, SpiReroutedWhileHeldInAnotherVcpusLr)
{
    enable(0, 70);
    gic.inject_edge(0, 70);
    auto lrs0 = fill(0);
    ASSERT_EQ(lrs0.size(), 1u);
    hooks.clear();
    route_v3(70, 1);   // vCPU 1 reroutes it while vCPU 0 runs with it in an LR
    EXPECT_EQ(fill(1).size(), 0u) << "never in two vCPUs' LRs at once";
    EXPECT_FALSE(gic.has_deliverable(1));
    gic.sync(1, nullptr, 0);
    sync(0, lrs0);   // vCPU 0 exits without having taken it
    EXPECT_TRUE(hooks.kicked(1)) << "the new owner hears about it";
    EXPECT_EQ(fill(0).size(), 0u);
    EXPECT_EQ(intids(fill(1)), std::vector<unsigned>{70});
}

TEST_F(VgicDelivery, ActiveSpiStaysWithTheVcpuThatAcknowledgedIt)
{
    enable(0, 71);
    write(0, gicd(kIcfgr + 16), 0x2u << 14);   // SPI 71 edge
    gic.inject_edge(0, 71);
    auto lrs = fill(0);
    ack(lrs[0]);
    sync(0, lrs);
    route_v3(71, 1);
    gic.inject_edge(0, 71);   // pending again, but active on vCPU 0
    EXPECT_FALSE(gic.has_deliverable(1));
    EXPECT_EQ(fill(1).size(), 0u);
    gic.sync(1, nullptr, 0);
    lrs = fill(0);
    ASSERT_EQ(lrs.size(), 1u);
    EXPECT_TRUE(lrs[0].active && lrs[0].pending);
    // Deactivated on vCPU 0 with the second instance untaken: it moves to vCPU 1.
    hooks.clear();
    lrs[0].active = false;
    sync(0, lrs);
    EXPECT_TRUE(hooks.kicked(1));
    EXPECT_EQ(fill(0).size(), 0u);
    EXPECT_EQ(intids(fill(1)), std::vector<unsigned>{71});
}

TEST_F(VgicDelivery, KicksComeWithoutTheLockHeld)
{
    static Vgic* self = nullptr;
    static bool saw = false;
    self = &gic;
    saw = false;
    // A kick handler that calls straight back into the vGIC would deadlock if
    // the lock were still held.
    hooks.on_kick = [](unsigned v) { saw = self->has_deliverable(v); };
    enable(2, 9);
    gic.send_sgi_v3(0, 9ull << 24 | 1u << 2);
    EXPECT_TRUE(saw);
}

TEST_F(VgicDelivery, MoreLrsThanWeTrackIsClamped)
{
    for (unsigned i = 32; i < 64; ++i) {
        enable(0, i);
        gic.inject_edge(0, i);
    }
    std::vector<ListReg> lrs(64);
    const unsigned n = gic.fill(0, lrs.data(), 64);
    EXPECT_EQ(n, kMaxLrs);
    EXPECT_TRUE(gic.overflowed(0));
    EXPECT_EQ(gic.fill(0, nullptr, 4), 0u);
    EXPECT_EQ(gic.fill(0, lrs.data(), 0), 0u);
    EXPECT_TRUE(gic.overflowed(0));
    gic.sync(0, nullptr, 0);
    lrs.resize(gic.fill(0, lrs.data(), 64));
    EXPECT_EQ(lrs.size(), kMaxLrs) << "nothing was lost by the empty fills";
}

} // namespace
} // namespace keel::vgic::test
