#include "console_input.hpp"

#include "console.hpp"
#include "domain.hpp"

#include "evtchn/event_channels.hpp"

#include <xen/xen.h>

namespace keel::arch {

evtchn::EventChannels& event_channels();

namespace {
unsigned focus = 0;        // index into domains[]
unsigned ctrl_a_count = 0;

Domain* focused()
{
    for (unsigned k = 0; k < kMaxDomains; ++k) {
        Domain& d = domains[(focus + k) % kMaxDomains];
        if (d.state == DomainState::Running && (d.has_vpl011 || d.privileged)) {
            focus = (focus + k) % kMaxDomains;
            return &d;
        }
    }
    return nullptr;
}

// Ctrl-A then 'd': print every vCPU's state (where each guest is, what it waits for).
void dump_vcpus()
{
    for (const Domain& d : domains) {
        if (d.state == DomainState::Free) continue;
        for (unsigned i = 0; i < d.nr_vcpus; ++i) {
            const Vcpu& v = d.vcpus[i];
            static const char* const states[] = {"offline", "runnable", "running", "blocked"};
            printk("d%u v%u on cpu%u: %s pc %lx spsr %lx wake_at %lx cntv_ctl %lx cval %lx deliverable %d\n", d.id,
                   v.id, v.pcpu, states[unsigned(v.sched.state) & 3], v.frame.elr, v.frame.spsr, v.sched.wake_at,
                   v.el1.cntv_ctl, v.el1.cntv_cval, int(const_cast<Domain&>(d).vgic.has_deliverable(v.id)));
        }
    }
}

bool ctrl_a_then_d = false;
} // namespace

void console_input_poll()
{
    for (int c; (c = console_getc()) >= 0;) {
        if (ctrl_a_then_d) {
            ctrl_a_then_d = false;
            if (c == 'd') {
                dump_vcpus();
                ctrl_a_count = 0;
                continue;
            }
        }
        if (c == 0x01) ctrl_a_then_d = true;
        if (c == 0x01 && ++ctrl_a_count == 3) {
            ctrl_a_count = 0;
            focus = (focus + 1) % kMaxDomains;
            if (Domain* d = focused()) printk("console input to d%u (%s)\n", d->id, d->name);
            continue;
        }
        if (c != 0x01) ctrl_a_count = 0;
        Domain* d = focused();
        if (!d) continue;
        // A control domain whose console is hvc0 (it bound VIRQ_CONSOLE) reads through
        // CONSOLEIO_read, as on Xen; everyone else through the emulated UART.
        if (d->privileged && d->events.virq_port(0, VIRQ_CONSOLE) != 0) {
            {
                LockGuard g(d->console_in.lock);
                auto& in = d->console_in;
                if (in.count < in.kSize) in.buf[(in.head + in.count++) % in.kSize] = static_cast<char>(c);
            }
            event_channels().raise_virq(DomainId(d->id), VIRQ_CONSOLE, 0);
        } else if (d->has_vpl011) {
            d->vpl011.push_rx(static_cast<char>(c));
            d->vgic.set_level(0, guest_layout::kVpl011Intid, d->vpl011.irq_level());
        }
    }
}

} // namespace keel::arch
