#include "evtchn/event_channel_op.hpp"

namespace keel::evtchn {

namespace {

long ret(Status s) { return s.ok() ? 0 : s.as_xen_ret(); }

constexpr long kEfault = -static_cast<long>(Errno::XEN_EFAULT);

// An operation with out fields: copy in, run, copy the whole struct back on success.
template <typename Op, typename Fn>
long in_out(xen::GuestMemory& mem, IpAddr arg, Fn&& run)
{
    Op op;
    if (!mem.read_obj(arg, op).ok()) return kEfault;
    const Status s = run(op);
    if (!s.ok()) return ret(s);
    return mem.write_obj(arg, op).ok() ? 0 : kEfault;
}

// An operation with nothing to return but its status.
template <typename Op, typename Fn>
long in_only(xen::GuestMemory& mem, IpAddr arg, Fn&& run)
{
    Op op;
    if (!mem.read_obj(arg, op).ok()) return kEfault;
    return ret(run(static_cast<const Op&>(op)));
}

} // namespace

long event_channel_op(EventChannels& ec, DomainId caller, unsigned cmd, IpAddr arg, xen::GuestMemory& mem)
{
    switch (cmd) {
    case EVTCHNOP_alloc_unbound:
        return in_out<evtchn_alloc_unbound>(mem, arg, [&](evtchn_alloc_unbound& op) { return ec.alloc_unbound(caller, op); });
    case EVTCHNOP_bind_interdomain:
        return in_out<evtchn_bind_interdomain>(mem, arg, [&](evtchn_bind_interdomain& op) { return ec.bind_interdomain(caller, op); });
    case EVTCHNOP_bind_virq:
        return in_out<evtchn_bind_virq>(mem, arg, [&](evtchn_bind_virq& op) { return ec.bind_virq(caller, op); });
    case EVTCHNOP_bind_ipi:
        return in_out<evtchn_bind_ipi>(mem, arg, [&](evtchn_bind_ipi& op) { return ec.bind_ipi(caller, op); });
    case EVTCHNOP_bind_pirq:
        return in_out<evtchn_bind_pirq>(mem, arg, [&](evtchn_bind_pirq& op) { return ec.bind_pirq(caller, op); });
    case EVTCHNOP_status:
        return in_out<evtchn_status>(mem, arg, [&](evtchn_status& op) { return ec.status(caller, op); });
    case EVTCHNOP_close:
        return in_only<evtchn_close>(mem, arg, [&](const evtchn_close& op) { return ec.close(caller, op); });
    case EVTCHNOP_send:
        return in_only<evtchn_send>(mem, arg, [&](const evtchn_send& op) { return ec.send(caller, op); });
    case EVTCHNOP_bind_vcpu:
        return in_only<evtchn_bind_vcpu>(mem, arg, [&](const evtchn_bind_vcpu& op) { return ec.bind_vcpu(caller, op); });
    case EVTCHNOP_unmask:
        return in_only<evtchn_unmask>(mem, arg, [&](const evtchn_unmask& op) { return ec.unmask(caller, op); });
    case EVTCHNOP_set_priority:
        return in_only<evtchn_set_priority>(mem, arg, [&](const evtchn_set_priority& op) { return ec.set_priority(caller, op); });
    case EVTCHNOP_reset:
    case kEvtchnopResetCont:
        return in_only<evtchn_reset>(mem, arg, [&](const evtchn_reset& op) { return ec.reset(caller, op, cmd == kEvtchnopResetCont); });
    default:
        // Includes EVTCHNOP_init_control and EVTCHNOP_expand_array: no FIFO ABI.
        return -static_cast<long>(Errno::XEN_ENOSYS);
    }
}

} // namespace keel::evtchn
