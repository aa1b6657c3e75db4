// The vGICv3 distributor and redistributors as Linux's irq-gic-v3 driver uses them.
#include "vgic_test_support.hpp"

namespace keel::vgic::test {
namespace {

using namespace regs;

class VgicV3Regs : public VgicTest {
protected:
    void SetUp() override { init_v3(4); }
};

TEST_F(VgicV3Regs, LinuxProbeSequence)
{
    // gic_validate_dist_version: PIDR2[7:4] must say GICv3 (or 4).
    EXPECT_EQ(read(0, gicd(kPidr2V3)) & 0xF0, 0x30u);

    // GICD_TYPER: ITLinesNumber 3 => (3 + 1) * 32 = 128 INTIDs; IDbits 9.
    const std::uint64_t typer = read(0, gicd(kGicdTyper));
    EXPECT_EQ(((typer & 0x1F) + 1) * 32, kNrIrqs);
    EXPECT_EQ((typer >> 19) & 0x1F, 9u);
    EXPECT_EQ(typer & (1u << 17), 0u) << "no LPIs";

    // gic_dist_init: disable, configure, enable with ARE_NS | EnableGrp1A | EnableGrp1.
    write(0, gicd(kGicdCtlr), 0);
    EXPECT_EQ(read(0, gicd(kGicdCtlr)), 0x10u) << "ARE_NS always reads as one, RWP as zero";
    write(0, gicd(kGicdCtlr), 0x13);
    EXPECT_EQ(read(0, gicd(kGicdCtlr)), 0x13u);
    EXPECT_EQ(read(0, gicd(kGicdIidr)), kIidr);

    // gic_iterate_rdists: from the first frame, check PIDR2, read TYPER (64-bit),
    // step 0x20000 until Last. Each CPU finds its frame by TYPER[63:32] == MPIDR affinity.
    unsigned frames = 0;
    for (unsigned i = 0;; ++i) {
        ASSERT_LT(i, 4u) << "walked past the last redistributor";
        EXPECT_EQ(read(0, rd(i, kPidr2V3)) & 0xF0, 0x30u);
        const std::uint64_t rtyper = read(0, rd(i, kGicrTyper), 8);
        EXPECT_EQ(rtyper >> 32, i) << "Aff0 = vCPU index";
        EXPECT_EQ((rtyper >> 8) & 0xFFFF, i) << "Processor_Number";
        EXPECT_EQ(rtyper & 0x3, 0u) << "no LPIs, no vLPIs";
        ++frames;
        if (rtyper & kGicrTyperLast) break;
    }
    EXPECT_EQ(frames, 4u);

    // gic_enable_redist: clear ProcessorSleep, wait for ChildrenAsleep to clear.
    for (unsigned i = 0; i < 4; ++i) {
        const std::uint64_t waker = read(i, rd(i, kGicrWaker));
        EXPECT_EQ(waker, 0x6u) << "asleep out of reset";
        write(i, rd(i, kGicrWaker), waker & ~std::uint64_t{kGicrWakerProcessorSleep});
        EXPECT_EQ(read(i, rd(i, kGicrWaker)) & kGicrWakerChildrenAsleep, 0u);
    }
    // And back to sleep (CPU hotplug off): ChildrenAsleep follows.
    write(2, rd(2, kGicrWaker), kGicrWakerProcessorSleep);
    EXPECT_EQ(read(2, rd(2, kGicrWaker)), 0x6u);
    EXPECT_EQ(read(1, rd(1, kGicrWaker)), 0u) << "each redistributor has its own WAKER";
}

TEST_F(VgicV3Regs, RedistributorTyperAsHalvesAndIdentity)
{
    EXPECT_EQ(read(0, rd(3, kGicrTyper), 4), (3u << 8) | kGicrTyperLast);
    EXPECT_EQ(read(0, rd(3, kGicrTyper + 4), 4), 3u);
    EXPECT_EQ(read(0, rd(1, kGicrTyper), 8) & kGicrTyperLast, 0u);
    EXPECT_EQ(read(0, rd(1, kGicrIidr)), kIidr);
    EXPECT_EQ(read(0, rd(1, kGicrCtlr)), 0u);
    write(0, rd(1, kGicrCtlr), 1);   // EnableLPIs: we have none
    EXPECT_EQ(read(0, rd(1, kGicrCtlr)), 0u);
    write(0, rd(1, kGicrTyper), ~0ull, 8);   // read-only
    EXPECT_EQ(read(0, rd(1, kGicrTyper), 8), 1ull << 32 | 1u << 8);
}

TEST_F(VgicV3Regs, DistributorBanksForPrivateInterruptsAreRazWi)
{
    // With ARE on, INTIDs 0..31 are configured in the redistributors only.
    write(0, gicd(kIsenabler), ~0u);
    write(0, gicd(kIpriorityr), 0x80808080);
    write(0, gicd(kIcfgr + 4), ~0u);
    EXPECT_EQ(read(0, gicd(kIsenabler)), 0u);
    EXPECT_EQ(read(0, gicd(kIpriorityr)), 0u);
    EXPECT_EQ(read(0, gicd(kIcfgr + 4)), 0u);
    EXPECT_EQ(read(0, sgi(0, kIsenabler)), 0u);
    EXPECT_EQ(read(0, sgi(0, kIpriorityr)), 0u);
}

TEST_F(VgicV3Regs, EnableSetAndClearPerBank)
{
    write(0, gicd(kIsenabler + 4), 0x00000105);   // SPIs 32, 34, 40
    EXPECT_EQ(read(0, gicd(kIsenabler + 4)), 0x105u);
    EXPECT_EQ(read(0, gicd(kIcenabler + 4)), 0x105u);
    write(0, gicd(kIcenabler + 4), 0x4);
    EXPECT_EQ(read(0, gicd(kIsenabler + 4)), 0x101u);

    // Linux's gic_cpu_config: disable PPIs, enable SGIs, per redistributor.
    write(1, sgi(1, kIcenabler), 0xFFFF0000);
    write(1, sgi(1, kIsenabler), 0x0000FFFF);
    EXPECT_EQ(read(1, sgi(1, kIsenabler)), 0xFFFFu);
    EXPECT_EQ(read(0, sgi(0, kIsenabler)), 0u) << "vCPU 0's bank is separate";
    // A vCPU may reach another's redistributor: it acts on that frame's vCPU.
    write(0, sgi(2, kIsenabler), 1u << 27);
    EXPECT_EQ(read(2, sgi(2, kIsenabler)), 1u << 27);
    EXPECT_EQ(read(0, sgi(0, kIsenabler)), 0u);
    // SGI frame has only register 0 of each bank: ISENABLER1 is reserved there.
    write(0, sgi(0, kIsenabler + 4), ~0u);
    EXPECT_EQ(read(0, sgi(0, kIsenabler + 4)), 0u);
}

TEST_F(VgicV3Regs, PriorityByteAndWordAccess)
{
    write(0, gicd(kIpriorityr + 32), 0xa0a0a0a0);
    EXPECT_EQ(read(0, gicd(kIpriorityr + 32)), 0xa0a0a0a0u);
    write(0, gicd(kIpriorityr + 33), 0x80, 1);
    EXPECT_EQ(read(0, gicd(kIpriorityr + 32)), 0xa0a080a0u);
    EXPECT_EQ(read(0, gicd(kIpriorityr + 33), 1), 0x80u);
    // Five priority bits are implemented: the low three read as zero.
    write(0, gicd(kIpriorityr + 127), 0xFF, 1);
    EXPECT_EQ(read(0, gicd(kIpriorityr + 127), 1), 0xF8u);
    // Beyond the implemented INTIDs: RAZ/WI.
    write(0, gicd(kIpriorityr + 128), ~0u);
    EXPECT_EQ(read(0, gicd(kIpriorityr + 128)), 0u);
    // Redistributor IPRIORITYR0-7.
    write(3, sgi(3, kIpriorityr + 28), 0x10203040);
    EXPECT_EQ(read(3, sgi(3, kIpriorityr + 28)), 0x10203040u);
    EXPECT_EQ(read(3, sgi(3, kIpriorityr + 31), 1), 0x10u);
    EXPECT_EQ(read(2, sgi(2, kIpriorityr + 28)), 0u);
    // Halfword access is not allowed on IPRIORITYR.
    std::uint64_t v;
    EXPECT_EQ(gic.read(0, gicd(kIpriorityr + 32), 2, v), MmioResult::BadAccess);
}

TEST_F(VgicV3Regs, IcfgrSgisFixedEdgePpisAndSpisProgrammable)
{
    EXPECT_EQ(read(0, sgi(0, kIcfgr)), 0xAAAAAAAAu) << "SGIs are edge";
    write(0, sgi(0, kIcfgr), 0);
    EXPECT_EQ(read(0, sgi(0, kIcfgr)), 0xAAAAAAAAu) << "and read-only";
    EXPECT_EQ(read(0, sgi(0, kIcfgr + 4)), 0u) << "PPIs start level";
    write(0, sgi(0, kIcfgr + 4), 0x80000000);   // PPI 31 edge
    EXPECT_EQ(read(0, sgi(0, kIcfgr + 4)), 0x80000000u) << "Linux checks the read-back";
    write(0, gicd(kIcfgr + 8), 0x0000000A);   // SPIs 32, 33 edge
    EXPECT_EQ(read(0, gicd(kIcfgr + 8)), 0xAu);
    write(0, gicd(kIcfgr + 8), 0x5);   // bit 0 of each field is reserved
    EXPECT_EQ(read(0, gicd(kIcfgr + 8)), 0u);
}

TEST_F(VgicV3Regs, GroupsAndSecurityRegisters)
{
    // Everything is Non-secure Group 1 (RAO/WI); Linux writes all ones anyway.
    EXPECT_EQ(read(0, gicd(kIgroupr + 4)), ~0u);
    write(0, gicd(kIgroupr + 4), 0);
    EXPECT_EQ(read(0, gicd(kIgroupr + 4)), ~0u);
    EXPECT_EQ(read(0, gicd(kIgroupr)), 0u) << "private bank in GICD: RAZ";
    EXPECT_EQ(read(0, gicd(kIgroupr + 16)), 0u) << "INTIDs beyond 127: RAZ";
    EXPECT_EQ(read(0, sgi(0, kIgroupr)), ~0u);
    write(0, sgi(0, kIgrpmodr), ~0u);
    EXPECT_EQ(read(0, sgi(0, kIgrpmodr)), 0u);
    write(0, sgi(0, kNsacr), ~0u);
    EXPECT_EQ(read(0, sgi(0, kNsacr)), 0u);
    write(0, gicd(kIgrpmodr + 4), ~0u);
    EXPECT_EQ(read(0, gicd(kIgrpmodr + 4)), 0u);
}

TEST_F(VgicV3Regs, PendingAndActiveRegisters)
{
    write(0, gicd(kIspendr + 4), 0x3);   // SPIs 32, 33
    EXPECT_EQ(read(0, gicd(kIspendr + 4)), 0x3u);
    EXPECT_EQ(read(0, gicd(kIcpendr + 4)), 0x3u);
    write(0, gicd(kIcpendr + 4), 0x1);
    EXPECT_EQ(read(0, gicd(kIspendr + 4)), 0x2u);

    write(1, sgi(1, kIspendr), 1u << 3);   // SGI 3 on vCPU 1
    EXPECT_EQ(read(1, sgi(1, kIspendr)), 1u << 3);
    EXPECT_EQ(read(0, sgi(0, kIspendr)), 0u);

    write(0, gicd(kIsactiver + 4), 0x10);
    EXPECT_EQ(read(0, gicd(kIsactiver + 4)), 0x10u);
    write(0, gicd(kIcactiver + 4), ~0u);   // Linux's boot-time "deactivate everything"
    EXPECT_EQ(read(0, gicd(kIsactiver + 4)), 0u);
}

TEST_F(VgicV3Regs, IrouterIs64BitAndMasked)
{
    route_v3(40, 2);
    EXPECT_EQ(read(0, gicd(kGicdIrouter + 40 * 8), 8), 2u);
    // 32-bit halves: the high half holds Aff3.
    write(0, gicd(kGicdIrouter + 40 * 8 + 4), 0x1, 4);
    EXPECT_EQ(read(0, gicd(kGicdIrouter + 40 * 8), 8), 0x100000002ull);
    EXPECT_EQ(read(0, gicd(kGicdIrouter + 40 * 8 + 4), 4), 1u);
    // Reserved bits read as zero; IRM kept.
    route_v3(41, ~0ull);
    EXPECT_EQ(read(0, gicd(kGicdIrouter + 41 * 8), 8), kIrouterAffMask | kIrouterIrm);
    // IROUTER0..31 and beyond INTID 127 are reserved.
    route_v3(5, 1);
    EXPECT_EQ(read(0, gicd(kGicdIrouter + 5 * 8), 8), 0u);
    route_v3(200, 1);
    EXPECT_EQ(read(0, gicd(kGicdIrouter + 200 * 8), 8), 0u);
    std::uint64_t v;
    EXPECT_EQ(gic.read(0, gicd(kGicdIrouter + 40 * 8), 2, v), MmioResult::BadAccess);
    EXPECT_EQ(gic.read(0, gicd(kGicdIrouter + 40 * 8), 1, v), MmioResult::BadAccess);
}

TEST_F(VgicV3Regs, WrongSizeOrMisalignedIsBadAccess)
{
    std::uint64_t v = 0x1234;
    EXPECT_EQ(gic.read(0, gicd(kGicdCtlr), 8, v), MmioResult::BadAccess);
    EXPECT_EQ(v, 0u) << "a refused read returns nothing";
    EXPECT_EQ(gic.write(0, gicd(kGicdCtlr), 2, 1), MmioResult::BadAccess);
    EXPECT_EQ(gic.read(0, gicd(kIsenabler + 4), 1, v), MmioResult::BadAccess);
    EXPECT_EQ(gic.read(0, gicd(kIsenabler + 2), 4, v), MmioResult::BadAccess) << "misaligned";
    EXPECT_EQ(gic.read(0, gicd(kPidr2V3), 1, v), MmioResult::BadAccess);
    EXPECT_EQ(gic.read(0, rd(0, kGicrWaker), 8, v), MmioResult::BadAccess);
    EXPECT_EQ(gic.read(0, rd(0, kGicrTyper + 4), 8, v), MmioResult::BadAccess) << "misaligned";
    EXPECT_EQ(gic.read(0, gicd(kGicdCtlr), 3, v), MmioResult::BadAccess);
    EXPECT_EQ(gic.read(0, gicd(kGicdCtlr), 0, v), MmioResult::BadAccess);
    EXPECT_EQ(gic.read(0, gicd(kGicdCtlr), 16, v), MmioResult::BadAccess);
    EXPECT_EQ(gic.read(7, gicd(kGicdCtlr), 4, v), MmioResult::BadAccess) << "no such vCPU";
}

TEST_F(VgicV3Regs, WindowsAndReservedSpace)
{
    std::uint64_t v = 0x1234;
    EXPECT_EQ(gic.read(0, kGicd - 4, 4, v), MmioResult::NotMine);
    EXPECT_EQ(gic.read(0, kGicd + 0x10000, 4, v), MmioResult::NotMine);
    EXPECT_EQ(gic.read(0, rd(4, 0), 4, v), MmioResult::NotMine) << "only 4 redistributors";
    EXPECT_EQ(gic.read(0, IpAddr(0x03002000 + 0x10000), 4, v), MmioResult::NotMine);
    // Reserved and unimplemented registers: RAZ/WI at any naturally aligned size.
    for (std::uint32_t off : {0x0010u, 0x0040u, 0x0F00u, 0x2000u, 0x8000u, 0xC000u}) {
        write(0, gicd(off), ~0ull, 8);
        EXPECT_EQ(read(0, gicd(off), 8), 0u) << std::hex << off;
        EXPECT_EQ(read(0, gicd(off), 1), 0u) << std::hex << off;
    }
    write(0, rd(0, 0x70), ~0ull, 8);   // PROPBASER
    EXPECT_EQ(read(0, rd(0, 0x70), 8), 0u);
    EXPECT_EQ(read(0, sgi(0, kItargetsr)), 0u) << "no ITARGETSR with affinity routing";
}

} // namespace
} // namespace keel::vgic::test
