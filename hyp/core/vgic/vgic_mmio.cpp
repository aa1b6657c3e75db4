// Guest MMIO to the virtual GIC: which window and frame an address falls in, the
// size/alignment rules, and the per-interrupt register banks that the GICv2/v3
// distributor and the GICv3 redistributor SGI frame share.
//
// Every guest value is hostile: offsets come from the guest's address, INTIDs are
// computed from offsets and checked against [lo, hi) before any array is touched.
#include "vgic/regs.hpp"
#include "vgic/vgic.hpp"

namespace keel::vgic {

MmioResult Vgic::read(unsigned vcpu, IpAddr addr, unsigned size_bytes, std::uint64_t& value)
{
    value = 0;
    return access(vcpu, addr, size_bytes, false, value);
}

MmioResult Vgic::write(unsigned vcpu, IpAddr addr, unsigned size_bytes, std::uint64_t value)
{
    return access(vcpu, addr, size_bytes, true, value);
}

MmioResult Vgic::access(unsigned vcpu, IpAddr addr, unsigned size, bool is_write, std::uint64_t& value)
{
    enum class Frame { Dist, RedistRd, RedistSgi } frame;
    std::uint64_t offset;
    unsigned frame_vcpu = 0;
    {
        LockGuard guard(lock_);   // layout and nr_vcpus only change in init()
        if (nr_vcpus_ == 0) return MmioResult::NotMine;
        const std::uint64_t a = addr.raw();
        const std::uint64_t gicd = layout_.gicd.raw();
        const std::uint64_t gicr = layout_.gicr.raw();
        if (a >= gicd && a - gicd < dist_size()) {
            frame = Frame::Dist;
            offset = a - gicd;
        } else if (!v2() && a >= gicr && a - gicr < redist_size()) {
            const std::uint64_t rel = a - gicr;
            frame_vcpu = static_cast<unsigned>(rel / regs::kRedistStride);
            offset = rel % regs::kRedistStride;
            frame = offset < regs::kRedistFrameSize ? Frame::RedistRd : Frame::RedistSgi;
            offset %= regs::kRedistFrameSize;
        } else {
            return MmioResult::NotMine;
        }
    }
    if (vcpu >= nr_vcpus_) return MmioResult::BadAccess;
    if (size != 1 && size != 2 && size != 4 && size != 8) return MmioResult::BadAccess;
    if ((offset & (size - 1)) != 0) return MmioResult::BadAccess;

    Access acc{static_cast<std::uint32_t>(offset), size, is_write, is_write ? value & size_mask(size) : 0, vcpu};
    MmioResult result;
    std::uint32_t kicks;
    {
        LockGuard guard(lock_);
        switch (frame) {
        case Frame::Dist: result = v2() ? dist_v2(acc) : dist_v3(acc); break;
        case Frame::RedistRd: result = redist_rd(acc, frame_vcpu); break;
        case Frame::RedistSgi: result = redist_sgi(acc, frame_vcpu); break;
        default: result = MmioResult::BadAccess; break;
        }
        kicks = take_kicks();
    }
    send_kicks(kicks);
    if (!is_write) value = result == MmioResult::Handled ? acc.value & size_mask(size) : 0;
    return result;
}

MmioResult Vgic::irq_banks(Access& a, unsigned bank, unsigned lo, unsigned hi, bool& matched)
{
    using namespace regs;
    matched = true;
    const std::uint32_t off = a.offset;
    if (in_range(off, kIgroupr, kIcactiver + kBitBankSize - kIgroupr))
        return bit_bank(a, off & ~(kBitBankSize - 1), bank, lo, hi);
    if (in_range(off, kIpriorityr, kByteBankSize)) return byte_bank(a, kIpriorityr, bank, lo, hi);
    if (v2() && in_range(off, kItargetsr, kByteBankSize)) return byte_bank(a, kItargetsr, bank, lo, hi);
    if (in_range(off, kIcfgr, kIcfgrBankSize)) return icfgr_bank(a, bank, lo, hi);
    matched = false;
    return MmioResult::Handled;
}

// IGROUPR, IS/ICENABLER, IS/ICPENDR, IS/ICACTIVER: one bit per INTID, word access.
MmioResult Vgic::bit_bank(Access& a, std::uint32_t reg, unsigned bank, unsigned lo, unsigned hi)
{
    using namespace regs;
    if (a.size != 4) return MmioResult::BadAccess;
    const unsigned first = (a.offset - reg) * 8;
    std::uint32_t out = 0;
    for (unsigned b = 0; b < 32; ++b) {
        const unsigned intid = first + b;
        if (intid < lo || intid >= hi) continue;
        IrqState* q = irq(bank, intid);
        if (q == nullptr) continue;
        if (!a.is_write) {
            bool bit = false;
            switch (reg) {
            // No security extensions in the guest's view: a vGICv3 puts everything
            // in Non-secure Group 1 (RAO), a vGICv2 everything in group 0 (RAZ).
            case kIgroupr: bit = !v2(); break;
            case kIsenabler: case kIcenabler: bit = q->enabled; break;
            case kIspendr: case kIcpendr: bit = pending(*q, intid); break;
            default: bit = q->active; break;   // IS/ICACTIVER
            }
            out |= static_cast<std::uint32_t>(bit) << b;
            continue;
        }
        if (((a.value >> b) & 1) == 0) continue;
        const unsigned before = signal_target(bank, intid);
        switch (reg) {
        case kIsenabler: q->enabled = true; break;
        case kIcenabler: q->enabled = false; break;
        // GICv2 SGIs are pended per source through S/CPENDSGIR; these bits are WI.
        case kIspendr: if (!is_v2_sgi(intid)) set_latch(bank, intid); break;
        case kIcpendr: if (!is_v2_sgi(intid)) clear_pending(bank, intid); break;
        case kIsactiver: set_active(bank, intid, true); break;
        case kIcactiver: set_active(bank, intid, false); break;
        default: break;   // IGROUPR: WI
        }
        settle(bank, intid, before);
    }
    if (!a.is_write) a.value = out;
    return MmioResult::Handled;
}

// IPRIORITYR and (GICv2) ITARGETSR: one byte per INTID, byte or word access.
MmioResult Vgic::byte_bank(Access& a, std::uint32_t reg, unsigned bank, unsigned lo, unsigned hi)
{
    using namespace regs;
    if (a.size != 1 && a.size != 4) return MmioResult::BadAccess;
    const unsigned first = a.offset - reg;
    std::uint64_t out = 0;
    for (unsigned i = 0; i < a.size; ++i) {
        const unsigned intid = first + i;
        if (intid < lo || intid >= hi) continue;
        IrqState* q = irq(bank, intid);
        if (q == nullptr) continue;
        const std::uint8_t in = static_cast<std::uint8_t>(a.value >> (8 * i));
        if (reg == kIpriorityr) {
            if (a.is_write)
                q->priority = in & kPriorityMask;
            else
                out |= std::uint64_t{q->priority} << (8 * i);
            continue;
        }
        // ITARGETSR: a private interrupt targets the reading CPU, read-only (Linux
        // learns its own CPU interface number from these).
        if (intid < kNrPrivate) {
            if (!a.is_write) out |= std::uint64_t{1u << bank} << (8 * i);
            continue;
        }
        if (a.is_write) {
            const unsigned before = signal_target(bank, intid);
            q->targets = static_cast<std::uint8_t>(in & valid_vcpu_mask());
            settle(bank, intid, before);
        } else {
            out |= std::uint64_t{q->targets} << (8 * i);
        }
    }
    if (!a.is_write) a.value = out;
    return MmioResult::Handled;
}

// ICFGR: two bits per INTID, bit 1 of each = edge. SGIs are edge, read-only.
MmioResult Vgic::icfgr_bank(Access& a, unsigned bank, unsigned lo, unsigned hi)
{
    if (a.size != 4) return MmioResult::BadAccess;
    const unsigned first = (a.offset - regs::kIcfgr) * 4;
    std::uint32_t out = 0;
    for (unsigned i = 0; i < 16; ++i) {
        const unsigned intid = first + i;
        if (intid < lo || intid >= hi) continue;
        IrqState* q = irq(bank, intid);
        if (q == nullptr) continue;
        if (!a.is_write) {
            out |= static_cast<std::uint32_t>(q->edge) << (2 * i + 1);
            continue;
        }
        if (intid < kNrSgis) continue;
        const unsigned before = signal_target(bank, intid);
        q->edge = (a.value >> (2 * i + 1)) & 1;
        settle(bank, intid, before);
    }
    if (!a.is_write) a.value = out;
    return MmioResult::Handled;
}

// PIDR4..7, PIDR0..3, CIDR0..3. Only PIDR2's ArchRev means anything to guests.
MmioResult Vgic::id_regs(Access& a, std::uint32_t base) const
{
    if (a.size != 4) return MmioResult::BadAccess;
    const std::uint32_t arch_rev = static_cast<std::uint32_t>(layout_.version);
    const std::uint32_t ids[regs::kIdRegsSize / 4] = {
        0x04, 0x00, 0x00, 0x00,                                     // PIDR4..7
        0x92, 0xB4, (arch_rev << regs::kPidr2ArchRevShift) | 0x0B, 0x00, // PIDR0..3
        0x0D, 0xF0, 0x05, 0xB1,                                     // CIDR0..3
    };
    if (!a.is_write) a.value = ids[(a.offset - base) / 4];
    return MmioResult::Handled;
}

void Vgic::write_ctlr(std::uint32_t value)
{
    const std::uint32_t kept = v2() ? (regs::kCtlrV2EnableGrp0 | regs::kCtlrV2EnableGrp1)
                                    : (regs::kCtlrV3EnableGrp1 | regs::kCtlrV3EnableGrp1A);
    const bool was = group_enabled();
    ctlr_ = value & kept;
    if (!was && group_enabled()) kick_all_deliverable();
}

} // namespace keel::vgic
