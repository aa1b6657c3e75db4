// hvm_op: get/set of the params an Arm guest uses.
#include "check.hpp"
#include "env.hpp"
#include "hypercall.hpp"

#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/xen.h>

namespace abi {
namespace {

long param(unsigned op, std::uint32_t index, std::uint64_t& value, domid_t dom = kDomidSelf)
{
    xen_hvm_param_t p{};
    p.domid = dom;
    p.index = index;
    p.value = value;
    const long r = hypercall(__HYPERVISOR_hvm_op, op, arg(&p));
    value = p.value;
    return r;
}

struct Param {
    std::uint32_t index;
    const char* name;
};

} // namespace

void check_hvm(Env& env)
{
    const char* area = "hvm_op";
    std::uint64_t v = 0;
    const long r = param(HVMOP_get_param, HVM_PARAM_CALLBACK_IRQ, v);
    check(area, "get CALLBACK_IRQ", "%s, type %lu (bits 63:56), irq is the DT's PPI %s", rc(r),
          static_cast<unsigned long>(v >> 56),
          yes_no((v & 0xff) == env.event_intid));
    static const Param kParams[] = {{HVM_PARAM_STORE_PFN, "STORE_PFN"}, {HVM_PARAM_STORE_EVTCHN, "STORE_EVTCHN"},
                                    {HVM_PARAM_CONSOLE_PFN, "CONSOLE_PFN"}, {HVM_PARAM_CONSOLE_EVTCHN, "CONSOLE_EVTCHN"}};
    for (Param p : kParams) {
        v = 0x5a5a;
        const long g = param(HVMOP_get_param, p.index, v);
        check(area, p.name, "get %s, 0x%lx", rc(g), static_cast<unsigned long>(v));
    }
    v = 0x1234;
    check(area, "set STORE_PFN", "%s", rc(param(HVMOP_set_param, HVM_PARAM_STORE_PFN, v)));
    v = 0;
    const long g = param(HVMOP_get_param, HVM_PARAM_STORE_PFN, v);
    check(area, "get STORE_PFN after set", "%s, 0x%lx", rc(g), static_cast<unsigned long>(v));
    v = 0;
    check(area, "set STORE_PFN back to 0", "%s", rc(param(HVMOP_set_param, HVM_PARAM_STORE_PFN, v)));
    check(area, "get index 1000", "%s", rc(param(HVMOP_get_param, 1000, v)));
    check(area, "get bad domid", "%s", rc(param(HVMOP_get_param, HVM_PARAM_STORE_PFN, v, kNoSuchDomain)));
    check(area, "get bad pointer", "%s", rc(hypercall(__HYPERVISOR_hvm_op, HVMOP_get_param, kBadPointer)));
    check(area, "unknown command 99", "%s", rc(hypercall(__HYPERVISOR_hvm_op, 99, arg(&v))));
}

} // namespace abi
