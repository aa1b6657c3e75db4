// event_channel_op on the 2-level ABI, within dom0 itself (an interdomain
// channel from dom0 to dom0 is a loopback), and the upcall on the DT's PPI.
#include "check.hpp"
#include "env.hpp"
#include "gic.hpp"
#include "hypercall.hpp"
#include "xen_layout.h"

#include <xen/event_channel.h>
#include <xen/xen.h>

namespace abi {
namespace {

long evtchn_op(unsigned cmd, void* a) { return hypercall(__HYPERVISOR_event_channel_op, cmd, arg(a)); }

constexpr evtchn_port_t kBadPort = 100000;

long alloc_unbound(evtchn_port_t& port, domid_t remote = 0, domid_t dom = kDomidSelf)
{
    evtchn_alloc_unbound_t a{dom, remote, 0};
    const long r = evtchn_op(EVTCHNOP_alloc_unbound, &a);
    port = a.port;
    return r;
}

long bind_interdomain(evtchn_port_t remote_port, evtchn_port_t& local, domid_t remote = kDomidSelf)
{
    evtchn_bind_interdomain_t b{remote, remote_port, 0};
    const long r = evtchn_op(EVTCHNOP_bind_interdomain, &b);
    local = b.local_port;
    return r;
}

long bind_virq(std::uint32_t virq, std::uint32_t vcpu, evtchn_port_t& port)
{
    evtchn_bind_virq_t b{virq, vcpu, 0};
    const long r = evtchn_op(EVTCHNOP_bind_virq, &b);
    port = b.port;
    return r;
}

long bind_ipi(std::uint32_t vcpu, evtchn_port_t& port)
{
    evtchn_bind_ipi_t b{vcpu, 0};
    const long r = evtchn_op(EVTCHNOP_bind_ipi, &b);
    port = b.port;
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

long unmask(evtchn_port_t port)
{
    evtchn_unmask_t u{port};
    return evtchn_op(EVTCHNOP_unmask, &u);
}

long bind_vcpu(evtchn_port_t port, std::uint32_t vcpu)
{
    evtchn_bind_vcpu_t b{port, vcpu};
    return evtchn_op(EVTCHNOP_bind_vcpu, &b);
}

const char* status_name(std::uint32_t s)
{
    static const char* const names[] = {"closed", "unbound", "interdomain", "pirq", "virq", "ipi"};
    return s < 6 ? names[s] : "?";
}

long status(evtchn_port_t port, evtchn_status_t& st, domid_t dom = kDomidSelf)
{
    st = {};
    st.dom = dom;
    st.port = port;
    return evtchn_op(EVTCHNOP_status, &st);
}

// "ok, <state>" for a status query.
const char* state_of(evtchn_port_t port)
{
    static char text[2][48];
    static unsigned n = 0;
    char* out = text[n++ % 2];
    evtchn_status_t st;
    const long r = status(port, st);
    if (r != 0) return rc(r);
    const char* s = status_name(st.status);
    unsigned i = 0;
    for (const char* p = "ok, "; *p; ++p) out[i++] = *p;
    for (const char* p = s; *p && i < sizeof text[0] - 1; ++p) out[i++] = *p;
    out[i] = '\0';
    return out;
}

} // namespace

void check_event_channels(Env& env)
{
    const char* area = "evtchn";
    void* si = env.shared_info;
    void* vcpu0 = abi_shared_vcpu_info(si, 0);

    // alloc_unbound / bind_interdomain: a loopback channel a <-> b.
    evtchn_port_t a = 0, b = 0, scratch = 0;
    check(area, "alloc_unbound for dom0", "%s, port != 0 %s", rc(alloc_unbound(a)), yes_no(a != 0));
    check(area, "new port masked", "%s", yes_no(abi_port_masked(si, a)));
    check(area, "new port pending", "%s", yes_no(abi_port_pending(si, a)));
    evtchn_status_t st;
    check(area, "status of unbound port", "%s", state_of(a));
    status(a, st);
    check(area, "status: unbound remote dom", "%u", st.u.unbound.dom);
    check(area, "status: vcpu", "%u", st.vcpu);
    check(area, "alloc_unbound remote bad domid", "%s", rc(alloc_unbound(scratch, kNoSuchDomain)));
    check(area, "alloc_unbound dom bad domid", "%s", rc(alloc_unbound(scratch, 0, kNoSuchDomain)));
    check(area, "alloc_unbound bad pointer", "%s",
          rc(hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound, kBadPointer)));
    check(area, "send on unbound port", "%s", rc(send(a)));

    check(area, "bind_interdomain to it", "%s, other port %s", rc(bind_interdomain(a, b)), yes_no(b != a && b != 0));
    check(area, "status of both ends", "%s / %s", state_of(a), state_of(b));
    status(a, st);
    check(area, "status: remote port is the other end", "%s", yes_no(st.u.interdomain.port == b));
    check(area, "bind_interdomain to a bound port", "%s", rc(bind_interdomain(a, scratch)));
    check(area, "bind_interdomain bad port", "%s", rc(bind_interdomain(kBadPort, scratch)));
    check(area, "bind_interdomain bad domid", "%s", rc(bind_interdomain(a, scratch, kNoSuchDomain)));

    abi_clear_all_pending(si);
    check(area, "send a -> b", "%s", rc(send(a)));
    check(area, "b pending, a not", "%s, %s", yes_no(abi_port_pending(si, b)), yes_no(abi_port_pending(si, a)));
    check(area, "pending_sel bit of b", "%s", yes_no((abi_vcpu_pending_sel(vcpu0) >> (b / 64)) & 1));
    check(area, "upcall_pending", "%u", abi_vcpu_upcall_pending(vcpu0));
    abi_clear_all_pending(si);
    abi_port_set_mask(si, a);
    check(area, "send b -> a while a is masked", "%s", rc(send(b)));
    check(area, "a pending, pending_sel, upcall_pending", "%s, %s, %u", yes_no(abi_port_pending(si, a)),
          yes_no((abi_vcpu_pending_sel(vcpu0) >> (a / 64)) & 1), abi_vcpu_upcall_pending(vcpu0));
    check(area, "unmask a", "%s, masked %s", rc(unmask(a)), yes_no(abi_port_masked(si, a)));
    check(area, "after unmask: pending_sel, upcall_pending", "%s, %u",
          yes_no((abi_vcpu_pending_sel(vcpu0) >> (a / 64)) & 1), abi_vcpu_upcall_pending(vcpu0));
    check(area, "unmask bad port", "%s", rc(unmask(kBadPort)));
    check(area, "send bad port", "%s", rc(send(kBadPort)));
    check(area, "send port 0", "%s", rc(send(0)));

    // VIRQs and IPIs.
    evtchn_port_t virq = 0, ipi = 0;
    check(area, "bind_virq DEBUG vcpu 0", "%s, port != 0 %s", rc(bind_virq(VIRQ_DEBUG, 0, virq)), yes_no(virq != 0));
    check(area, "status of virq port", "%s", state_of(virq));
    check(area, "bind_virq DEBUG again", "%s", rc(bind_virq(VIRQ_DEBUG, 0, scratch)));
    check(area, "bind_virq 99", "%s", rc(bind_virq(99, 0, scratch)));
    check(area, "bind_virq vcpu 99", "%s", rc(bind_virq(VIRQ_TIMER, 99, scratch)));
    check(area, "bind_ipi vcpu 0", "%s, port != 0 %s", rc(bind_ipi(0, ipi)), yes_no(ipi != 0));
    check(area, "status of ipi port", "%s", state_of(ipi));
    check(area, "bind_ipi vcpu 99", "%s", rc(bind_ipi(99, scratch)));

    // bind_vcpu: which kinds of port may move.
    check(area, "bind_vcpu interdomain port to vcpu 0", "%s", rc(bind_vcpu(b, 0)));
    check(area, "bind_vcpu virq DEBUG port to vcpu 0", "%s", rc(bind_vcpu(virq, 0)));
    check(area, "bind_vcpu ipi port to vcpu 0", "%s", rc(bind_vcpu(ipi, 0)));
    check(area, "bind_vcpu to vcpu 99", "%s", rc(bind_vcpu(b, 99)));
    check(area, "bind_vcpu bad port", "%s", rc(bind_vcpu(kBadPort, 0)));

    // The upcall: an IPI to ourselves raises the DT's PPI.
    if (env.gic_ready) {
        abi_clear_all_pending(si);
        gic::drain();
        check(area, "unmask ipi port", "%s", rc(unmask(ipi)));
        check(area, "send ipi", "%s", rc(send(ipi)));
        const unsigned intid = gic::wait_and_ack(1000000);
        check(area, "upcall arrives on the DT's PPI", "%s", yes_no(intid == env.event_intid));
        check(area, "upcall: port pending, pending_sel, upcall_pending", "%s, %s, %u",
              yes_no(abi_port_pending(si, ipi)), yes_no((abi_vcpu_pending_sel(vcpu0) >> (ipi / 64)) & 1),
              abi_vcpu_upcall_pending(vcpu0));
        if (intid < 1020) gic::end_of_interrupt(intid);
        // A second send while upcall_pending is still 1: no new interrupt.
        abi_port_clear_pending(si, ipi);
        check(area, "send ipi again, upcall_pending still set", "%s", rc(send(ipi)));
        const unsigned again = gic::wait_and_ack(100000);
        check(area, "no second upcall while upcall_pending is set", "%s", yes_no(again >= 1020));
        if (again < 1020) gic::end_of_interrupt(again);
        abi_clear_all_pending(si);
    } else {
        check(area, "upcall arrives on the DT's PPI", "skipped (no GICv3)");
    }

    // close.
    check(area, "close interdomain end b", "%s", rc(close(b)));
    check(area, "status of a after b closed", "%s", state_of(a));
    check(area, "close b again", "%s", rc(close(b)));
    check(area, "close bad port", "%s", rc(close(kBadPort)));
    check(area, "close port 0", "%s", rc(close(0)));
    check(area, "status bad port", "%s", rc(status(kBadPort, st)));
    check(area, "status bad domid", "%s", rc(status(a, st, kNoSuchDomain)));
    check(area, "status of a closed port", "%s", state_of(b));
    check(area, "close virq port", "%s", rc(close(virq)));
    check(area, "bind_virq DEBUG after close", "%s", rc(bind_virq(VIRQ_DEBUG, 0, virq)));

    // reset closes everything.
    evtchn_reset_t reset{kDomidSelf};
    check(area, "reset", "%s", rc(evtchn_op(EVTCHNOP_reset, &reset)));
    check(area, "status after reset (a, ipi, virq)", "%s / %s / %s", state_of(a), state_of(ipi), state_of(virq));
    evtchn_reset_t bad_reset{kNoSuchDomain};
    check(area, "reset bad domid", "%s", rc(evtchn_op(EVTCHNOP_reset, &bad_reset)));
    check(area, "unknown command 99", "%s", rc(evtchn_op(99, &reset)));
}

} // namespace abi
