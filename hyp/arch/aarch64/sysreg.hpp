// Typed access to AArch64 system registers: `sysreg::hcr_el2::read()` and
// `::write(v)`. Every MRS/MSR in the hypervisor's C++ goes through here, so the
// set of registers Keel touches is greppable in one place.
#pragma once

#include <cstdint>

namespace keel::arch {

#define KEEL_SYSREG(name)                                                         \
    struct name {                                                                 \
        static inline std::uint64_t read()                                        \
        {                                                                         \
            std::uint64_t v;                                                      \
            asm volatile("mrs %0, " #name : "=r"(v));                             \
            return v;                                                             \
        }                                                                         \
        static inline void write(std::uint64_t v) { asm volatile("msr " #name ", %0" ::"r"(v)); } \
    };

namespace sysreg {
// EL2 control
KEEL_SYSREG(hcr_el2)
KEEL_SYSREG(vttbr_el2)
KEEL_SYSREG(vtcr_el2)
KEEL_SYSREG(vmpidr_el2)
KEEL_SYSREG(vpidr_el2)
KEEL_SYSREG(cptr_el2)
KEEL_SYSREG(mdcr_el2)
KEEL_SYSREG(esr_el2)
KEEL_SYSREG(far_el2)
KEEL_SYSREG(hpfar_el2)
KEEL_SYSREG(elr_el2)
KEEL_SYSREG(spsr_el2)
KEEL_SYSREG(tpidr_el2)
KEEL_SYSREG(sctlr_el2)
KEEL_SYSREG(cnthctl_el2)
KEEL_SYSREG(cntvoff_el2)
KEEL_SYSREG(cnthp_ctl_el2)
KEEL_SYSREG(cnthp_cval_el2)
// Identification
KEEL_SYSREG(mpidr_el1)
KEEL_SYSREG(midr_el1)
KEEL_SYSREG(cntfrq_el0)
KEEL_SYSREG(cntpct_el0)
KEEL_SYSREG(pmcr_el0)
// Guest EL1/EL0 state switched per vCPU
KEEL_SYSREG(sctlr_el1)
KEEL_SYSREG(ttbr0_el1)
KEEL_SYSREG(ttbr1_el1)
KEEL_SYSREG(tcr_el1)
KEEL_SYSREG(mair_el1)
KEEL_SYSREG(amair_el1)
KEEL_SYSREG(vbar_el1)
KEEL_SYSREG(contextidr_el1)
KEEL_SYSREG(tpidr_el0)
KEEL_SYSREG(tpidrro_el0)
KEEL_SYSREG(tpidr_el1)
KEEL_SYSREG(sp_el0)
KEEL_SYSREG(sp_el1)
KEEL_SYSREG(elr_el1)
KEEL_SYSREG(spsr_el1)
KEEL_SYSREG(esr_el1)
KEEL_SYSREG(far_el1)
KEEL_SYSREG(afsr0_el1)
KEEL_SYSREG(afsr1_el1)
KEEL_SYSREG(par_el1)
KEEL_SYSREG(cpacr_el1)
KEEL_SYSREG(csselr_el1)
KEEL_SYSREG(cntkctl_el1)
KEEL_SYSREG(mdscr_el1)
KEEL_SYSREG(cntv_ctl_el0)
KEEL_SYSREG(cntv_cval_el0)
// GICv3 CPU interface (EL2 view) and virtualization control
KEEL_SYSREG(icc_sre_el2)
KEEL_SYSREG(icc_sre_el1)
KEEL_SYSREG(icc_pmr_el1)
KEEL_SYSREG(icc_igrpen1_el1)
KEEL_SYSREG(icc_ctlr_el1)
KEEL_SYSREG(icc_iar1_el1)
KEEL_SYSREG(icc_eoir1_el1)
KEEL_SYSREG(icc_sgi1r_el1)
KEEL_SYSREG(ich_hcr_el2)
KEEL_SYSREG(ich_vtr_el2)
KEEL_SYSREG(ich_vmcr_el2)
KEEL_SYSREG(ich_ap0r0_el2)
KEEL_SYSREG(ich_ap1r0_el2)
} // namespace sysreg

#undef KEEL_SYSREG

inline void isb() { asm volatile("isb" ::: "memory"); }
inline void dsb_sy() { asm volatile("dsb sy" ::: "memory"); }
inline void dsb_ish() { asm volatile("dsb ish" ::: "memory"); }
inline void dsb_ishst() { asm volatile("dsb ishst" ::: "memory"); }
inline void wfi() { asm volatile("wfi" ::: "memory"); }

// ICH_LR<n>_EL2 need the register number in the instruction: a switch keeps it in one place.
std::uint64_t read_ich_lr(unsigned n);
void write_ich_lr(unsigned n, std::uint64_t v);

} // namespace keel::arch
