// GICv3 driver: distributor and redistributors by MMIO, CPU interface and
// virtualization control (ICH_*) by system registers.
#include "gic.hpp"
#include <keel/aarch64/mmio.hpp>
#include "panic.hpp"
#include "sysreg.hpp"

namespace keel::arch {

namespace {
// Distributor
constexpr std::uint64_t GICD_CTLR = 0x0, GICD_TYPER = 0x4, GICD_IGROUPR = 0x80, GICD_ISENABLER = 0x100, GICD_ICENABLER = 0x180,
                        GICD_IPRIORITYR = 0x400, GICD_IROUTER = 0x6000;
constexpr std::uint32_t GICD_CTLR_RWP = 1u << 31, GICD_CTLR_ARE = 1u << 4, GICD_CTLR_G1 = 1u << 1, GICD_CTLR_G0 = 1u << 0;
// Redistributor: RD frame then SGI frame
constexpr std::uint64_t GICR_STRIDE = 0x20000, GICR_SGI = 0x10000;
constexpr std::uint64_t GICR_TYPER = 0x8, GICR_WAKER = 0x14;
constexpr std::uint32_t GICR_WAKER_SLEEP = 1u << 1, GICR_WAKER_ASLEEP = 1u << 2;
constexpr std::uint64_t GICR_TYPER_LAST = 1ull << 4;
constexpr std::uint64_t GICR_IGROUPR0 = 0x80, GICR_ISENABLER0 = 0x100, GICR_ICENABLER0 = 0x180, GICR_IPRIORITYR0 = 0x400;
// ICH_LR<n>_EL2 fields
constexpr std::uint64_t LR_PENDING = 1ull << 62, LR_ACTIVE = 1ull << 63, LR_GROUP1 = 1ull << 60;
constexpr std::uint64_t LR_EOI = 1ull << 41;  // maintenance interrupt when the guest deactivates it
constexpr unsigned LR_PRIO_SHIFT = 48;
constexpr std::uint8_t kHypPriority = 0xa0;

std::uint64_t affinity(std::uint64_t mpidr) { return mpidr & 0xff00ffffffull; }

class GicV3 final : public PhysGic {
public:
    void setup(const HostGicInfo& info)
    {
        info_ = info;
        nr_lrs_ = 0;
    }

    void init_distributor() override
    {
        const std::uint64_t d = info_.gicd;
        mmio_write32(d + GICD_CTLR, 0);
        wait_rwp();
        const unsigned lines = ((mmio_read32(d + GICD_TYPER) & 0x1f) + 1) * 32;
        for (unsigned i = 32; i < lines; i += 32) {
            mmio_write32(d + GICD_ICENABLER + i / 8, ~0u);
            mmio_write32(d + GICD_IGROUPR + i / 8, ~0u);
        }
        for (unsigned i = 32; i < lines; i += 4) mmio_write32(d + GICD_IPRIORITYR + i, 0x01010101u * kHypPriority);
        for (unsigned i = 32; i < lines; ++i) mmio_write64(d + GICD_IROUTER + i * 8, affinity(info_.cpu_mpidr[0]));
        mmio_write32(d + GICD_CTLR, GICD_CTLR_ARE | GICD_CTLR_G1 | GICD_CTLR_G0);
        wait_rwp();
    }

    void init_cpu(unsigned cpu) override
    {
        const std::uint64_t rd = find_redistributor(info_.cpu_mpidr[cpu]);
        rd_base_[cpu] = rd;
        // Wake the redistributor, then route SGIs/PPIs to group 1 with our priority.
        mmio_write32(rd + GICR_WAKER, mmio_read32(rd + GICR_WAKER) & ~GICR_WAKER_SLEEP);
        while (mmio_read32(rd + GICR_WAKER) & GICR_WAKER_ASLEEP) {
        }
        const std::uint64_t sgi = rd + GICR_SGI;
        mmio_write32(sgi + GICR_ICENABLER0, ~0u);
        mmio_write32(sgi + GICR_IGROUPR0, ~0u);
        for (unsigned i = 0; i < 32; i += 4) mmio_write32(sgi + GICR_IPRIORITYR0 + i, 0x01010101u * kHypPriority);
        mmio_write32(sgi + GICR_ISENABLER0, (1u << kSgiKick) | (1u << kPpiMaintenance) | (1u << kPpiHypTimer) | (1u << kPpiVirtTimer));

        // System-register CPU interface at EL2, and allow EL1 to use it (as its virtual one).
        sysreg::icc_sre_el2::write(0xf);  // SRE | DFB | DIB | Enable
        isb();
        sysreg::icc_pmr_el1::write(0xff);
        sysreg::icc_ctlr_el1::write(0);  // EOImode 0: EOI also deactivates
        sysreg::icc_igrpen1_el1::write(1);
        isb();
        sysreg::ich_hcr_el2::write(1);    // En: the virtual CPU interface is live
        nr_lrs_ = (sysreg::ich_vtr_el2::read() & 0x1f) + 1;
        if (nr_lrs_ > kMaxLrs) nr_lrs_ = kMaxLrs;
    }

    unsigned ack() override
    {
        const std::uint64_t v = sysreg::icc_iar1_el1::read();
        asm volatile("dsb sy" ::: "memory");
        return static_cast<unsigned>(v & 0xffffff);
    }
    void eoi(unsigned intid) override
    {
        sysreg::icc_eoir1_el1::write(intid);
        isb();
    }
    void send_sgi(unsigned cpu, unsigned sgi) override
    {
        const std::uint64_t m = info_.cpu_mpidr[cpu];
        const std::uint64_t v = ((m >> 32) & 0xff) << 48 | ((m >> 16) & 0xff) << 32 | ((m >> 8) & 0xff) << 16 |
                                std::uint64_t(sgi & 0xf) << 24 | (1ull << (m & 0xf));
        dsb_ishst();  // the state the target will look at is visible before the kick
        sysreg::icc_sgi1r_el1::write(v);
        isb();
    }

    void enable_spi(unsigned intid) override
    {
        if (intid < 32 || intid >= 1020) return;
        mmio_write64(info_.gicd + GICD_IROUTER + intid * 8, affinity(info_.cpu_mpidr[0]));
        mmio_write32(info_.gicd + GICD_ISENABLER + (intid / 32) * 4, 1u << (intid % 32));
    }

    unsigned nr_lrs() const override { return nr_lrs_; }
    void write_lr(unsigned n, const vgic::ListReg& lr) override
    {
        std::uint64_t v = lr.intid | LR_GROUP1 | std::uint64_t(lr.priority) << LR_PRIO_SHIFT;
        if (lr.pending) v |= LR_PENDING;
        if (lr.active) v |= LR_ACTIVE;
        if (lr.eoi_maintenance) v |= LR_EOI;
        write_ich_lr(n, v);
    }
    vgic::ListReg read_lr(unsigned n) override
    {
        const std::uint64_t v = read_ich_lr(n);
        vgic::ListReg lr{};
        lr.intid = static_cast<std::uint16_t>(v & 0xffff);
        lr.priority = static_cast<std::uint8_t>(v >> LR_PRIO_SHIFT);
        lr.pending = v & LR_PENDING;
        lr.active = v & LR_ACTIVE;
        return lr;
    }
    void clear_lr(unsigned n) override { write_ich_lr(n, 0); }
    void set_underflow_irq(bool on) override { sysreg::ich_hcr_el2::write(on ? 0x3 : 0x1); }  // En | UIE
    void save_cpu_state(GicCpuState& s) override
    {
        s.vmcr = sysreg::ich_vmcr_el2::read();
        s.apr0 = sysreg::ich_ap0r0_el2::read();
        s.apr1 = sysreg::ich_ap1r0_el2::read();
    }
    void load_cpu_state(const GicCpuState& s) override
    {
        sysreg::ich_vmcr_el2::write(s.vmcr);
        sysreg::ich_ap0r0_el2::write(s.apr0);
        sysreg::ich_ap1r0_el2::write(s.apr1);
    }

private:
    void wait_rwp()
    {
        while (mmio_read32(info_.gicd + GICD_CTLR) & GICD_CTLR_RWP) {
        }
    }
    std::uint64_t find_redistributor(std::uint64_t mpidr)
    {
        const std::uint64_t want = ((mpidr >> 32) & 0xff) << 24 | (mpidr & 0xffffff);
        for (std::uint64_t rd = info_.gicr;; rd += GICR_STRIDE) {
            const std::uint64_t typer = mmio_read64(rd + GICR_TYPER);
            if ((typer >> 32) == want) return rd;
            if (typer & GICR_TYPER_LAST) break;
        }
        panic("no GICv3 redistributor for MPIDR %lx", mpidr);
    }

    HostGicInfo info_{};
    std::uint64_t rd_base_[8] = {};
    unsigned nr_lrs_ = 0;
};

GicV3 gicv3_instance;

} // namespace

PhysGic& gicv3_setup(const HostGicInfo& info)
{
    gicv3_instance.setup(info);
    return gicv3_instance;
}

std::uint64_t read_ich_lr(unsigned n)
{
    std::uint64_t v = 0;
    switch (n) {
#define LR_CASE(i, enc) case i: asm volatile("mrs %0, " enc : "=r"(v)); break;
        LR_CASE(0, "ich_lr0_el2") LR_CASE(1, "ich_lr1_el2") LR_CASE(2, "ich_lr2_el2") LR_CASE(3, "ich_lr3_el2")
        LR_CASE(4, "ich_lr4_el2") LR_CASE(5, "ich_lr5_el2") LR_CASE(6, "ich_lr6_el2") LR_CASE(7, "ich_lr7_el2")
        LR_CASE(8, "ich_lr8_el2") LR_CASE(9, "ich_lr9_el2") LR_CASE(10, "ich_lr10_el2") LR_CASE(11, "ich_lr11_el2")
        LR_CASE(12, "ich_lr12_el2") LR_CASE(13, "ich_lr13_el2") LR_CASE(14, "ich_lr14_el2") LR_CASE(15, "ich_lr15_el2")
#undef LR_CASE
    default: break;
    }
    return v;
}

void write_ich_lr(unsigned n, std::uint64_t v)
{
    switch (n) {
#define LR_CASE(i, enc) case i: asm volatile("msr " enc ", %0" ::"r"(v)); break;
        LR_CASE(0, "ich_lr0_el2") LR_CASE(1, "ich_lr1_el2") LR_CASE(2, "ich_lr2_el2") LR_CASE(3, "ich_lr3_el2")
        LR_CASE(4, "ich_lr4_el2") LR_CASE(5, "ich_lr5_el2") LR_CASE(6, "ich_lr6_el2") LR_CASE(7, "ich_lr7_el2")
        LR_CASE(8, "ich_lr8_el2") LR_CASE(9, "ich_lr9_el2") LR_CASE(10, "ich_lr10_el2") LR_CASE(11, "ich_lr11_el2")
        LR_CASE(12, "ich_lr12_el2") LR_CASE(13, "ich_lr13_el2") LR_CASE(14, "ich_lr14_el2") LR_CASE(15, "ich_lr15_el2")
#undef LR_CASE
    default: break;
    }
}

} // namespace keel::arch
