// HYPERVISOR_sched_op: yield, block, shutdown (own or, for dom0, another domain's).
#include "hypercall_context.hpp"
#include "scheduler.hpp"
#include "sysreg.hpp"

#include "evtchn/event_domain.hpp"

#include <xen/sched.h>

namespace keel::arch {

namespace {
// SCHEDOP_poll: return at once if one of the ports is pending, else block until an
// event arrives or the timeout (Xen system time, ns) passes. Xen's checks, in its order.
long poll(HypercallContext& c, IpAddr arg)
{
    constexpr unsigned kMaxPollPorts = 128;
    sched_poll_t p;
    if (Status st = c.mem.read_obj(arg, p); !st) return st.as_xen_ret();
    if (p.nr_ports > kMaxPollPorts) return xen_err(Errno::XEN_EINVAL);
    const evtchn::EventDomain& ev = c.dom.events;
    // Announce the poll before looking at the ports: an event set pending after our
    // look then finds `polling` set and kicks us (see DomainEvents::wake_pollers).
    __atomic_store_n(&c.vcpu.polling, true, __ATOMIC_SEQ_CST);
    for (unsigned i = 0; i < p.nr_ports; ++i) {
        evtchn_port_t port;
        Status st = c.mem.read_obj(IpAddr(p.ports.q + i * sizeof port), port);
        const long early = !st ? st.as_xen_ret() : port >= ev.valid_ports() ? xen_err(Errno::XEN_EINVAL)
                                                 : ev.port_pending(port)     ? 0
                                                                             : 1;
        if (early <= 0) {
            __atomic_store_n(&c.vcpu.polling, false, __ATOMIC_RELAXED);
            return early;
        }
    }
    std::uint64_t wake_at = 0;
    if (p.timeout != 0) {
        const std::uint64_t freq = sysreg::cntfrq_el0::read();
        wake_at = static_cast<std::uint64_t>(static_cast<unsigned __int128>(p.timeout) * freq / 1000000000u);
        if (wake_at <= sysreg::cntpct_el0::read()) {  // already past
            __atomic_store_n(&c.vcpu.polling, false, __ATOMIC_RELAXED);
            return 0;
        }
    }
    vcpu_block_until(c.cpu, c.vcpu, wake_at);
    return 0;
}

} // namespace

long hc_sched_op(HypercallContext& c, std::uint64_t cmd, IpAddr arg)
{
    switch (cmd) {
    case SCHEDOP_yield:
        c.cpu.slice_end = 0;
        return 0;
    case SCHEDOP_block:
        vcpu_block(c.cpu, c.vcpu);
        return 0;
    case SCHEDOP_shutdown: {
        sched_shutdown_t s;
        if (Status st = c.mem.read_obj(arg, s); !st) return st.as_xen_ret();
        if (s.reason > SHUTDOWN_MAX) return xen_err(Errno::XEN_EINVAL);
        domain_shutdown(c.dom, s.reason);
        return 0;
    }
    case SCHEDOP_poll: return poll(c, arg);
    case SCHEDOP_shutdown_code: {
        sched_shutdown_t s;
        if (Status st = c.mem.read_obj(arg, s); !st) return st.as_xen_ret();
        c.dom.shutdown_code = s.reason;
        return 0;
    }
    case SCHEDOP_remote_shutdown: {
        sched_remote_shutdown_t r;
        if (Status st = c.mem.read_obj(arg, r); !st) return st.as_xen_ret();
        Domain* target = domain_by_id(DomainId(r.domain_id), false);
        if (!target) return xen_err(Errno::XEN_ESRCH);
        if (!c.dom.privileged) return xen_err(Errno::XEN_EPERM);
        if (r.reason > SHUTDOWN_MAX) return xen_err(Errno::XEN_EINVAL);
        domain_shutdown(*target, r.reason);
        return 0;
    }
    default: return xen_err(Errno::XEN_ENOSYS);
    }
}

} // namespace keel::arch
