#include "xen_calls.hpp"

#include "xen_names.hpp"

#include "hypercall.hpp"  // tests/abi: the SDK's HVC #0xEA1 stub

#include <xen/memory.h>
#include <xen/sched.h>
#include <xen/version.h>

namespace pingpong {
namespace {

using abi::arg;
using abi::hypercall;

long evtchn_op(unsigned cmd, void* a) { return hypercall(__HYPERVISOR_event_channel_op, cmd, arg(a)); }
long gnttab_op(unsigned cmd, void* a) { return hypercall(__HYPERVISOR_grant_table_op, cmd, arg(a), 1); }

long add_to_physmap(unsigned space, std::uint64_t idx, std::uint64_t gfn)
{
    xen_add_to_physmap_t a{};
    a.domid = kDomidSelf;
    a.space = space;
    a.idx = idx;
    a.gpfn = gfn;
    return hypercall(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, arg(&a));
}

// A failed grant op may leave the status untouched: start from a value no
// hypervisor writes, so "the call itself failed" shows as the call's errno.
std::int16_t status_or_rc(std::int16_t status, long r)
{
    return r < 0 ? static_cast<std::int16_t>(r) : status;
}

} // namespace

long xen_version() { return hypercall(__HYPERVISOR_xen_version, XENVER_version, 0); }

long map_shared_info(void* page) { return add_to_physmap(XENMAPSPACE_shared_info, 0, gfn_of(page)); }
long map_grant_frame(std::uint64_t gfn) { return add_to_physmap(XENMAPSPACE_grant_table, 0, gfn); }

long alloc_unbound(domid_t remote, evtchn_port_t& port)
{
    evtchn_alloc_unbound_t a{kDomidSelf, remote, 0};
    const long r = evtchn_op(EVTCHNOP_alloc_unbound, &a);
    port = a.port;
    return r;
}

long bind_interdomain(domid_t remote, evtchn_port_t remote_port, evtchn_port_t& local)
{
    evtchn_bind_interdomain_t b{remote, remote_port, 0};
    const long r = evtchn_op(EVTCHNOP_bind_interdomain, &b);
    local = b.local_port;
    return r;
}

long send(evtchn_port_t port)
{
    evtchn_send_t s{port};
    return evtchn_op(EVTCHNOP_send, &s);
}

long close(evtchn_port_t port)
{
    evtchn_close_t c{port};
    return evtchn_op(EVTCHNOP_close, &c);
}

long poll(evtchn_port_t port)
{
    sched_poll_t p{};
    set_xen_guest_handle(p.ports, &port);
    p.nr_ports = 1;
    p.timeout = 0;  // none: the runner's time limit catches a lost wake-up
    return hypercall(__HYPERVISOR_sched_op, SCHEDOP_poll, arg(&p));
}

long yield() { return hypercall(__HYPERVISOR_sched_op, SCHEDOP_yield, 0); }

long shutdown_poweroff()
{
    sched_shutdown_t s{SHUTDOWN_poweroff};
    return hypercall(__HYPERVISOR_sched_op, SCHEDOP_shutdown, arg(&s));
}

Mapping map_grant(domid_t granter, grant_ref_t ref, std::uint64_t host_addr, bool readonly)
{
    gnttab_map_grant_ref_t m{};
    m.host_addr = host_addr;
    m.flags = GNTMAP_host_map | (readonly ? GNTMAP_readonly : 0);
    m.ref = ref;
    m.dom = granter;
    m.status = 1;
    const long r = gnttab_op(GNTTABOP_map_grant_ref, &m);
    return {status_or_rc(m.status, r), m.handle};
}

std::int16_t unmap_grant(std::uint64_t host_addr, grant_handle_t handle)
{
    gnttab_unmap_grant_ref_t u{};
    u.host_addr = host_addr;
    u.handle = handle;
    u.status = 1;
    const long r = gnttab_op(GNTTABOP_unmap_grant_ref, &u);
    return status_or_rc(u.status, r);
}

std::int16_t copy_to_grant(const void* src, domid_t granter, grant_ref_t ref, std::uint16_t offset,
                           std::uint16_t len)
{
    gnttab_copy_t c{};
    c.source.u.gmfn = gfn_of(src);
    c.source.domid = kDomidSelf;
    c.source.offset = static_cast<std::uint16_t>(reinterpret_cast<std::uintptr_t>(src) % kPage);
    c.dest.u.ref = ref;
    c.dest.domid = granter;
    c.dest.offset = offset;
    c.len = len;
    c.flags = GNTCOPY_dest_gref;
    c.status = 1;
    const long r = gnttab_op(GNTTABOP_copy, &c);
    return status_or_rc(c.status, r);
}

std::int16_t copy_from_grant(domid_t granter, grant_ref_t ref, std::uint16_t offset, void* dst,
                             std::uint16_t len)
{
    gnttab_copy_t c{};
    c.source.u.ref = ref;
    c.source.domid = granter;
    c.source.offset = offset;
    c.dest.u.gmfn = gfn_of(dst);
    c.dest.domid = kDomidSelf;
    c.dest.offset = static_cast<std::uint16_t>(reinterpret_cast<std::uintptr_t>(dst) % kPage);
    c.len = len;
    c.flags = GNTCOPY_source_gref;
    c.status = 1;
    const long r = gnttab_op(GNTTABOP_copy, &c);
    return status_or_rc(c.status, r);
}

const char* rc_name(long value) { return abi::rc(value); }

const char* gntst_name(std::int16_t status)
{
    // status_or_rc's "the call failed": the errnos grant ops answer with are all past -13.
    if (status < -13) return abi::rc(status);
    return abi::gntst(status);
}

} // namespace pingpong
