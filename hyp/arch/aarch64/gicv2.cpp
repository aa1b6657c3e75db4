// GICv2 driver: distributor, CPU interface and virtual interface control (GICH)
// all by MMIO. The guest's CPU interface is the hardware GICV frame, mapped into
// its stage-2 at its GICC address; only its distributor is emulated.
#include "gic.hpp"
#include <keel/aarch64/mmio.hpp>
#include "sysreg.hpp"

namespace keel::arch {

namespace {
constexpr std::uint64_t GICD_CTLR = 0x0, GICD_TYPER = 0x4, GICD_ISENABLER = 0x100, GICD_ICENABLER = 0x180,
                        GICD_IPRIORITYR = 0x400, GICD_ITARGETSR = 0x800, GICD_SGIR = 0xf00;
constexpr std::uint64_t GICC_CTLR = 0x0, GICC_PMR = 0x4, GICC_IAR = 0xc, GICC_EOIR = 0x10;
constexpr std::uint64_t GICH_HCR = 0x0, GICH_VTR = 0x4, GICH_VMCR = 0x8, GICH_APR = 0xf0, GICH_LR0 = 0x100;
constexpr std::uint32_t LR_PENDING = 1u << 28, LR_ACTIVE = 1u << 29;
constexpr std::uint32_t LR_EOI = 1u << 19;  // maintenance interrupt when the guest deactivates it
constexpr unsigned LR_CPUID_SHIFT = 10, LR_PRIO_SHIFT = 23;
constexpr std::uint8_t kHypPriority = 0xa0;

class GicV2 final : public PhysGic {
public:
    void setup(const HostGicInfo& info) { info_ = info; }

    void init_distributor() override
    {
        const std::uint64_t d = info_.gicd;
        mmio_write32(d + GICD_CTLR, 0);
        const unsigned lines = ((mmio_read32(d + GICD_TYPER) & 0x1f) + 1) * 32;
        for (unsigned i = 32; i < lines; i += 32) mmio_write32(d + GICD_ICENABLER + i / 8, ~0u);
        for (unsigned i = 32; i < lines; i += 4) {
            mmio_write32(d + GICD_IPRIORITYR + i, 0x01010101u * kHypPriority);
            mmio_write32(d + GICD_ITARGETSR + i, 0x01010101u);
        }
        mmio_write32(d + GICD_CTLR, 1);
    }

    void init_cpu(unsigned cpu) override
    {
        const std::uint64_t d = info_.gicd;
        // ITARGETSR0..7 are banked: any byte tells this CPU's interface number.
        cpu_mask_[cpu] = static_cast<std::uint8_t>(mmio_read32(d + GICD_ITARGETSR) & 0xff);
        mmio_write32(d + GICD_ICENABLER, ~0u);
        for (unsigned i = 0; i < 32; i += 4) mmio_write32(d + GICD_IPRIORITYR + i, 0x01010101u * kHypPriority);
        mmio_write32(d + GICD_ISENABLER, (1u << kSgiKick) | (1u << kPpiMaintenance) | (1u << kPpiHypTimer) | (1u << kPpiVirtTimer));
        mmio_write32(info_.gicc + GICC_PMR, 0xff);
        mmio_write32(info_.gicc + GICC_CTLR, 1);
        mmio_write32(info_.gich + GICH_HCR, 1);
        nr_lrs_ = (mmio_read32(info_.gich + GICH_VTR) & 0x3f) + 1;
        if (nr_lrs_ > kMaxLrs) nr_lrs_ = kMaxLrs;
    }

    unsigned ack() override { return mmio_read32(info_.gicc + GICC_IAR) & 0x3ff; }
    void eoi(unsigned intid) override { mmio_write32(info_.gicc + GICC_EOIR, intid); }
    void send_sgi(unsigned cpu, unsigned sgi) override
    {
        dsb_ishst();
        mmio_write32(info_.gicd + GICD_SGIR, std::uint32_t(cpu_mask_[cpu]) << 16 | (sgi & 0xf));
    }

    void enable_spi(unsigned intid) override
    {
        if (intid < 32 || intid >= 1020) return;
        const std::uint64_t word = info_.gicd + GICD_ITARGETSR + (intid & ~3u);
        const unsigned shift = (intid % 4) * 8;
        mmio_write32(word, (mmio_read32(word) & ~(0xffu << shift)) | std::uint32_t(cpu_mask_[0]) << shift);
        mmio_write32(info_.gicd + GICD_ISENABLER + (intid / 32) * 4, 1u << (intid % 32));
    }

    unsigned nr_lrs() const override { return nr_lrs_; }
    void write_lr(unsigned n, const vgic::ListReg& lr) override
    {
        std::uint32_t v = (lr.intid & 0x3ff) | std::uint32_t(lr.priority >> 3) << LR_PRIO_SHIFT;
        if (lr.intid < 16) v |= std::uint32_t(lr.source_vcpu & 7) << LR_CPUID_SHIFT;
        if (lr.pending) v |= LR_PENDING;
        if (lr.active) v |= LR_ACTIVE;
        if (lr.eoi_maintenance) v |= LR_EOI;
        mmio_write32(info_.gich + GICH_LR0 + 4 * n, v);
    }
    vgic::ListReg read_lr(unsigned n) override
    {
        const std::uint32_t v = mmio_read32(info_.gich + GICH_LR0 + 4 * n);
        vgic::ListReg lr{};
        lr.intid = v & 0x3ff;
        lr.priority = static_cast<std::uint8_t>(((v >> LR_PRIO_SHIFT) & 0x1f) << 3);
        lr.pending = v & LR_PENDING;
        lr.active = v & LR_ACTIVE;
        lr.source_vcpu = (v >> LR_CPUID_SHIFT) & 7;
        return lr;
    }
    void clear_lr(unsigned n) override { mmio_write32(info_.gich + GICH_LR0 + 4 * n, 0); }
    void set_underflow_irq(bool on) override { mmio_write32(info_.gich + GICH_HCR, on ? 0x3 : 0x1); }  // En | UIE
    void save_cpu_state(GicCpuState& s) override
    {
        s.vmcr = mmio_read32(info_.gich + GICH_VMCR);
        s.apr0 = mmio_read32(info_.gich + GICH_APR);
    }
    void load_cpu_state(const GicCpuState& s) override
    {
        mmio_write32(info_.gich + GICH_VMCR, static_cast<std::uint32_t>(s.vmcr));
        mmio_write32(info_.gich + GICH_APR, static_cast<std::uint32_t>(s.apr0));
    }

private:
    HostGicInfo info_{};
    std::uint8_t cpu_mask_[8] = {};
    unsigned nr_lrs_ = 0;
};

GicV2 gicv2_instance;

} // namespace

PhysGic& gicv2_setup(const HostGicInfo& info)
{
    gicv2_instance.setup(info);
    return gicv2_instance;
}

} // namespace keel::arch
