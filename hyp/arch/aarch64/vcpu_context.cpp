#include "vcpu_context.hpp"

#include "domain.hpp"
#include "hcr_bits.hpp"
#include "sysreg.hpp"

extern "C" void keel_fpsimd_save(keel::arch::FpState*);
extern "C" void keel_fpsimd_load(const keel::arch::FpState*);

namespace keel::arch {

namespace {
constexpr std::uint64_t kSctlrEl1Reset = 0x30d00800;   // RES1 bits, MMU and caches off
constexpr std::uint64_t kCntvCtlImask = 1u << 1;
// Stage-2: 39-bit IPA, start at level 1, 4 KiB granule, WB inner shareable walks, 40-bit PA.
constexpr std::uint64_t kVtcr = (1ull << 31) | (2ull << 16) | (3ull << 12) | (1ull << 10) | (1ull << 8) | (1ull << 6) | 25;
} // namespace

void el2_configure_traps()
{
    using namespace hcr;
    sysreg::hcr_el2::write(VM | SWIO | FMO | IMO | AMO | FB | BSU_IS | TWI | TWE | TSC | TIDCP | TACR | TSW | RW);
    sysreg::vtcr_el2::write(kVtcr);
    sysreg::cptr_el2::write(0x33ff);  // RES1 bits only: FP/SIMD not trapped (switched eagerly)
    // Guests see the physical counter (EL1PCTEN) but not the physical timer (EL1PCEN=0).
    sysreg::cnthctl_el2::write(1u << 0);
    // Performance counters: the guest may use all of them (HPMN = PMCR_EL0.N).
    sysreg::mdcr_el2::write((sysreg::pmcr_el0::read() >> 11) & 0x1f);
    sysreg::vpidr_el2::write(sysreg::midr_el1::read());
    isb();
}

void vcpu_reset(Vcpu& v, std::uint64_t entry, std::uint64_t x0)
{
    v.frame = {};
    v.frame.x[0] = x0;
    v.frame.elr = entry;
    v.frame.spsr = spsr::kDaif | spsr::kModeEl1h;
    v.el1 = {};
    v.el1.sctlr = kSctlrEl1Reset;
    v.fp = {};
    v.gic = {};
}

void vcpu_save(Vcpu& v)
{
    using namespace sysreg;
    El1Context& c = v.el1;
    c.sctlr = sctlr_el1::read();
    c.ttbr0 = ttbr0_el1::read();
    c.ttbr1 = ttbr1_el1::read();
    c.tcr = tcr_el1::read();
    c.mair = mair_el1::read();
    c.amair = amair_el1::read();
    c.vbar = vbar_el1::read();
    c.contextidr = contextidr_el1::read();
    c.tpidr_el0 = tpidr_el0::read();
    c.tpidrro_el0 = tpidrro_el0::read();
    c.tpidr_el1 = tpidr_el1::read();
    c.sp_el0 = sp_el0::read();
    c.sp_el1 = sp_el1::read();
    c.elr_el1 = elr_el1::read();
    c.spsr_el1 = spsr_el1::read();
    c.esr = esr_el1::read();
    c.far = far_el1::read();
    c.afsr0 = afsr0_el1::read();
    c.afsr1 = afsr1_el1::read();
    c.par = par_el1::read();
    c.cpacr = cpacr_el1::read();
    c.csselr = csselr_el1::read();
    c.cntkctl = cntkctl_el1::read();
    c.mdscr = mdscr_el1::read();
    // The timer: stop it so a switched-out guest's deadline cannot fire on this CPU;
    // the scheduler wakes a blocked vCPU at its deadline instead.
    c.cntv_ctl = cntv_ctl_el0::read();
    c.cntv_cval = cntv_cval_el0::read();
    cntv_ctl_el0::write(0);
    keel_fpsimd_save(&v.fp);
    gic().save_cpu_state(v.gic);
}

void vcpu_load(Vcpu& v)
{
    using namespace sysreg;
    const Domain& d = *v.domain;
    vttbr_el2::write(d.vttbr());
    vmpidr_el2::write((1ull << 31) | v.id);
    cntvoff_el2::write(d.cntvoff);
    const El1Context& c = v.el1;
    sctlr_el1::write(c.sctlr);
    ttbr0_el1::write(c.ttbr0);
    ttbr1_el1::write(c.ttbr1);
    tcr_el1::write(c.tcr);
    mair_el1::write(c.mair);
    amair_el1::write(c.amair);
    vbar_el1::write(c.vbar);
    contextidr_el1::write(c.contextidr);
    tpidr_el0::write(c.tpidr_el0);
    tpidrro_el0::write(c.tpidrro_el0);
    tpidr_el1::write(c.tpidr_el1);
    sp_el0::write(c.sp_el0);
    sp_el1::write(c.sp_el1);
    elr_el1::write(c.elr_el1);
    spsr_el1::write(c.spsr_el1);
    esr_el1::write(c.esr);
    far_el1::write(c.far);
    afsr0_el1::write(c.afsr0);
    afsr1_el1::write(c.afsr1);
    par_el1::write(c.par);
    cpacr_el1::write(c.cpacr);
    csselr_el1::write(c.csselr);
    cntkctl_el1::write(c.cntkctl);
    mdscr_el1::write(c.mdscr);
    cntv_cval_el0::write(c.cntv_cval);
    cntv_ctl_el0::write(c.cntv_ctl);
    keel_fpsimd_load(&v.fp);
    gic().load_cpu_state(v.gic);
    isb();
}

// The virtual timer's deadline in physical counter ticks, or 0 if it cannot fire.
std::uint64_t vtimer_deadline(const Vcpu& v)
{
    const std::uint64_t ctl = v.el1.cntv_ctl;
    if ((ctl & 1) == 0 || (ctl & kCntvCtlImask)) return 0;
    return v.el1.cntv_cval + v.domain->cntvoff;
}

} // namespace keel::arch
