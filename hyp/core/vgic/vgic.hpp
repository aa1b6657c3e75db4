// The virtual GIC: one arch-neutral distributor model behind a GICv3 face
// (distributor + one redistributor per vCPU, SGIs through ICC_SGI1R_EL1) or a
// GICv2 face (distributor with banked private registers and GICD_SGIR).
//
// The arch glue owns the CPU interface: it traps guest accesses to the GICD/GICR
// windows to read()/write(), decodes trapped ICC_SGI1R_EL1 writes to send_sgi_v3(),
// and moves ListReg records into and out of the hardware list registers with
// fill() before entering a vCPU and sync() after leaving it. All state lives here,
// in fixed-size arrays; every entry point takes the one lock, and calls into the
// scheduler (Hooks::kick) only after dropping it.
#pragma once

#include <cstddef>
#include <cstdint>

#include <keel/spinlock.hpp>
#include <keel/strong.hpp>

#include "vgic/irq_state.hpp"
#include "vgic/reg_access.hpp"

namespace keel::vgic {

enum class GicVersion : std::uint8_t { V2 = 2, V3 = 3 };

inline constexpr unsigned kMaxVcpus = 8;
inline constexpr unsigned kNrIrqs = 128;          // INTIDs 0..127: 32 private + 96 SPIs
inline constexpr unsigned kNrSgis = 16;
inline constexpr unsigned kNrPrivate = 32;
inline constexpr unsigned kNrSpis = kNrIrqs - kNrPrivate;
// List registers we track per vCPU: GICv3 has at most 16; a GICv2 with more is
// given at most this many.
inline constexpr unsigned kMaxLrs = 16;

struct Layout {
    GicVersion version;
    IpAddr gicd;       // distributor, 64 KiB window for v3 (0x03001000), 4 KiB for v2
    IpAddr gicr;       // v3 only: redistributors, 0x20000 per vCPU (RD frame + SGI frame)
};

// One list register's worth of state, arch-neutral. The glue encodes it as
//   GICv3 ICH_LR<n>_EL2: vINTID = intid, Priority[55:48] = priority, State[63:62] =
//     pending | active << 1, Group[60] = 1, HW = 0, EOI[41] = eoi_maintenance;
//   GICv2 GICH_LR<n>: VirtualID = intid, CPUID[12:10] = source_vcpu (SGIs),
//     Priority[27:23] = priority >> 3, State[29:28] = pending | active << 1,
//     Grp1 = 0 (the vGICv2 reports every interrupt in group 0), HW = 0,
//     EOI[19] = eoi_maintenance.
// sync() wants the same records back, in the same order, with pending/active
// decoded from the State field.
struct ListReg {
    std::uint16_t intid;
    std::uint8_t priority;
    bool pending;
    bool active;
    std::uint8_t source_vcpu;   // GICv2 SGIs only
    // Ask for a maintenance interrupt when the guest deactivates this one, so we
    // get to look again: a level-sensitive line that may still be high, or a GICv2
    // SGI with more sources queued behind it.
    bool eoi_maintenance;
};

// Callback into the scheduler: `vcpu` has gained a deliverable interrupt (wake it / IPI its pCPU).
// Called WITHOUT the vgic lock held.
class Hooks {
public:
    virtual void kick(unsigned vcpu) = 0;

protected:
    ~Hooks() = default;
};

enum class MmioResult { Handled, NotMine, BadAccess };   // BadAccess -> lead injects a data abort

class Vgic {
public:
    void init(const Layout& layout, unsigned nr_vcpus, Hooks* hooks);

    // Guest MMIO to the distributor or (v3) redistributor windows. size_bytes is 1,
    // 2, 4 or 8 and the access naturally aligned, or it is a BadAccess.
    MmioResult read(unsigned vcpu, IpAddr addr, unsigned size_bytes, std::uint64_t& value);
    MmioResult write(unsigned vcpu, IpAddr addr, unsigned size_bytes, std::uint64_t value);

    // Edge: sets pending. intid < 32 is private to `vcpu`; SPIs go to their routed vCPU.
    // A GICv2 SGI injected this way comes from `vcpu` itself.
    void inject_edge(unsigned vcpu, unsigned intid);
    // Level-sensitive line (e.g. the emulated UART's SPI): pending follows the line.
    void set_level(unsigned vcpu, unsigned intid, bool high);
    // GICv3 guest wrote ICC_SGI1R_EL1 (trapped): decode TargetList/Aff1/IRM/INTID, pend SGIs.
    // vCPU i has MPIDR affinity Aff0 = i (Aff1..3 = 0).
    void send_sgi_v3(unsigned src_vcpu, std::uint64_t sgi1r);

    // Before entering `vcpu`: choose up to nr_lrs interrupts to present (active ones first,
    // they stay presented until the guest deactivates them; then the highest-priority
    // pending and enabled ones). Returns how many records were written to lrs.
    unsigned fill(unsigned vcpu, ListReg* lrs, unsigned nr_lrs);
    // After leaving `vcpu`: what the list registers say now (guest acked -> active, EOI'd -> gone).
    // Injections that raced with the guest's run (from another CPU) are kept.
    void sync(unsigned vcpu, const ListReg* lrs, unsigned n);
    // Any enabled pending interrupt for `vcpu` (used to wake a vCPU blocked in WFI)?
    bool has_deliverable(unsigned vcpu) const;

    // True when the last fill() for `vcpu` had to leave deliverable interrupts out for
    // lack of list registers: enable the underflow maintenance interrupt
    // (ICH_HCR_EL2.UIE / GICH_HCR.UIE) so the guest exits once the LRs drain.
    bool overflowed(unsigned vcpu) const;

    GicVersion version() const { return layout_.version; }
    unsigned nr_vcpus() const { return nr_vcpus_; }
    std::uint64_t dist_size() const;
    std::uint64_t redist_size() const;   // all redistributors; 0 for GICv2

private:
    using Access = RegAccess;
    // What one of our list registers was given at fill(), to judge what sync() sees.
    struct Presented {
        std::uint16_t intid;
        std::uint8_t source;   // GICv2 SGIs
        bool pending;
        bool active;
        bool took_latch;       // the pending latch moved into the LR (restore if still pending)
        bool keep_active;      // another vCPU set/cleared active meanwhile: the LR's view is stale
    };
    struct VcpuState {
        IrqState priv[kNrPrivate];
        Presented lrs[kMaxLrs];
        std::uint8_t nr_presented;
        bool filled;           // fill() ran and sync() has not yet
        bool overflowed;
        bool asleep;           // GICR_WAKER.ProcessorSleep
    };

    // ---- State (vgic.cpp); all with lock_ held -----------------------------
    IrqState* irq(unsigned bank, unsigned intid);
    const IrqState* irq(unsigned bank, unsigned intid) const;
    bool v2() const { return layout_.version == GicVersion::V2; }
    bool is_v2_sgi(unsigned intid) const { return v2() && intid < kNrSgis; }
    bool pending(const IrqState& q, unsigned intid) const;
    bool group_enabled() const;
    unsigned spi_route(const IrqState& q) const;
    unsigned route_irouter(std::uint64_t irouter) const;
    // The vCPU an interrupt belongs to right now: its bank for a private one; for an
    // SPI, the vCPU holding it active, else the routed one (kNoVcpu if none).
    unsigned owner(unsigned bank, unsigned intid) const;
    // The vCPU it should be signalled to now (owner, if pending+enabled and not active).
    unsigned signal_target(unsigned bank, unsigned intid) const;
    // Record a kick if a change made (bank, intid) newly deliverable somewhere.
    void settle(unsigned bank, unsigned intid, unsigned target_before);
    void kick_all_deliverable();
    bool deliverable_locked(unsigned vcpu) const;
    void set_latch(unsigned bank, unsigned intid);
    void pend_sgi(unsigned target, unsigned intid, unsigned source);
    Presented* presented(unsigned owner_vcpu, unsigned intid);
    void clear_pending(unsigned bank, unsigned intid);
    void set_active(unsigned bank, unsigned intid, bool active);
    std::uint32_t take_kicks();
    void send_kicks(std::uint32_t kicks);
    std::uint32_t valid_vcpu_mask() const { return (1u << nr_vcpus_) - 1; }

    // ---- List registers (vgic_lr.cpp) ----------------------------------------
    void sync_locked(unsigned vcpu, const ListReg* lrs, unsigned n);

    // ---- MMIO (vgic_mmio.cpp, vgic_v2_dist.cpp, vgic_v3_dist.cpp) -------------
    MmioResult access(unsigned vcpu, IpAddr addr, unsigned size, bool is_write, std::uint64_t& value);
    // The per-interrupt banks shared by GICD and the GICR SGI frame. INTIDs of
    // `bank` in [lo, hi) are reachable; others read as zero. matched = offset is in a bank.
    MmioResult irq_banks(Access& a, unsigned bank, unsigned lo, unsigned hi, bool& matched);
    MmioResult bit_bank(Access& a, std::uint32_t reg, unsigned bank, unsigned lo, unsigned hi);
    MmioResult byte_bank(Access& a, std::uint32_t reg, unsigned bank, unsigned lo, unsigned hi);
    MmioResult icfgr_bank(Access& a, unsigned bank, unsigned lo, unsigned hi);
    MmioResult id_regs(Access& a, std::uint32_t base) const;
    MmioResult dist_v2(Access& a);
    MmioResult dist_v3(Access& a);
    MmioResult redist_rd(Access& a, unsigned frame_vcpu);
    MmioResult redist_sgi(Access& a, unsigned frame_vcpu);
    MmioResult irouter(Access& a);
    MmioResult sgi_pend_v2(Access& a);
    void sgir_v2(unsigned src, std::uint32_t value);
    void write_ctlr(std::uint32_t value);

    Layout layout_{GicVersion::V3, IpAddr(0), IpAddr(0)};
    unsigned nr_vcpus_ = 0;
    Hooks* hooks_ = nullptr;
    std::uint32_t ctlr_ = 0;       // the stored GICD_CTLR enable bits
    std::uint32_t kicks_ = 0;      // vCPUs to kick once the lock is dropped
    VcpuState vcpus_[kMaxVcpus]{};
    IrqState spis_[kNrSpis]{};
    mutable Spinlock lock_;
};

} // namespace keel::vgic
