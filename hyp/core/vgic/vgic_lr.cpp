// Moving interrupts between the distributor model and a vCPU's list registers.
//
// fill() hands an interrupt's pending latch to the list register it presents
// (the latch is cleared here), so anything that pends it again while the guest
// runs (another CPU, a device model) sets the latch afresh. sync() then merges:
// the LR's pending state comes back only if the guest has not taken it, the
// LR's active state replaces ours, and a fresh latch is simply kept. No injection
// between fill() and sync() is lost, and none is delivered twice.
#include "vgic/vgic.hpp"

namespace keel::vgic {

namespace {

// Sort key for fill(): active interrupts first (they must stay presented), then
// by priority (lower value wins), then by INTID.
constexpr std::uint32_t make_key(bool active, std::uint8_t priority, unsigned intid)
{
    return (active ? 0u : 1u) << 16 | std::uint32_t{priority} << 8 | intid;
}
constexpr unsigned key_intid(std::uint32_t key) { return key & 0xFF; }

} // namespace

unsigned Vgic::fill(unsigned vcpu, ListReg* lrs, unsigned nr_lrs)
{
    LockGuard guard(lock_);
    if (vcpu >= nr_vcpus_) return 0;
    VcpuState& vs = vcpus_[vcpu];
    // A fill() never synced (the vCPU did not run after all): the LRs were not
    // touched, so put everything back as it was given.
    if (vs.filled) sync_locked(vcpu, nullptr, 0);

    unsigned cap = lrs == nullptr ? 0 : nr_lrs;
    if (cap > kMaxLrs) cap = kMaxLrs;

    // Keep the best `cap` candidates, sorted, by insertion.
    std::uint32_t best[kMaxLrs];
    unsigned nr_best = 0;
    unsigned candidates = 0;
    for (unsigned intid = 0; intid < kNrIrqs; ++intid) {
        const IrqState& q = *irq(vcpu, intid);
        // Most interrupts are idle: rule them out before the routing checks, which
        // cost far more than this (fill runs on every guest entry).
        if (!q.active && !pending(q, intid)) continue;
        if (intid >= kNrPrivate && (q.lr_owner != kNoVcpu || owner(vcpu, intid) != vcpu)) continue;
        if (!q.active && signal_target(vcpu, intid) != vcpu) continue;
        ++candidates;
        const std::uint32_t key = make_key(q.active, q.priority, intid);
        unsigned pos = nr_best;
        while (pos > 0 && best[pos - 1] > key) --pos;
        if (pos >= cap) continue;
        const unsigned last = nr_best < cap ? nr_best : cap - 1;
        for (unsigned i = last; i > pos; --i) best[i] = best[i - 1];
        best[pos] = key;
        if (nr_best < cap) ++nr_best;
    }
    vs.overflowed = candidates > nr_best;

    for (unsigned i = 0; i < nr_best; ++i) {
        const unsigned intid = key_intid(best[i]);
        IrqState& q = *irq(vcpu, intid);
        ListReg& lr = lrs[i];
        Presented& p = vs.lrs[i];
        lr = ListReg{};
        lr.intid = static_cast<std::uint16_t>(intid);
        lr.priority = q.priority;
        lr.active = q.active;
        // An active interrupt is presented even if disabled; its pending half only if
        // it may be signalled.
        const bool may_signal = q.enabled && group_enabled();
        p = Presented{};
        p.intid = lr.intid;
        if (is_v2_sgi(intid)) {
            // One source at a time: the active one's, else the lowest pending.
            const unsigned src = q.active ? q.active_source : static_cast<unsigned>(__builtin_ctz(q.sgi_sources));
            const std::uint8_t bit = static_cast<std::uint8_t>(1u << src);
            lr.source_vcpu = static_cast<std::uint8_t>(src);
            lr.pending = (q.sgi_sources & bit) != 0 && may_signal;
            if (lr.pending) {
                q.sgi_sources &= static_cast<std::uint8_t>(~bit);
                p.took_latch = true;
            }
            lr.eoi_maintenance = q.sgi_sources != 0;
        } else {
            lr.pending = pending(q, intid) && may_signal;
            if (lr.pending && q.latch) {
                q.latch = false;
                p.took_latch = true;
            }
            // A level line still high at EOI must be seen again; only we can tell.
            lr.eoi_maintenance = !q.edge && q.line;
        }
        p.source = lr.source_vcpu;
        p.pending = lr.pending;
        p.active = lr.active;
        q.lr_owner = static_cast<std::uint8_t>(vcpu);
    }
    vs.nr_presented = static_cast<std::uint8_t>(nr_best);
    vs.filled = true;
    return nr_best;
}

void Vgic::sync(unsigned vcpu, const ListReg* lrs, unsigned n)
{
    std::uint32_t kicks;
    {
        LockGuard guard(lock_);
        if (vcpu >= nr_vcpus_) return;
        sync_locked(vcpu, lrs, lrs == nullptr ? 0 : n);
        kicks = take_kicks();
    }
    send_kicks(kicks);
}

void Vgic::sync_locked(unsigned vcpu, const ListReg* lrs, unsigned n)
{
    VcpuState& vs = vcpus_[vcpu];
    for (unsigned i = 0; i < vs.nr_presented; ++i) {
        const Presented& p = vs.lrs[i];
        // The glue hands the records back in order; look further only if it did not.
        // An LR we cannot find is taken as untouched.
        bool now_pending = p.pending;
        bool now_active = p.active;
        const ListReg* lr = nullptr;
        if (i < n && lrs[i].intid == p.intid) lr = &lrs[i];
        for (unsigned j = 0; lr == nullptr && j < n; ++j)
            if (lrs[j].intid == p.intid) lr = &lrs[j];
        if (lr != nullptr) {
            now_pending = lr->pending;
            now_active = lr->active;
        }

        IrqState& q = *irq(vcpu, p.intid);
        q.lr_owner = kNoVcpu;
        if (!p.keep_active) {
            if (now_active && !q.active) {
                if (p.intid >= kNrPrivate) q.active_vcpu = static_cast<std::uint8_t>(vcpu);
                if (is_v2_sgi(p.intid)) q.active_source = p.source;
            }
            q.active = now_active;
        }
        // Still pending in the LR: the guest has not taken it, the latch comes back.
        // (A level line needs no restoring: it is still what the device says.)
        if (now_pending && p.took_latch) {
            if (is_v2_sgi(p.intid))
                q.sgi_sources |= static_cast<std::uint8_t>(1u << p.source);
            else
                q.latch = true;
        }
        // An SPI pended for, or re-routed to, another vCPU while we held it: that vCPU
        // was kicked but could not take it then; kick it again now that it can.
        if (p.intid >= kNrPrivate) {
            const unsigned after = signal_target(vcpu, p.intid);
            if (after != kNoVcpu && after != vcpu) kicks_ |= 1u << after;
        }
    }
    vs.nr_presented = 0;
    vs.filled = false;
}

} // namespace keel::vgic
