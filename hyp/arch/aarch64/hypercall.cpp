// The Xen hypercall dispatcher: one switch on the number, each case a call into
// the handler for that hypercall family. Unknown numbers and sub-ops answer
// -ENOSYS, as Xen does. Handlers read guest memory only through its stage-2.
#include "hypercall.hpp"

#include "console.hpp"
#include "domain.hpp"
#include "pcpu.hpp"
#include "scheduler.hpp"
#include "stage2_guest_memory.hpp"
#include "sysreg.hpp"

#include "xen/version_info.hpp"

#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/memory.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include <xen/xen.h>

namespace keel::arch {

namespace {
constexpr long err(Errno e) { return -static_cast<long>(e); }

long console_io(Domain& d, xen::GuestMemory& mem, std::uint64_t cmd, std::uint64_t count, IpAddr buf)
{
    switch (cmd) {
    case CONSOLEIO_write: {
        char chunk[128];
        for (std::uint64_t done = 0; done < count;) {
            const std::uint64_t n = count - done < sizeof chunk ? count - done : sizeof chunk;
            if (Status s = mem.read(buf + done, chunk, n); !s) return s.as_xen_ret();
            for (std::uint64_t i = 0; i < n; ++i) d.console_io_line.put(chunk[i], &d);
            done += n;
        }
        return 0;
    }
    case CONSOLEIO_read:
        if (!d.privileged) return err(Errno::XEN_EPERM);
        return 0;  // input goes to the focused domain's vpl011; nothing queued here
    default: return err(Errno::XEN_ENOSYS);
    }
}

long sched_op(Pcpu& p, Vcpu& v, xen::GuestMemory& mem, std::uint64_t cmd, IpAddr arg)
{
    Domain& d = *v.domain;
    switch (cmd) {
    case SCHEDOP_yield:
        p.slice_end = 0;
        return 0;
    case SCHEDOP_block:
        // Xen unmasks the vCPU's event upcall here; Keel's waits are on the vGIC.
        vcpu_block(p, v);
        return 0;
    case SCHEDOP_shutdown: {
        sched_shutdown_t s;
        if (Status st = mem.read_obj(arg, s); !st) return st.as_xen_ret();
        static const char* const reasons[] = {"poweroff", "reboot", "suspend", "crash", "watchdog", "soft_reset"};
        if (s.reason > SHUTDOWN_MAX) return err(Errno::XEN_EINVAL);
        domain_shutdown(d, reasons[s.reason]);
        return 0;
    }
    default: return err(Errno::XEN_ENOSYS);
    }
}

long vcpu_op(Domain& d, std::uint64_t cmd, std::uint64_t vcpuid)
{
    if (vcpuid >= d.nr_vcpus) return err(Errno::XEN_ENOENT);
    switch (cmd) {
    case VCPUOP_is_up: return d.vcpus[vcpuid].sched.state != sched::State::Offline ? 1 : 0;
    default: return err(Errno::XEN_ENOSYS);
    }
}

long hvm_op(Domain& d, xen::GuestMemory& mem, std::uint64_t cmd, IpAddr arg)
{
    if (cmd != HVMOP_get_param && cmd != HVMOP_set_param) return err(Errno::XEN_ENOSYS);
    xen_hvm_param_t p;
    if (Status s = mem.read_obj(arg, p); !s) return s.as_xen_ret();
    if (p.domid != DOMID_SELF && p.domid != d.id) return err(Errno::XEN_EPERM);
    if (p.index >= HVM_NR_PARAMS || p.index >= sizeof d.hvm_params / sizeof d.hvm_params[0]) return err(Errno::XEN_EINVAL);
    if (cmd == HVMOP_set_param) {
        d.hvm_params[p.index] = p.value;
        return 0;
    }
    p.value = d.hvm_params[p.index];
    return mem.write_obj(arg, p).as_xen_ret();
}

long memory_op(Domain& d, std::uint64_t cmd, IpAddr arg, xen::GuestMemory& mem)
{
    switch (cmd) {
    case XENMEM_current_reservation:
    case XENMEM_maximum_reservation: {
        domid_t dom;
        if (Status s = mem.read_obj(arg, dom); !s) return s.as_xen_ret();
        if (dom != DOMID_SELF && dom != d.id) return err(Errno::XEN_ESRCH);
        return static_cast<long>(d.ram_size / kPageSize);
    }
    case XENMEM_add_to_physmap: {
        xen_add_to_physmap_t x;
        if (Status s = mem.read_obj(arg, x); !s) return s.as_xen_ret();
        if (x.domid != DOMID_SELF && x.domid != d.id) return err(Errno::XEN_ESRCH);
        switch (x.space) {
        case XENMAPSPACE_shared_info:
            if (x.idx != 0) return err(Errno::XEN_EINVAL);
            return domain_map_page(d, x.gpfn, d.shared_info, &d.shared_info_gfn).as_xen_ret();
        default: return err(Errno::XEN_ENOSYS);
        }
    }
    default: return err(Errno::XEN_ENOSYS);
    }
}
} // namespace

void hypercall(Vcpu& v)
{
    Pcpu& p = this_cpu();
    Domain& d = *v.domain;
    Stage2GuestMemory mem(d);
    const std::uint64_t nr = v.frame.x[16];
    const std::uint64_t* a = v.frame.x;
    long r;
    switch (nr) {
    case __HYPERVISOR_xen_version: {
        xen::VersionCaller caller{d.privileged, {}};
        for (unsigned i = 0; i < 16; ++i) caller.handle[i] = d.handle[i];
        r = xen::xen_version(static_cast<unsigned>(a[0]), IpAddr(a[1]), caller, mem);
        break;
    }
    case __HYPERVISOR_console_io: r = console_io(d, mem, a[0], a[1], IpAddr(a[2])); break;
    case __HYPERVISOR_sched_op: r = sched_op(p, v, mem, a[0], IpAddr(a[1])); break;
    case __HYPERVISOR_vcpu_op: r = vcpu_op(d, a[0], a[1]); break;
    case __HYPERVISOR_hvm_op: r = hvm_op(d, mem, a[0], IpAddr(a[1])); break;
    case __HYPERVISOR_memory_op: r = memory_op(d, a[0], IpAddr(a[1]), mem); break;
    default: r = err(Errno::XEN_ENOSYS); break;
    }
    v.frame.x[0] = static_cast<std::uint64_t>(r);
}

} // namespace keel::arch
