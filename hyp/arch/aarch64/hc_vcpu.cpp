// HYPERVISOR_vcpu_op on Arm: only the two registrations Linux needs. As on
// Xen, the vCPU is checked first (ENOENT), and every other command is EINVAL.
#include "hypercall_context.hpp"

#include <xen/vcpu.h>

namespace keel::arch {

long hc_vcpu_op(HypercallContext& c, std::uint64_t cmd, std::uint64_t vcpuid, IpAddr arg)
{
    if (vcpuid >= c.dom.nr_vcpus) return xen_err(Errno::XEN_ENOENT);
    Vcpu& target = c.dom.vcpus[vcpuid];
    switch (cmd) {
    case VCPUOP_register_vcpu_info: {
        vcpu_register_vcpu_info_t info;
        if (Status s = c.mem.read_obj(arg, info); !s) return s.as_xen_ret();
        return vcpu_register_vcpu_info(c.dom, target, info.mfn, info.offset);
    }
    case VCPUOP_register_runstate_memory_area: {
        vcpu_register_runstate_memory_area_t area;
        if (Status s = c.mem.read_obj(arg, area); !s) return s.as_xen_ret();
        target.runstate_va = area.addr.p;
        vcpu_update_runstate(target, c.mem);
        return 0;
    }
    default: return xen_err(Errno::XEN_EINVAL);
    }
}

} // namespace keel::arch
