// Hostile input: every offset of every window at every size, and long random
// sequences of guest MMIO, injections and list-register round trips with
// garbage in them. Nothing may crash (ASan/UBSan watch the indexing) and the
// delivery invariants must hold throughout.
#include "vgic_test_support.hpp"

#include <algorithm>
#include <random>
#include <set>

namespace keel::vgic::test {
namespace {

using namespace regs;

class VgicHostile : public VgicTest {
protected:
    // Sweep a window: every byte offset, every size, read and write all-ones.
    void sweep(IpAddr base, std::uint64_t len, unsigned nr_vcpus)
    {
        for (std::uint64_t off = 0; off < len; ++off) {
            for (unsigned size : {1u, 2u, 4u, 8u}) {
                const unsigned vcpu = static_cast<unsigned>(off % nr_vcpus);
                const bool aligned = off % size == 0;
                std::uint64_t v = 0x5a5a;
                const MmioResult r = gic.read(vcpu, base + off, size, v);
                if (!aligned) {
                    ASSERT_EQ(r, MmioResult::BadAccess) << std::hex << off << " size " << size;
                    ASSERT_EQ(v, 0u);
                    continue;
                }
                ASSERT_NE(r, MmioResult::NotMine) << std::hex << off << " size " << size;
                if (size < 8) {
                    ASSERT_EQ(v >> (size * 8), 0u) << std::hex << off << " size " << size;
                }
                const MmioResult w = gic.write(vcpu, base + off, size, ~0ull);
                ASSERT_EQ(w, r) << "reads and writes agree on what is a bad access, " << std::hex << off;
            }
        }
    }

    // No SPI may sit in two running vCPUs' LRs; no INTID twice in one vCPU's.
    static void check_lrs(const std::vector<std::vector<ListReg>>& running, unsigned nr_vcpus)
    {
        std::set<unsigned> spis;
        for (unsigned v = 0; v < nr_vcpus; ++v) {
            std::set<unsigned> mine;
            for (const ListReg& lr : running[v]) {
                ASSERT_LT(lr.intid, kNrIrqs);
                ASSERT_TRUE(lr.pending || lr.active) << "an LR with nothing in it";
                ASSERT_TRUE(mine.insert(lr.intid).second) << "INTID " << lr.intid << " twice on vCPU " << v;
                if (lr.intid >= kNrPrivate) {
                    ASSERT_TRUE(spis.insert(lr.intid).second) << "SPI " << lr.intid << " on two vCPUs";
                }
            }
        }
    }

    void random_run(GicVersion version, unsigned nr_vcpus, std::uint64_t seed, unsigned steps);
};

TEST_F(VgicHostile, EveryOffsetEverySizeV3)
{
    init_v3(2);
    sweep(kGicd, kDistSizeV3, 2);
    sweep(kGicr, 2 * kRedistStride, 2);
    std::uint64_t v;
    EXPECT_EQ(gic.read(0, kGicr + 2 * kRedistStride, 4, v), MmioResult::NotMine);
    EXPECT_EQ(gic.read(0, kGicd + kDistSizeV3, 4, v), MmioResult::NotMine);
    // The GIC still makes sense after all that.
    EXPECT_EQ(read(0, gicd(kPidr2V3)) & 0xF0, 0x30u);
    EXPECT_EQ(read(0, rd(1, kGicrTyper), 8), 1ull << 32 | 1u << 8 | kGicrTyperLast);
    std::vector<ListReg> lrs(kMaxLrs);
    for (unsigned vcpu = 0; vcpu < 2; ++vcpu) {
        const unsigned n = gic.fill(vcpu, lrs.data(), kMaxLrs);
        EXPECT_LE(n, kMaxLrs);
        gic.sync(vcpu, lrs.data(), n);
    }
}

TEST_F(VgicHostile, EveryOffsetEverySizeV2)
{
    init_v2(8);
    sweep(kGicd, kDistSizeV2, 8);
    std::uint64_t v;
    EXPECT_EQ(gic.read(0, kGicd + kDistSizeV2, 4, v), MmioResult::NotMine);
    EXPECT_EQ(read(0, gicd(kPidr2V2)) & 0xF0, 0x20u);
}

TEST_F(VgicHostile, OddSizesAndAddresses)
{
    init_v3(8);
    std::uint64_t v = 1;
    for (unsigned size : {0u, 3u, 5u, 6u, 7u, 16u, 0xFFFFFFFFu}) {
        for (std::uint32_t off : {0u, 4u, 0x100u, 0x6100u, 0xFFE8u}) {
            EXPECT_EQ(gic.read(0, gicd(off), size, v), MmioResult::BadAccess);
            EXPECT_EQ(gic.write(0, gicd(off), size, ~0ull), MmioResult::BadAccess);
            EXPECT_EQ(gic.read(7, sgi(7, off), size, v), MmioResult::BadAccess);
        }
    }
    EXPECT_EQ(gic.read(0, IpAddr(~0ull), 8, v), MmioResult::NotMine);
    EXPECT_EQ(gic.read(0, IpAddr(0), 4, v), MmioResult::NotMine);
    EXPECT_EQ(gic.read(8, gicd(0), 4, v), MmioResult::BadAccess);
    EXPECT_EQ(gic.read(~0u, gicd(0), 4, v), MmioResult::BadAccess);

    // A window at the very top of the address space must not wrap.
    gic.init(Layout{GicVersion::V2, IpAddr(~0ull - 0xFFF), IpAddr(0)}, 1, &hooks);
    EXPECT_EQ(gic.read(0, IpAddr(~0ull - 3), 4, v), MmioResult::Handled);
    EXPECT_EQ(v, 0xB1u) << "CIDR3, the last word of the window";
    EXPECT_EQ(gic.read(0, IpAddr(0), 4, v), MmioResult::NotMine);
    EXPECT_EQ(gic.read(0, IpAddr(~0ull - 0x1000), 1, v), MmioResult::NotMine);
}

TEST_F(VgicHostile, EntryPointsRejectNonsense)
{
    Vgic fresh;   // before init(), nothing is ours
    std::uint64_t v = 1;
    EXPECT_EQ(fresh.read(0, kGicd, 4, v), MmioResult::NotMine);
    fresh.inject_edge(0, 40);
    EXPECT_FALSE(fresh.has_deliverable(0));
    ListReg lr{};
    EXPECT_EQ(fresh.fill(0, &lr, 1), 0u);

    init_v3(0);   // clamped to one vCPU
    EXPECT_EQ(gic.nr_vcpus(), 1u);
    init_v3(1000);
    EXPECT_EQ(gic.nr_vcpus(), kMaxVcpus);
    enable_distributor();
    for (unsigned vcpu : {8u, 100u, ~0u}) {
        gic.inject_edge(vcpu, 3);
        gic.set_level(vcpu, 20, true);
        gic.send_sgi_v3(vcpu, ~0ull);
        EXPECT_FALSE(gic.has_deliverable(vcpu));
        EXPECT_EQ(gic.fill(vcpu, &lr, 1), 0u);
        gic.sync(vcpu, &lr, 1);
        EXPECT_FALSE(gic.overflowed(vcpu));
    }
    for (unsigned intid : {128u, 1020u, 1023u, 8192u, ~0u}) {
        gic.inject_edge(0, intid);
        gic.set_level(0, intid, true);
    }
    for (unsigned v2 = 0; v2 < kMaxVcpus; ++v2) EXPECT_FALSE(gic.has_deliverable(v2));
    // sync() with garbage that was never presented changes nothing.
    ListReg junk[4] = {{5000, 0, true, true, 200, true}, {40, 0, true, true, 9, false}, {}, {}};
    gic.sync(0, junk, 4);
    gic.sync(0, junk, ~0u >> 1);   // lies about the count: nothing presented, nothing read
    EXPECT_FALSE(gic.has_deliverable(0));
    EXPECT_EQ(read(0, gicd(kIsactiver + 4)), 0u);
}

void VgicHostile::random_run(GicVersion version, unsigned nr_vcpus, std::uint64_t seed, unsigned steps)
{
    if (version == GicVersion::V3)
        init_v3(nr_vcpus);
    else
        init_v2(nr_vcpus);
    std::mt19937_64 rng(seed);
    auto pick = [&](std::uint64_t n) { return n == 0 ? 0 : rng() % n; };
    const std::uint64_t dist = gic.dist_size();
    const std::uint64_t redist = gic.redist_size();
    const unsigned sizes[] = {1, 2, 4, 8, 4, 4, 3};

    // Bias towards the registers that matter so the state actually moves.
    auto interesting_offset = [&]() -> std::uint64_t {
        switch (pick(6)) {
        case 0: return pick(0x1000);                                     // banks, CTLR
        case 1: return kIsenabler + pick(0x300);                         // enable/pend/active
        case 2: return version == GicVersion::V3 ? kGicdIrouter + pick(0x400) : kItargetsr + pick(0x80);
        case 3: return kGicdCtlr;
        default: return pick(dist);
        }
    };

    std::vector<std::vector<ListReg>> running(nr_vcpus);
    std::vector<bool> in_guest(nr_vcpus, false);
    for (unsigned step = 0; step < steps; ++step) {
        const unsigned vcpu = static_cast<unsigned>(pick(nr_vcpus + 1));   // sometimes out of range
        switch (pick(12)) {
        case 0: case 1: {   // distributor write
            const unsigned size = sizes[pick(7)];
            const std::uint64_t off = interesting_offset() & ~std::uint64_t{size - 1};
            const std::uint64_t value = pick(3) == 0 ? ~0ull : rng();
            gic.write(vcpu, kGicd + off, size, value);
            break;
        }
        case 2: {   // distributor or redistributor read
            std::uint64_t v;
            const unsigned size = sizes[pick(7)];
            const IpAddr a = redist != 0 && pick(2) ? kGicr + pick(redist) : kGicd + pick(dist);
            if (gic.read(vcpu, a, size, v) == MmioResult::Handled && size < 8) {
                ASSERT_EQ(v >> (8 * size), 0u);
            }
            break;
        }
        case 3: {   // redistributor write
            if (redist == 0) break;
            const unsigned frame = static_cast<unsigned>(pick(nr_vcpus));
            const std::uint64_t off = kSgiFrame * pick(2) + (pick(2) ? pick(0x1000) : pick(kRedistFrameSize));
            gic.write(vcpu, kGicr + frame * kRedistStride + (off & ~3ull), 4, pick(2) ? ~0ull : rng());
            break;
        }
        case 4: gic.inject_edge(vcpu, static_cast<unsigned>(pick(140))); break;
        case 5: gic.set_level(vcpu, static_cast<unsigned>(pick(140)), pick(2)); break;
        case 6: gic.send_sgi_v3(vcpu, pick(2) ? rng() : (pick(16) << 24 | pick(0x10000) | (pick(4) == 0 ? 1ull << 40 : 0))); break;
        case 7: case 8: {   // enter: fill
            if (vcpu >= nr_vcpus) {
                ListReg lr;
                ASSERT_EQ(gic.fill(vcpu, &lr, 1), 0u);
                break;
            }
            const unsigned nr = static_cast<unsigned>(pick(6));
            std::vector<ListReg> lrs(nr + 1);
            const unsigned n = gic.fill(vcpu, lrs.data(), nr);
            ASSERT_LE(n, nr);
            lrs.resize(n);
            running[vcpu] = lrs;
            in_guest[vcpu] = true;
            check_lrs(running, nr_vcpus);
            break;
        }
        case 9: case 10: {   // exit: the guest did something to its LRs, then sync
            if (vcpu >= nr_vcpus || !in_guest[vcpu]) break;
            std::vector<ListReg> lrs = running[vcpu];
            for (ListReg& lr : lrs) {
                switch (pick(5)) {
                case 0: break;                                       // untouched
                case 1: if (lr.pending) { lr.pending = false; lr.active = true; } break;   // ack
                case 2: lr.active = false; break;                    // EOI
                case 3: lr.pending = false; lr.active = false; break;
                default: lr.intid = static_cast<std::uint16_t>(rng()); lr.pending = pick(2); lr.active = pick(2); break;
                }
            }
            if (pick(4) == 0) std::shuffle(lrs.begin(), lrs.end(), rng);
            if (pick(8) == 0 && !lrs.empty()) lrs.pop_back();
            gic.sync(vcpu, lrs.data(), static_cast<unsigned>(lrs.size()));
            running[vcpu].clear();
            in_guest[vcpu] = false;
            break;
        }
        default: (void)gic.has_deliverable(vcpu); break;
        }
    }
    // Drain: exit everyone, then each vCPU acks and EOIs whatever it is given
    // until nothing is left that it can take. Level lines still high are allowed
    // to come back, so lower them first.
    for (unsigned v = 0; v < nr_vcpus; ++v)
        if (in_guest[v]) gic.sync(v, running[v].data(), static_cast<unsigned>(running[v].size()));
    for (unsigned v = 0; v < nr_vcpus; ++v)
        for (unsigned i = kNrSgis; i < kNrIrqs; ++i) gic.set_level(v, i, false);
    for (unsigned round = 0; round < 200; ++round) {
        bool any = false;
        for (unsigned v = 0; v < nr_vcpus; ++v) {
            std::vector<ListReg> lrs(4);
            lrs.resize(gic.fill(v, lrs.data(), 4));
            for (ListReg& lr : lrs) lr = ListReg{lr.intid, lr.priority, false, false, lr.source_vcpu, false};
            any = any || !lrs.empty();
            gic.sync(v, lrs.data(), static_cast<unsigned>(lrs.size()));
        }
        if (!any) break;
    }
    for (unsigned v = 0; v < nr_vcpus; ++v) {
        ListReg lr;
        EXPECT_EQ(gic.fill(v, &lr, 1), 0u) << "vCPU " << v << " still has work after draining";
        gic.sync(v, nullptr, 0);
        EXPECT_FALSE(gic.has_deliverable(v));
    }
}

TEST_F(VgicHostile, RandomSequencesV3)
{
    for (std::uint64_t seed = 1; seed <= 8; ++seed) {
        SCOPED_TRACE(seed);
        random_run(GicVersion::V3, 1 + seed % 4, seed, 20000);
        if (HasFatalFailure()) return;
    }
}

TEST_F(VgicHostile, RandomSequencesV2)
{
    for (std::uint64_t seed = 100; seed <= 107; ++seed) {
        SCOPED_TRACE(seed);
        random_run(GicVersion::V2, 1 + seed % 8, seed, 20000);
        if (HasFatalFailure()) return;
    }
}

} // namespace
} // namespace keel::vgic::test
