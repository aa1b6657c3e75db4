// Shared fixture for the virtual GIC tests: a Vgic at the guest addresses Xen
// 4.17 uses, a Hooks that records kicks, and register helpers.
#pragma once

#include "vgic/regs.hpp"
#include "vgic/vgic.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace keel::vgic::test {

inline constexpr IpAddr kGicd{0x03001000};
inline constexpr IpAddr kGicr{0x03020000};

// Offsets the tests name (the ones the implementation uses live in vgic/regs.hpp).
inline constexpr std::uint32_t kPidr2V3 = 0xFFE8;
inline constexpr std::uint32_t kPidr2V2 = 0x0FE8;
inline constexpr std::uint32_t kSgiFrame = 0x10000;

class RecordingHooks final : public Hooks {
public:
    void kick(unsigned vcpu) override
    {
        kicks.push_back(vcpu);
        if (on_kick) on_kick(vcpu);
    }
    bool kicked(unsigned vcpu) const
    {
        for (unsigned k : kicks)
            if (k == vcpu) return true;
        return false;
    }
    void clear() { kicks.clear(); }

    std::vector<unsigned> kicks;
    void (*on_kick)(unsigned) = nullptr;
};

class VgicTest : public ::testing::Test {
protected:
    void init_v3(unsigned nr_vcpus) { gic.init(Layout{GicVersion::V3, kGicd, kGicr}, nr_vcpus, &hooks); }
    void init_v2(unsigned nr_vcpus) { gic.init(Layout{GicVersion::V2, kGicd, IpAddr(0)}, nr_vcpus, &hooks); }

    static IpAddr gicd(std::uint32_t off) { return kGicd + off; }
    static IpAddr rd(unsigned vcpu, std::uint32_t off) { return kGicr + vcpu * regs::kRedistStride + off; }
    static IpAddr sgi(unsigned vcpu, std::uint32_t off) { return rd(vcpu, kSgiFrame + off); }

    std::uint64_t read(unsigned vcpu, IpAddr a, unsigned size = 4)
    {
        std::uint64_t v = 0xdead;
        EXPECT_EQ(gic.read(vcpu, a, size, v), MmioResult::Handled) << std::hex << a.raw() << " size " << size;
        return v;
    }
    void write(unsigned vcpu, IpAddr a, std::uint64_t v, unsigned size = 4)
    {
        EXPECT_EQ(gic.write(vcpu, a, size, v), MmioResult::Handled) << std::hex << a.raw() << " size " << size;
    }

    // Where INTID `intid`'s bit lives in a 1-bit bank, as Linux addresses it: SPIs in
    // the GICD, private ones in the GICR SGI frame (v3) or the banked GICD (v2).
    IpAddr bank_reg(unsigned vcpu, std::uint32_t bank, unsigned intid) const
    {
        if (gic.version() == GicVersion::V3 && intid < kNrPrivate) return sgi(vcpu, bank);
        return gicd(bank + intid / 32 * 4);
    }
    void enable(unsigned vcpu, unsigned intid) { write(vcpu, bank_reg(vcpu, regs::kIsenabler, intid), 1u << (intid % 32)); }
    void disable(unsigned vcpu, unsigned intid) { write(vcpu, bank_reg(vcpu, regs::kIcenabler, intid), 1u << (intid % 32)); }
    void set_priority(unsigned vcpu, unsigned intid, std::uint8_t prio)
    {
        const IpAddr base = gic.version() == GicVersion::V3 && intid < kNrPrivate ? sgi(vcpu, regs::kIpriorityr)
                                                                                   : gicd(regs::kIpriorityr);
        write(vcpu, base + intid, prio, 1);
    }
    void enable_distributor()
    {
        write(0, gicd(regs::kGicdCtlr), gic.version() == GicVersion::V3 ? 0x13 : 0x1);
    }
    void route_v3(unsigned spi, std::uint64_t irouter) { write(0, gicd(regs::kGicdIrouter + spi * 8), irouter, 8); }

    std::vector<ListReg> fill(unsigned vcpu, unsigned nr_lrs = 4)
    {
        std::vector<ListReg> lrs(nr_lrs);
        const unsigned n = gic.fill(vcpu, lrs.data(), nr_lrs);
        EXPECT_LE(n, nr_lrs);
        lrs.resize(n);
        return lrs;
    }
    void sync(unsigned vcpu, const std::vector<ListReg>& lrs) { gic.sync(vcpu, lrs.data(), static_cast<unsigned>(lrs.size())); }

    // The guest's CPU interface, in miniature: acknowledge = pending -> active,
    // EOI (priority drop + deactivate) = active -> inactive.
    static void ack(ListReg& lr) { lr.pending = false; lr.active = true; }
    static void eoi(ListReg& lr) { lr.active = false; }

    static std::vector<unsigned> intids(const std::vector<ListReg>& lrs)
    {
        std::vector<unsigned> out;
        for (const ListReg& lr : lrs) out.push_back(lr.intid);
        return out;
    }

    Vgic gic;
    RecordingHooks hooks;
};

} // namespace keel::vgic::test
