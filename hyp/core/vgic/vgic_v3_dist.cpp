// The GICv3 face: a 64 KiB distributor with affinity routing always on (so its
// banks for INTIDs 0..31 are RAZ/WI and SPIs route through IROUTER), and per
// vCPU a redistributor: RD frame (identity, WAKER) and SGI frame (the private banks).
#include "vgic/regs.hpp"
#include "vgic/vgic.hpp"

namespace keel::vgic {

namespace {

constexpr std::uint32_t kGicdTyperV3 = (kNrIrqs / 32 - 1) | regs::kTyperV3IdBits << regs::kTyperIdBitsShift;

} // namespace

MmioResult Vgic::dist_v3(Access& a)
{
    using namespace regs;
    const std::uint32_t off = a.offset;
    switch (off) {
    case kGicdCtlr:
        if (a.size != 4) return MmioResult::BadAccess;
        if (a.is_write)
            write_ctlr(static_cast<std::uint32_t>(a.value));
        else
            a.value = ctlr_ | kCtlrV3AreNs;   // RWP reads 0: our writes take effect at once
        return MmioResult::Handled;
    case kGicdTyper:
        if (a.size != 4) return MmioResult::BadAccess;
        if (!a.is_write) a.value = kGicdTyperV3 | (nr_vcpus_ - 1) << kTyperCpuNumberShift;
        return MmioResult::Handled;
    case kGicdIidr:
        if (a.size != 4) return MmioResult::BadAccess;
        if (!a.is_write) a.value = kIidr;
        return MmioResult::Handled;
    default:
        break;
    }

    bool matched;
    const MmioResult r = irq_banks(a, a.vcpu, kNrPrivate, kNrIrqs, matched);
    if (matched) return r;
    if (in_range(off, kGicdIrouter, kGicdIrouterEnd - kGicdIrouter)) return irouter(a);
    if (in_range(off, kIgrpmodr, kIgrpmodrSize) || in_range(off, kNsacr, kNsacrSize))
        return a.size == 4 ? MmioResult::Handled : MmioResult::BadAccess;   // RAZ/WI
    if (in_range(off, kIdRegsV3, kIdRegsSize)) return id_regs(a, kIdRegsV3);
    return MmioResult::Handled;   // reserved: RAZ/WI
}

// GICD_IROUTER<n>: 64-bit, also accessible as two 32-bit halves.
MmioResult Vgic::irouter(Access& a)
{
    using namespace regs;
    if (a.size != 4 && a.size != 8) return MmioResult::BadAccess;
    const unsigned intid = (a.offset - kGicdIrouter) / 8;
    if (intid < kNrPrivate || intid >= kNrIrqs) return MmioResult::Handled;   // reserved / absent
    IrqState& q = spis_[intid - kNrPrivate];
    const unsigned shift = (a.size == 4 && (a.offset & 4)) ? 32 : 0;
    if (!a.is_write) {
        a.value = (q.irouter >> shift) & size_mask(a.size);
        return MmioResult::Handled;
    }
    const std::uint64_t field = size_mask(a.size) << shift;
    const std::uint64_t merged = (q.irouter & ~field) | ((a.value << shift) & field);
    const unsigned before = signal_target(a.vcpu, intid);
    q.irouter = merged & (kIrouterAffMask | kIrouterIrm);
    settle(a.vcpu, intid, before);
    return MmioResult::Handled;
}

MmioResult Vgic::redist_rd(Access& a, unsigned frame_vcpu)
{
    using namespace regs;
    const std::uint32_t off = a.offset;
    if (off == kGicrTyper || off == kGicrTyper + 4) {
        if (a.size != 8 && a.size != 4) return MmioResult::BadAccess;
        const std::uint64_t typer = std::uint64_t{frame_vcpu} << kGicrTyperAffinityShift |
                                    std::uint64_t{frame_vcpu} << kGicrTyperProcNumShift |
                                    (frame_vcpu + 1 == nr_vcpus_ ? kGicrTyperLast : 0);
        if (!a.is_write) a.value = (typer >> (off == kGicrTyper ? 0 : 32)) & size_mask(a.size);
        return MmioResult::Handled;
    }
    switch (off) {
    case kGicrCtlr:      // no LPIs: EnableLPIs RAZ/WI, RWP/UWP read 0
    case kGicrStatusr:
        return a.size == 4 ? MmioResult::Handled : MmioResult::BadAccess;
    case kGicrIidr:
        if (a.size != 4) return MmioResult::BadAccess;
        if (!a.is_write) a.value = kIidr;
        return MmioResult::Handled;
    case kGicrWaker: {
        if (a.size != 4) return MmioResult::BadAccess;
        // Linux clears ProcessorSleep, then waits for ChildrenAsleep to follow.
        // Delivery does not depend on it: guests that never touch WAKER (as Xen
        // allows, where it is RAZ/WI) still get their interrupts.
        VcpuState& vs = vcpus_[frame_vcpu];
        if (a.is_write)
            vs.asleep = (a.value & kGicrWakerProcessorSleep) != 0;
        else
            a.value = vs.asleep ? (kGicrWakerProcessorSleep | kGicrWakerChildrenAsleep) : 0;
        return MmioResult::Handled;
    }
    default:
        break;
    }
    if (in_range(off, kIdRegsV3, kIdRegsSize)) return id_regs(a, kIdRegsV3);
    return MmioResult::Handled;   // PROPBASER, PENDBASER, LPI registers, reserved: RAZ/WI
}

MmioResult Vgic::redist_sgi(Access& a, unsigned frame_vcpu)
{
    using namespace regs;
    bool matched;
    const MmioResult r = irq_banks(a, frame_vcpu, 0, kNrPrivate, matched);
    if (matched) return r;
    if (a.offset == kIgrpmodr || a.offset == kNsacr)   // no security extensions: RAZ/WI
        return a.size == 4 ? MmioResult::Handled : MmioResult::BadAccess;
    return MmioResult::Handled;   // reserved: RAZ/WI
}

} // namespace keel::vgic
