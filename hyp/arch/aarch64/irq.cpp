// Physical interrupts reach the hypervisor only: the scheduler's tick, kicks
// between CPUs, and the running guest's virtual timer, which becomes a
// virtual interrupt for that guest.
#include "irq.hpp"

#include "console.hpp"
#include "console_input.hpp"
#include "domain.hpp"
#include "gic.hpp"
#include "scheduler.hpp"
#include "sysreg.hpp"

namespace keel::arch {

namespace {
constexpr std::uint64_t kCntvCtlImask = 1u << 1;
unsigned console_intid = 0;

// The guest's timer condition is met. Mask it at the timer (the guest unmasks it
// when it reprograms) and hand the guest its PPI; physically it is done.
void virtual_timer_fired(Pcpu& p)
{
    Vcpu* v = p.current;
    if (!v) return;
    sysreg::cntv_ctl_el0::write(sysreg::cntv_ctl_el0::read() | kCntvCtlImask);
    isb();
    v->domain->vgic.inject_edge(v->id, kPpiVirtTimer);
}
} // namespace

void set_console_intid(unsigned intid) { console_intid = intid; }

void handle_physical_irqs(Pcpu& p)
{
    PhysGic& g = gic();
    for (;;) {
        const unsigned id = g.ack();
        if (id >= kIntidSpurious) break;
        switch (id) {
        case kSgiKick: break;         // the caller re-runs the scheduler
        case kPpiMaintenance: break;  // likewise: it refills the list registers
        case kPpiHypTimer: scheduler_tick(p); break;
        case kPpiVirtTimer: virtual_timer_fired(p); break;
        default:
            if (id == console_intid && id != 0) console_input_poll();
            else printk("unexpected physical interrupt %u\n", id);
            break;
        }
        g.eoi(id);
    }
}

} // namespace keel::arch
