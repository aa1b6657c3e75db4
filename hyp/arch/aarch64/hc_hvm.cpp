// HYPERVISOR_hvm_op: the HVM parameters an Arm guest reads (the event-channel
// callback, xenstore and console rings). A guest may read its own; setting them
// is the toolstack's business (EPERM, as Xen answers a domain about itself).
#include "hypercall_context.hpp"

#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>

namespace keel::arch {

long hc_hvm_op(HypercallContext& c, std::uint64_t cmd, IpAddr arg)
{
    if (cmd != HVMOP_get_param && cmd != HVMOP_set_param) return xen_err(Errno::XEN_ENOSYS);
    xen_hvm_param_t p;
    if (Status s = c.mem.read_obj(arg, p); !s) return s.as_xen_ret();
    if (p.domid != DOMID_SELF && p.domid != c.dom.id) return xen_err(Errno::XEN_ESRCH);
    if (p.index >= HVM_NR_PARAMS) return xen_err(Errno::XEN_EINVAL);
    if (cmd == HVMOP_set_param) return xen_err(Errno::XEN_EPERM);
    p.value = c.dom.hvm_params[p.index];
    return xen_ret(c.mem.write_obj(arg, p));
}

} // namespace keel::arch
