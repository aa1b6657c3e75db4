// The Xen hypercall dispatcher: one switch on the number, each case a call into
// the handler for that family (hc_*.cpp). Unknown numbers and sub-ops answer
// -ENOSYS, as Xen does. Handlers reach guest memory only through its stage-2.
#include "hypercall.hpp"

#include "hypercall_context.hpp"

#include "xen/version_info.hpp"

#include <xen/xen.h>

namespace keel::arch {

namespace {
constexpr unsigned kMaxMulticallEntries = 64;  // per call; Xen preempts longer batches, Keel refuses them

long multicall(HypercallContext& c, IpAddr list, std::uint64_t nr)
{
    if (nr > kMaxMulticallEntries) return xen_err(Errno::XEN_EINVAL);
    for (std::uint64_t i = 0; i < nr; ++i) {
        const IpAddr at = list + i * sizeof(multicall_entry_t);
        multicall_entry_t e;
        if (Status s = c.mem.read_obj(at, e); !s) return s.as_xen_ret();
        const std::uint64_t args[5] = {e.args[0], e.args[1], e.args[2], e.args[3], e.args[4]};
        e.result = static_cast<xen_ulong_t>(do_hypercall(c, e.op, args, true));
        if (Status s = c.mem.write_obj(at, e); !s) return s.as_xen_ret();
    }
    return 0;
}
} // namespace

long do_hypercall(HypercallContext& c, std::uint64_t nr, const std::uint64_t (&a)[5], bool in_multicall)
{
    switch (nr) {
    case __HYPERVISOR_xen_version: {
        xen::VersionCaller caller{c.dom.privileged, {}};
        for (unsigned i = 0; i < 16; ++i) caller.handle[i] = c.dom.handle[i];
        return xen::xen_version(static_cast<unsigned>(a[0]), IpAddr(a[1]), caller, c.mem);
    }
    case __HYPERVISOR_console_io: return hc_console_io(c, a[0], a[1], IpAddr(a[2]));
    case __HYPERVISOR_sched_op: return hc_sched_op(c, a[0], IpAddr(a[1]));
    case __HYPERVISOR_vcpu_op: return hc_vcpu_op(c, a[0], a[1], IpAddr(a[2]));
    case __HYPERVISOR_hvm_op: return hc_hvm_op(c, a[0], IpAddr(a[1]));
    case __HYPERVISOR_memory_op: return hc_memory_op(c, a[0], IpAddr(a[1]));
    case __HYPERVISOR_event_channel_op: return hc_event_channel_op(c, a[0], IpAddr(a[1]));
    case __HYPERVISOR_grant_table_op: return hc_grant_table_op(c, a[0], IpAddr(a[1]), a[2]);
    case __HYPERVISOR_domctl: return hc_domctl(c, IpAddr(a[0]));
    case __HYPERVISOR_vm_assist:
        // Arm offers one assist: the runstate "update in progress" flag Linux asks for.
        if (a[0] != VMASST_CMD_enable && a[0] != VMASST_CMD_disable) return xen_err(Errno::XEN_ENOSYS);
        if (a[1] != VMASST_TYPE_runstate_update_flag) return xen_err(Errno::XEN_EINVAL);
        return 0;
    case __HYPERVISOR_multicall:
        if (in_multicall) return xen_err(Errno::XEN_EINVAL);  // no nesting, as on Xen
        return multicall(c, IpAddr(a[0]), a[1]);
    default: return xen_err(Errno::XEN_ENOSYS);  // physdev_op included: Arm has no PIRQs
    }
}

void hypercall(Vcpu& v)
{
    CurrentGuestMemory mem;
    HypercallContext c{this_cpu(), v, *v.domain, mem};
    const std::uint64_t args[5] = {v.frame.x[0], v.frame.x[1], v.frame.x[2], v.frame.x[3], v.frame.x[4]};
    v.frame.x[0] = static_cast<std::uint64_t>(do_hypercall(c, v.frame.x[16], args, false));
}

} // namespace keel::arch
