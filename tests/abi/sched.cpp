// sched_op: yield, poll, block, shutdown_code, remote_shutdown and the error
// paths of shutdown (its success path ends the run, in main).
#include "check.hpp"
#include "env.hpp"
#include "gic.hpp"
#include "hypercall.hpp"
#include "xen_layout.h"

#include <xen/event_channel.h>
#include <xen/sched.h>
#include <xen/xen.h>

namespace abi {
namespace {

long sched_op(unsigned cmd, void* a) { return hypercall(__HYPERVISOR_sched_op, cmd, arg(a)); }

long poll(evtchn_port_t* ports, unsigned count, std::uint64_t timeout)
{
    sched_poll_t p{};
    set_xen_guest_handle(p.ports, ports);
    p.nr_ports = count;
    p.timeout = timeout;
    return sched_op(SCHEDOP_poll, &p);
}

} // namespace

void check_sched(Env& env)
{
    const char* area = "sched_op";
    check(area, "yield", "%s", rc(sched_op(SCHEDOP_yield, nullptr)));

    // A loopback channel to poll on.
    evtchn_alloc_unbound_t a{kDomidSelf, 0, 0};
    hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound, arg(&a));
    evtchn_bind_interdomain_t b{kDomidSelf, a.port, 0};
    hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_interdomain, arg(&b));
    evtchn_port_t port = b.local_port;

    abi_clear_all_pending(env.shared_info);
    evtchn_send_t s{a.port};
    hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_send, arg(&s));
    check(area, "poll a pending port", "%s", rc(poll(&port, 1, 0)));
    abi_clear_all_pending(env.shared_info);
    check(area, "poll idle port, timeout already past", "%s", rc(poll(&port, 1, 1)));
    evtchn_port_t bad = 100000;
    check(area, "poll bad port", "%s", rc(poll(&bad, 1, 1)));
    check(area, "poll 129 ports", "%s", rc(poll(&port, 129, 1)));
    check(area, "poll bad port list", "%s", rc(poll(reinterpret_cast<evtchn_port_t*>(kBadPointer), 1, 1)));
    check(area, "poll bad pointer", "%s", rc(hypercall(__HYPERVISOR_sched_op, SCHEDOP_poll, kBadPointer)));

    // block returns at once when an event is pending and IRQs are unmasked
    // at the PE; the GIC's group 1 is off so the interrupt is not taken.
    if (env.gic_ready) {
        gic::set_group1(false);
        gic::drain();
        hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_send, arg(&s));
        asm volatile("msr daifclr, #2" ::: "memory");
        const long r = sched_op(SCHEDOP_block, nullptr);
        asm volatile("msr daifset, #2" ::: "memory");
        check(area, "block with an event pending", "%s", rc(r));
        gic::set_group1(true);
        gic::drain();
        abi_clear_all_pending(env.shared_info);
    }

    sched_shutdown_t code{SHUTDOWN_poweroff};
    check(area, "shutdown_code poweroff", "%s", rc(sched_op(SCHEDOP_shutdown_code, &code)));
    check(area, "shutdown bad pointer", "%s", rc(hypercall(__HYPERVISOR_sched_op, SCHEDOP_shutdown, kBadPointer)));
    sched_remote_shutdown_t remote{kNoSuchDomain, SHUTDOWN_poweroff};
    check(area, "remote_shutdown bad domid", "%s", rc(sched_op(SCHEDOP_remote_shutdown, &remote)));
    check(area, "remote_shutdown bad pointer", "%s",
          rc(hypercall(__HYPERVISOR_sched_op, SCHEDOP_remote_shutdown, kBadPointer)));
    check(area, "unknown command 99", "%s", rc(sched_op(99, nullptr)));

    evtchn_reset_t reset{kDomidSelf};
    hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_reset, arg(&reset));
}

} // namespace abi
