// The vGICv2 distributor as Linux's irq-gic driver uses it: banked private
// registers, ITARGETSR, GICD_SGIR and per-source SGI pending state.
#include "vgic_test_support.hpp"

namespace keel::vgic::test {
namespace {

using namespace regs;

class VgicV2Regs : public VgicTest {
protected:
    void SetUp() override
    {
        init_v2(3);
        write(0, gicd(kGicdCtlr), 1);
    }
};

TEST_F(VgicV2Regs, LinuxProbeSequence)
{
    EXPECT_EQ(read(0, gicd(kPidr2V2)) & 0xF0, 0x20u);
    const std::uint64_t typer = read(0, gicd(kGicdTyper));
    EXPECT_EQ(((typer & 0x1F) + 1) * 32, kNrIrqs);
    EXPECT_EQ((typer >> 5) & 7, 2u) << "CPUNumber = vCPUs - 1";
    EXPECT_EQ(typer & (1u << 10), 0u) << "no Security Extensions";
    EXPECT_EQ(read(0, gicd(kGicdIidr)), kIidr);

    // gic_get_cpumask: OR of ITARGETSR0..7 must name exactly the reading CPU.
    for (unsigned cpu = 0; cpu < 3; ++cpu) {
        std::uint32_t mask = 0;
        for (unsigned i = 0; i < 32; i += 4) mask |= static_cast<std::uint32_t>(read(cpu, gicd(kItargetsr + i)));
        mask |= mask >> 16;
        mask |= mask >> 8;
        EXPECT_EQ(mask & 0xFF, 1u << cpu);
        EXPECT_EQ(read(cpu, gicd(kItargetsr + 29), 1), 1u << cpu);
    }
    // Private targets are read-only.
    write(1, gicd(kItargetsr), 0xFFFFFFFF);
    EXPECT_EQ(read(1, gicd(kItargetsr)), 0x02020202u);

    // GICD_CTLR: Enable is bit 0 (Linux writes 1).
    write(0, gicd(kGicdCtlr), 0);
    EXPECT_EQ(read(0, gicd(kGicdCtlr)), 0u);
    write(0, gicd(kGicdCtlr), 0xFFFFFFFF);
    EXPECT_EQ(read(0, gicd(kGicdCtlr)), 0x3u);
}

TEST_F(VgicV2Regs, PrivateBanksFollowTheAccessingVcpu)
{
    write(0, gicd(kIsenabler), 0x0000FFFF);
    write(1, gicd(kIsenabler), 0x08000000);
    EXPECT_EQ(read(0, gicd(kIsenabler)), 0xFFFFu);
    EXPECT_EQ(read(1, gicd(kIsenabler)), 0x08000000u);
    EXPECT_EQ(read(2, gicd(kIsenabler)), 0u);
    write(2, gicd(kIpriorityr + 27), 0x40, 1);
    EXPECT_EQ(read(2, gicd(kIpriorityr + 24)), 0x40000000u);
    EXPECT_EQ(read(0, gicd(kIpriorityr + 24)), 0u);
    // SPIs are shared.
    write(0, gicd(kIsenabler + 4), 0x1);
    EXPECT_EQ(read(2, gicd(kIsenabler + 4)), 0x1u);
    EXPECT_EQ(read(0, gicd(kIgroupr + 4)), 0u) << "everything in group 0";
    write(0, gicd(kIgroupr + 4), ~0u);
    EXPECT_EQ(read(0, gicd(kIgroupr + 4)), 0u);
}

TEST_F(VgicV2Regs, ItargetsrRoutesSpis)
{
    EXPECT_EQ(read(0, gicd(kItargetsr + 32), 1), 1u) << "SPIs start on vCPU 0";
    write(0, gicd(kItargetsr + 32), 0x04040404);   // SPIs 32..35 -> vCPU 2
    EXPECT_EQ(read(0, gicd(kItargetsr + 32)), 0x04040404u);
    write(0, gicd(kItargetsr + 33), 0xF8, 1);   // only vCPUs 0..2 exist
    EXPECT_EQ(read(0, gicd(kItargetsr + 33), 1), 0u);

    enable(0, 32);
    enable(0, 33);
    gic.inject_edge(0, 32);
    gic.inject_edge(0, 33);
    EXPECT_TRUE(hooks.kicked(2));
    EXPECT_EQ(fill(0).size(), 0u);
    auto lrs = fill(2);
    ASSERT_EQ(lrs.size(), 1u) << "SPI 33 targets nobody";
    EXPECT_EQ(lrs[0].intid, 32);
    sync(2, lrs);
    // Re-target 33 at vCPU 1 (and 0; the lowest takes it): now it is delivered.
    hooks.clear();
    write(0, gicd(kItargetsr + 33), 0x3, 1);
    EXPECT_TRUE(hooks.kicked(0));
    EXPECT_EQ(intids(fill(0)), std::vector<unsigned>{33});
}

TEST_F(VgicV2Regs, SgirTargetListFilters)
{
    for (unsigned cpu = 0; cpu < 3; ++cpu) enable(cpu, 1);

    write(0, gicd(kGicdSgir), (0u << 24) | (0x6u << 16) | 1);   // list: vCPUs 1, 2
    EXPECT_FALSE(gic.has_deliverable(0));
    EXPECT_TRUE(gic.has_deliverable(1));
    EXPECT_TRUE(gic.has_deliverable(2));
    EXPECT_TRUE(hooks.kicked(1) && hooks.kicked(2) && !hooks.kicked(0));
    auto lrs = fill(1);
    ASSERT_EQ(lrs.size(), 1u);
    EXPECT_EQ(lrs[0].intid, 1);
    EXPECT_EQ(lrs[0].source_vcpu, 0) << "GICC_IAR.CPUID tells the guest who sent it";
    ack(lrs[0]);
    eoi(lrs[0]);
    sync(1, lrs);
    sync(2, fill(2));

    write(1, gicd(kGicdSgir), (1u << 24) | 1);   // all but self
    EXPECT_TRUE(gic.has_deliverable(0));
    EXPECT_FALSE(gic.has_deliverable(1));
    EXPECT_TRUE(gic.has_deliverable(2));
    EXPECT_EQ(read(0, gicd(kGicdSpendsgir + 1), 1), 0x2u) << "SGI 1 pending from vCPU 1";

    write(2, gicd(kGicdCpendsgir), 0xFF, 1);   // vCPU 2 clears all sources of its SGIs 0 and 1
    write(2, gicd(kGicdCpendsgir + 1), 0xFF, 1);
    EXPECT_FALSE(gic.has_deliverable(2));

    write(2, gicd(kGicdSgir), (2u << 24) | (0x1u << 16) | 1);   // self only; list ignored
    EXPECT_TRUE(gic.has_deliverable(2));
    EXPECT_EQ(read(2, gicd(kGicdSpendsgir), 1) >> 0, 0u) << "SGI 0 untouched";
    EXPECT_EQ(read(2, gicd(kGicdSpendsgir + 1), 1), 0x4u);

    write(2, gicd(kGicdCpendsgir + 1), 0x4, 1);
    write(0, gicd(kGicdSgir), (3u << 24) | (0x7u << 16) | 1);   // reserved filter: nothing
    EXPECT_FALSE(gic.has_deliverable(2));
    EXPECT_FALSE(gic.has_deliverable(1));
    EXPECT_EQ(read(0, gicd(kGicdSgir)), 0u) << "write-only";
}

TEST_F(VgicV2Regs, SgiSourcesArePresentedOneAtATime)
{
    enable(2, 5);
    write(0, gicd(kGicdSgir), (0x4u << 16) | 5);
    write(1, gicd(kGicdSgir), (0x4u << 16) | 5);
    EXPECT_EQ(read(2, gicd(kGicdSpendsgir + 4)), 0x0300u) << "SGI 5 from vCPUs 0 and 1";
    EXPECT_EQ(read(2, gicd(kIspendr)) & (1u << 5), 1u << 5);

    auto lrs = fill(2);
    ASSERT_EQ(lrs.size(), 1u) << "one LR per vINTID";
    EXPECT_EQ(lrs[0].source_vcpu, 0);
    EXPECT_TRUE(lrs[0].eoi_maintenance) << "another source waits behind it";
    ack(lrs[0]);
    sync(2, lrs);

    lrs = fill(2);   // the active one stays; source 1 waits until it is deactivated
    ASSERT_EQ(lrs.size(), 1u);
    EXPECT_TRUE(lrs[0].active);
    EXPECT_FALSE(lrs[0].pending);
    EXPECT_EQ(lrs[0].source_vcpu, 0);
    eoi(lrs[0]);
    sync(2, lrs);

    lrs = fill(2);
    ASSERT_EQ(lrs.size(), 1u);
    EXPECT_TRUE(lrs[0].pending);
    EXPECT_EQ(lrs[0].source_vcpu, 1);
    EXPECT_FALSE(lrs[0].eoi_maintenance);
    ack(lrs[0]);
    eoi(lrs[0]);
    sync(2, lrs);
    EXPECT_FALSE(gic.has_deliverable(2));
    EXPECT_EQ(fill(2).size(), 0u);
}

TEST_F(VgicV2Regs, SgiPendingOnlyThroughSgiRegisters)
{
    enable(0, 2);
    write(0, gicd(kIspendr), 1u << 2);   // WI for SGIs on GICv2
    EXPECT_FALSE(gic.has_deliverable(0));
    write(0, gicd(kGicdSpendsgir), 0x00060000);   // SGI 2 from vCPUs 1 and 2
    EXPECT_EQ(read(0, gicd(kGicdSpendsgir)), 0x00060000u);
    EXPECT_TRUE(gic.has_deliverable(0));
    write(0, gicd(kIcpendr), 1u << 2);   // also WI
    EXPECT_TRUE(gic.has_deliverable(0));
    write(0, gicd(kGicdCpendsgir + 2), 0x6, 1);
    EXPECT_FALSE(gic.has_deliverable(0));
    write(0, gicd(kGicdSpendsgir), 0xF0, 1);   // sources 4..7 do not exist
    EXPECT_EQ(read(0, gicd(kGicdSpendsgir)), 0u);

    // A PPI, by contrast, pends through ISPENDR0.
    enable(0, 27);
    write(0, gicd(kIspendr), 1u << 27);
    EXPECT_TRUE(gic.has_deliverable(0));
}

TEST_F(VgicV2Regs, InjectedSgiComesFromItsOwnVcpu)
{
    enable(1, 7);
    gic.inject_edge(1, 7);
    auto lrs = fill(1);
    ASSERT_EQ(lrs.size(), 1u);
    EXPECT_EQ(lrs[0].source_vcpu, 1);
}

TEST_F(VgicV2Regs, WindowAndSizes)
{
    std::uint64_t v;
    EXPECT_EQ(gic.read(0, kGicd + 0x1000, 4, v), MmioResult::NotMine) << "4 KiB window";
    EXPECT_EQ(gic.read(0, kGicr, 4, v), MmioResult::NotMine) << "no redistributors";
    EXPECT_EQ(gic.read(0, gicd(kGicdSgir), 1, v), MmioResult::BadAccess);
    EXPECT_EQ(gic.read(0, gicd(kItargetsr + 32), 2, v), MmioResult::BadAccess);
    EXPECT_EQ(gic.read(0, gicd(kGicdSpendsgir), 8, v), MmioResult::BadAccess);
    EXPECT_EQ(read(0, gicd(kItargetsr + 40), 1), 1u);
    EXPECT_EQ(read(0, gicd(kIcfgr)), 0xAAAAAAAAu);
    EXPECT_EQ(read(0, gicd(0x0FFC)), 0xB1u) << "CIDR3";
}

} // namespace
} // namespace keel::vgic::test
