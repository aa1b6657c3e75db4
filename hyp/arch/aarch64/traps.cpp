// The trap dispatcher: every synchronous exit from a guest lands in
// keel_guest_sync, is decoded once by exception class, and ends in the
// scheduler, which returns the frame to enter next.
#include "console.hpp"
#include "domain.hpp"
#include "guest_psci.hpp"
#include "hcr_bits.hpp"
#include "hypercall.hpp"
#include "inject.hpp"
#include "irq.hpp"
#include "panic.hpp"
#include "scheduler.hpp"
#include "sysreg.hpp"
#include "trap_mmio.hpp"
#include "trap_sysreg.hpp"

#include <xen/sched.h>

namespace keel::arch {

namespace {
constexpr std::uint16_t kXenHypercallImm = 0xea1;

void handle_hvc(Vcpu& v, std::uint64_t esr_value)
{
    const std::uint16_t imm = esr_value & 0xffff;
    if (imm == 0) {
        guest_psci_call(v);
        return;
    }
    if (imm == kXenHypercallImm) {
        hypercall(v);
        return;
    }
    inject_undef(v);  // as Xen: an HVC immediate nobody defined
}

void handle_smc(Vcpu& v, std::uint64_t esr_value)
{
    // SMC traps before executing (ELR points at it): step over it first.
    skip_instruction(v, esr_value);
    if ((esr_value & 0xffff) == 0) guest_psci_call(v);
    else inject_undef(v);
}

void handle_guest_sync(Pcpu& p, Vcpu& v)
{
    const std::uint64_t esr_value = sysreg::esr_el2::read();
    switch (esr::ec_of(esr_value)) {
    case esr::Ec::WfiWfe:
        skip_instruction(v, esr_value);
        if ((esr_value & 1) == 0) vcpu_block(p, v);  // WFI; WFE just yields
        else p.slice_end = 0;
        break;
    case esr::Ec::Hvc64: handle_hvc(v, esr_value); break;
    case esr::Ec::Smc64: handle_smc(v, esr_value); break;
    case esr::Ec::SysReg64: trap_sysreg(v, esr_value); break;
    case esr::Ec::DataAbortLower: trap_data_abort(v, esr_value); break;
    case esr::Ec::InstAbortLower: inject_instruction_abort(v, sysreg::far_el2::read()); break;
    default:
        // Anything else that reaches EL2 is something Keel doesn't emulate.
        inject_undef(v);
        break;
    }
}
} // namespace

} // namespace keel::arch

using namespace keel::arch;

extern "C" GuestFrame* keel_guest_sync(GuestFrame*)
{
    Pcpu& p = this_cpu();
    guest_exit(p);
    handle_guest_sync(p, *p.current);
    return schedule(p);
}

extern "C" GuestFrame* keel_guest_irq(GuestFrame*)
{
    Pcpu& p = this_cpu();
    guest_exit(p);
    handle_physical_irqs(p);
    return schedule(p);
}

extern "C" GuestFrame* keel_guest_serror(GuestFrame*)
{
    Pcpu& p = this_cpu();
    guest_exit(p);
    Vcpu& v = *p.current;
    printk("d%u v%u: SError (ESR_EL2 %lx) - domain crashed\n", v.domain->id, v.id, sysreg::esr_el2::read());
    domain_shutdown(*v.domain, SHUTDOWN_crash);
    return schedule(p);
}

extern "C" GuestFrame* keel_guest_aarch32(GuestFrame*)
{
    Pcpu& p = this_cpu();
    guest_exit(p);
    Vcpu& v = *p.current;
    printk("d%u v%u: exception from AArch32 state - domain crashed\n", v.domain->id, v.id);
    domain_shutdown(*v.domain, SHUTDOWN_crash);
    return schedule(p);
}
