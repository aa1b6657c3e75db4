// Virtual GIC state: reset, routing, injection, SGIs and the "who should hear
// about this" rules. MMIO lives in vgic_*mmio/dist files, list registers in vgic_lr.cpp.
#include "vgic/vgic.hpp"

#include "vgic/regs.hpp"

namespace keel::vgic {

void Vgic::init(const Layout& layout, unsigned nr_vcpus, Hooks* hooks)
{
    LockGuard guard(lock_);
    layout_ = layout;
    if (layout_.version != GicVersion::V2) layout_.version = GicVersion::V3;
    nr_vcpus_ = nr_vcpus == 0 ? 1 : (nr_vcpus > kMaxVcpus ? kMaxVcpus : nr_vcpus);
    hooks_ = hooks;
    ctlr_ = 0;
    kicks_ = 0;

    // Reset values: everything disabled, priority 0, not pending. SGIs are edge;
    // PPIs and SPIs start level-sensitive until the guest's ICFGR says otherwise.
    for (unsigned v = 0; v < kMaxVcpus; ++v) {
        VcpuState& vs = vcpus_[v];
        for (unsigned i = 0; i < kNrPrivate; ++i) {
            vs.priv[i] = IrqState{};
            vs.priv[i].edge = i < kNrSgis;
            vs.priv[i].active_vcpu = static_cast<std::uint8_t>(v);
        }
        vs.nr_presented = 0;
        vs.filled = false;
        vs.overflowed = false;
        vs.asleep = true;
    }
    for (IrqState& q : spis_) {
        q = IrqState{};
        q.targets = 0x01;   // GICv2: vCPU 0 until the guest says otherwise (as Xen does)
    }
}

std::uint64_t Vgic::dist_size() const
{
    return v2() ? regs::kDistSizeV2 : regs::kDistSizeV3;
}

std::uint64_t Vgic::redist_size() const
{
    return v2() ? 0 : regs::kRedistStride * nr_vcpus_;
}

IrqState* Vgic::irq(unsigned bank, unsigned intid)
{
    if (intid >= kNrIrqs) return nullptr;
    if (intid >= kNrPrivate) return &spis_[intid - kNrPrivate];
    if (bank >= nr_vcpus_) return nullptr;
    return &vcpus_[bank].priv[intid];
}

const IrqState* Vgic::irq(unsigned bank, unsigned intid) const
{
    return const_cast<Vgic*>(this)->irq(bank, intid);
}

bool Vgic::pending(const IrqState& q, unsigned intid) const
{
    if (is_v2_sgi(intid)) return q.sgi_sources != 0;
    return q.latch || (!q.edge && q.line);
}

bool Vgic::group_enabled() const
{
    return (ctlr_ & (v2() ? regs::kCtlrV2EnableGrp0 : regs::kCtlrV3EnableGrp1A)) != 0;
}

unsigned Vgic::route_irouter(std::uint64_t irouter) const
{
    // 1-of-N: any vCPU will do; like Xen, take vCPU 0.
    if (irouter & regs::kIrouterIrm) return 0;
    // vCPU i is Aff0 = i with Aff1..3 zero; anything else names no vCPU.
    const std::uint64_t aff = irouter & regs::kIrouterAffMask;
    return aff < nr_vcpus_ ? static_cast<unsigned>(aff) : kNoVcpu;
}

unsigned Vgic::spi_route(const IrqState& q) const
{
    if (!v2()) return route_irouter(q.irouter);
    // GICv2 targets a set; the lowest-numbered vCPU in it takes the interrupt.
    const std::uint32_t set = q.targets & valid_vcpu_mask();
    if (set == 0) return kNoVcpu;
    return static_cast<unsigned>(__builtin_ctz(set));
}

unsigned Vgic::owner(unsigned bank, unsigned intid) const
{
    const IrqState* q = irq(bank, intid);
    if (q == nullptr) return kNoVcpu;
    if (intid < kNrPrivate) return bank;
    return q->active ? q->active_vcpu : spi_route(*q);
}

unsigned Vgic::signal_target(unsigned bank, unsigned intid) const
{
    const IrqState* q = irq(bank, intid);
    if (q == nullptr || !group_enabled() || !q->enabled || q->active || !pending(*q, intid)) return kNoVcpu;
    return owner(bank, intid);
}

void Vgic::settle(unsigned bank, unsigned intid, unsigned target_before)
{
    const unsigned after = signal_target(bank, intid);
    if (after != kNoVcpu && after != target_before) kicks_ |= 1u << after;
}

bool Vgic::deliverable_locked(unsigned vcpu) const
{
    if (vcpu >= nr_vcpus_) return false;
    for (unsigned intid = 0; intid < kNrIrqs; ++intid) {
        const IrqState* q = irq(vcpu, intid);
        // An SPI in another vCPU's list registers is that vCPU's to deliver.
        if (q->lr_owner != kNoVcpu && q->lr_owner != vcpu) continue;
        if (signal_target(vcpu, intid) == vcpu) return true;
    }
    return false;
}

void Vgic::kick_all_deliverable()
{
    for (unsigned v = 0; v < nr_vcpus_; ++v)
        if (deliverable_locked(v)) kicks_ |= 1u << v;
}

bool Vgic::has_deliverable(unsigned vcpu) const
{
    LockGuard guard(lock_);
    return deliverable_locked(vcpu);
}

void Vgic::set_latch(unsigned bank, unsigned intid)
{
    IrqState* q = irq(bank, intid);
    if (q == nullptr) return;
    const unsigned before = signal_target(bank, intid);
    q->latch = true;
    settle(bank, intid, before);
}

void Vgic::pend_sgi(unsigned target, unsigned intid, unsigned source)
{
    if (target >= nr_vcpus_ || intid >= kNrSgis) return;
    if (!v2()) {
        set_latch(target, intid);
        return;
    }
    if (source >= nr_vcpus_) return;
    IrqState& q = vcpus_[target].priv[intid];
    const unsigned before = signal_target(target, intid);
    q.sgi_sources |= static_cast<std::uint8_t>(1u << source);
    settle(target, intid, before);
}

Vgic::Presented* Vgic::presented(unsigned owner_vcpu, unsigned intid)
{
    if (owner_vcpu >= nr_vcpus_) return nullptr;
    VcpuState& vs = vcpus_[owner_vcpu];
    for (unsigned i = 0; i < vs.nr_presented; ++i)
        if (vs.lrs[i].intid == intid) return &vs.lrs[i];
    return nullptr;
}

void Vgic::clear_pending(unsigned bank, unsigned intid)
{
    IrqState* q = irq(bank, intid);
    if (q == nullptr) return;
    q->latch = false;
    if (is_v2_sgi(intid)) q->sgi_sources = 0;
    // A latch already handed to a running vCPU's list register must not come back
    // at sync(). (The guest may still take it before it exits: the race a real
    // GIC has too, between the clear and the CPU interface.)
    if (Presented* p = presented(q->lr_owner, intid)) p->took_latch = false;
}

void Vgic::set_active(unsigned bank, unsigned intid, bool active)
{
    IrqState* q = irq(bank, intid);
    if (q == nullptr) return;
    const unsigned before = signal_target(bank, intid);
    if (active && !q->active && intid >= kNrPrivate) {
        const unsigned route = spi_route(*q);
        q->active_vcpu = static_cast<std::uint8_t>(route != kNoVcpu ? route : 0);
    }
    q->active = active;
    if (Presented* p = presented(q->lr_owner, intid)) p->keep_active = true;
    settle(bank, intid, before);
}

void Vgic::inject_edge(unsigned vcpu, unsigned intid)
{
    std::uint32_t kicks;
    {
        LockGuard guard(lock_);
        if (is_v2_sgi(intid))
            pend_sgi(vcpu, intid, vcpu);
        else
            set_latch(vcpu, intid);
        kicks = take_kicks();
    }
    send_kicks(kicks);
}

void Vgic::set_level(unsigned vcpu, unsigned intid, bool high)
{
    std::uint32_t kicks;
    {
        LockGuard guard(lock_);
        IrqState* q = irq(vcpu, intid);
        if (q != nullptr && intid >= kNrSgis) {   // SGIs have no line
            const unsigned before = signal_target(vcpu, intid);
            // An edge-configured interrupt latches on the rising edge.
            if (high && !q->line && q->edge) q->latch = true;
            q->line = high;
            settle(vcpu, intid, before);
        }
        kicks = take_kicks();
    }
    send_kicks(kicks);
}

void Vgic::send_sgi_v3(unsigned src_vcpu, std::uint64_t sgi1r)
{
    // ICC_SGI1R_EL1: TargetList [15:0], Aff1 [23:16], INTID [27:24], Aff2 [39:32],
    // IRM [40], RS [47:44], Aff3 [55:48].
    const unsigned target_list = sgi1r & 0xFFFF;
    const unsigned aff1 = (sgi1r >> 16) & 0xFF;
    const unsigned intid = (sgi1r >> 24) & 0xF;
    const unsigned aff2 = (sgi1r >> 32) & 0xFF;
    const bool irm = (sgi1r >> 40) & 1;
    const unsigned rs = (sgi1r >> 44) & 0xF;
    const unsigned aff3 = (sgi1r >> 48) & 0xFF;

    std::uint32_t kicks;
    {
        LockGuard guard(lock_);
        if (!v2() && src_vcpu < nr_vcpus_) {
            if (irm) {
                for (unsigned t = 0; t < nr_vcpus_; ++t)
                    if (t != src_vcpu) pend_sgi(t, intid, src_vcpu);
            } else if (aff1 == 0 && aff2 == 0 && aff3 == 0) {
                // Our vCPUs all sit in cluster 0.0.0 with Aff0 = index; RS selects
                // which group of 16 Aff0 values the TargetList bits name.
                for (unsigned bit = 0; bit < 16; ++bit) {
                    const unsigned t = rs * 16 + bit;
                    if ((target_list >> bit) & 1) pend_sgi(t, intid, src_vcpu);
                }
            }
        }
        kicks = take_kicks();
    }
    send_kicks(kicks);
}

std::uint32_t Vgic::take_kicks()
{
    const std::uint32_t k = kicks_;
    kicks_ = 0;
    return k;
}

void Vgic::send_kicks(std::uint32_t kicks)
{
    if (hooks_ == nullptr) return;
    for (unsigned v = 0; v < kMaxVcpus; ++v)
        if (kicks & (1u << v)) hooks_->kick(v);
}

bool Vgic::overflowed(unsigned vcpu) const
{
    LockGuard guard(lock_);
    return vcpu < nr_vcpus_ && vcpus_[vcpu].overflowed;
}

} // namespace keel::vgic
