// HYPERVISOR_sched_op: yield, block, shutdown (own or, for dom0, another domain's).
#include "hypercall_context.hpp"
#include "scheduler.hpp"

#include <xen/sched.h>

namespace keel::arch {

namespace {
const char* const kReasons[] = {"poweroff", "reboot", "suspend", "crash", "watchdog", "soft_reset"};

Domain* find_domain(std::uint16_t id)
{
    for (Domain& d : domains)
        if (d.state == DomainState::Running && d.id == id) return &d;
    return nullptr;
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
        domain_shutdown(c.dom, kReasons[s.reason]);
        return 0;
    }
    case SCHEDOP_shutdown_code: {
        sched_shutdown_t s;
        if (Status st = c.mem.read_obj(arg, s); !st) return st.as_xen_ret();
        c.dom.shutdown_code = s.reason;
        return 0;
    }
    case SCHEDOP_remote_shutdown: {
        sched_remote_shutdown_t r;
        if (Status st = c.mem.read_obj(arg, r); !st) return st.as_xen_ret();
        Domain* target = find_domain(r.domain_id);
        if (!target) return xen_err(Errno::XEN_ESRCH);
        if (!c.dom.privileged) return xen_err(Errno::XEN_EPERM);
        if (r.reason > SHUTDOWN_MAX) return xen_err(Errno::XEN_EINVAL);
        domain_shutdown(*target, kReasons[r.reason]);
        return 0;
    }
    default: return xen_err(Errno::XEN_ENOSYS);
    }
}

} // namespace keel::arch
