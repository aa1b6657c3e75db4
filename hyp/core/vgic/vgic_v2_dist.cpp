// The GICv2 face: one 4 KiB distributor, private banks selected by the accessing
// vCPU, SGIs sent through GICD_SGIR and pended per source (GICD_S/CPENDSGIR).
#include "vgic/regs.hpp"
#include "vgic/vgic.hpp"

namespace keel::vgic {

MmioResult Vgic::dist_v2(Access& a)
{
    using namespace regs;
    const std::uint32_t off = a.offset;
    switch (off) {
    case kGicdCtlr:
        if (a.size != 4) return MmioResult::BadAccess;
        if (a.is_write)
            write_ctlr(static_cast<std::uint32_t>(a.value));
        else
            a.value = ctlr_;
        return MmioResult::Handled;
    case kGicdTyper:
        if (a.size != 4) return MmioResult::BadAccess;
        if (!a.is_write) a.value = (kNrIrqs / 32 - 1) | (nr_vcpus_ - 1) << kTyperCpuNumberShift;
        return MmioResult::Handled;
    case kGicdIidr:
        if (a.size != 4) return MmioResult::BadAccess;
        if (!a.is_write) a.value = kIidr;
        return MmioResult::Handled;
    case kGicdSgir:   // write-only
        if (a.size != 4) return MmioResult::BadAccess;
        if (a.is_write) sgir_v2(a.vcpu, static_cast<std::uint32_t>(a.value));
        return MmioResult::Handled;
    default:
        break;
    }

    bool matched;
    const MmioResult r = irq_banks(a, a.vcpu, 0, kNrIrqs, matched);
    if (matched) return r;
    if (in_range(off, kGicdCpendsgir, 2 * kSgiPendBankSize)) return sgi_pend_v2(a);
    if (in_range(off, kNsacr, kNsacrSize)) return a.size == 4 ? MmioResult::Handled : MmioResult::BadAccess;
    if (in_range(off, kIdRegsV2, kIdRegsSize)) return id_regs(a, kIdRegsV2);
    return MmioResult::Handled;   // reserved: RAZ/WI
}

void Vgic::sgir_v2(unsigned src, std::uint32_t value)
{
    using namespace regs;
    const unsigned intid = value & kSgirIntidMask;
    std::uint32_t targets = 0;
    switch (static_cast<SgirFilter>((value >> kSgirFilterShift) & 3)) {
    case SgirFilter::TargetList: targets = (value >> kSgirTargetListShift) & 0xFF; break;
    case SgirFilter::AllButSelf: targets = ~(1u << src); break;
    case SgirFilter::SelfOnly: targets = 1u << src; break;
    case SgirFilter::Reserved: break;
    }
    targets &= valid_vcpu_mask();
    for (unsigned t = 0; t < nr_vcpus_; ++t)
        if (targets & (1u << t)) pend_sgi(t, intid, src);
}

// GICD_CPENDSGIR<n> / GICD_SPENDSGIR<n>: byte k = the source vCPUs of the
// accessing vCPU's SGI k.
MmioResult Vgic::sgi_pend_v2(Access& a)
{
    using namespace regs;
    if (a.size != 1 && a.size != 4) return MmioResult::BadAccess;
    const bool set = a.offset >= kGicdSpendsgir;
    const unsigned first = a.offset - (set ? kGicdSpendsgir : kGicdCpendsgir);
    std::uint64_t out = 0;
    for (unsigned i = 0; i < a.size; ++i) {
        const unsigned sgi = first + i;
        if (sgi >= kNrSgis) continue;
        IrqState& q = vcpus_[a.vcpu].priv[sgi];
        if (!a.is_write) {
            out |= std::uint64_t{q.sgi_sources} << (8 * i);
            continue;
        }
        const std::uint8_t sources = static_cast<std::uint8_t>((a.value >> (8 * i)) & valid_vcpu_mask());
        if (set) {
            for (unsigned s = 0; s < nr_vcpus_; ++s)
                if (sources & (1u << s)) pend_sgi(a.vcpu, sgi, s);
        } else {
            q.sgi_sources &= static_cast<std::uint8_t>(~sources);
            Presented* p = presented(q.lr_owner, sgi);
            if (p != nullptr && (sources & (1u << p->source))) p->took_latch = false;
        }
    }
    if (!a.is_write) a.value = out;
    return MmioResult::Handled;
}

} // namespace keel::vgic
