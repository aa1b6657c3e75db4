// physdev_op (Arm has no PIRQs for guests to manage) and multicall.
#include "check.hpp"
#include "env.hpp"
#include "hypercall.hpp"

#include <xen/physdev.h>
#include <xen/sched.h>
#include <xen/version.h>
#include <xen/xen.h>

namespace abi {

void check_physdev_and_multicall(Env&)
{
    const char* area = "physdev_op";
    physdev_eoi_t eoi{1};
    check(area, "eoi", "%s", rc(hypercall(__HYPERVISOR_physdev_op, PHYSDEVOP_eoi, arg(&eoi))));
    physdev_map_pirq_t mp{};
    mp.domid = kDomidSelf;
    check(area, "map_pirq", "%s", rc(hypercall(__HYPERVISOR_physdev_op, PHYSDEVOP_map_pirq, arg(&mp))));

    area = "multicall";
    multicall_entry_t calls[4] = {};
    calls[0].op = __HYPERVISOR_xen_version;
    calls[0].args[0] = XENVER_version;
    calls[1].op = __HYPERVISOR_sched_op;
    calls[1].args[0] = SCHEDOP_yield;
    calls[2].op = 63;  // no such hypercall
    calls[3].op = __HYPERVISOR_multicall;  // nested
    for (auto& c : calls) c.result = 0x77;
    const long r = hypercall(__HYPERVISOR_multicall, arg(calls), 4);
    check(area, "4 entries", "%s", rc(r));
    check(area, "entry xen_version", "%s", calls[0].result == 0x40011 ? "4.17" : rc(static_cast<long>(calls[0].result)));
    check(area, "entry sched_op yield", "%s", rc(static_cast<long>(calls[1].result)));
    check(area, "entry unknown hypercall 63", "%s", rc(static_cast<long>(calls[2].result)));
    check(area, "entry nested multicall", "%s", rc(static_cast<long>(calls[3].result)));
    check(area, "0 entries", "%s", rc(hypercall(__HYPERVISOR_multicall, arg(calls), 0)));
    check(area, "bad pointer", "%s", rc(hypercall(__HYPERVISOR_multicall, kBadPointer, 1)));
    check(area, "unknown hypercall 63", "%s", rc(hypercall(63)));
}

} // namespace abi
