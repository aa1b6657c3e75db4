// The EVTCHNOP_* operations with Xen 4.17's semantics as a guest sees them
// (xen/common/event_channel.c): same checks in the same order, same errno, same
// out fields. Each takes the calling domain's id and the hypercall's own struct
// from <xen/event_channel.h>, in and out: on success the out fields are written
// and the others are left as the guest passed them (Xen copies the whole struct
// back); on error the struct is unchanged and must not be copied back.
//
// Permissions are those of Xen's dummy XSM policy: a domain acts on itself, the
// privileged (control) domain also on others. Debian's Xen defaults to the SILO
// policy, which additionally refuses domU<->domU channels; Keel does not.
//
// Locking: each domain's state is under its EventDomain lock; operations on two
// domains take both, in address order. A send holds only the sender's lock: the
// binding it follows cannot be cut without that lock, so the peer's port stays
// bound to us while we set its pending bit (with atomics, in the peer's shared
// memory). The host's upcall() is called after all locks are dropped. None of
// this may be entered from an interrupt taken while an operation runs on the
// same CPU (Keel's EL2 runs with interrupts masked).
#pragma once

#include "evtchn/event_domain.hpp"
#include "evtchn/event_host.hpp"

#include <keel/result.hpp>
#include <keel/strong.hpp>

#include <xen/event_channel.h>

namespace keel::evtchn {

class EventChannels {
public:
    explicit EventChannels(EventHost& host) : host_(host) {}

    // EVTCHNOP_alloc_unbound: a new port in `dom` (DOMID_SELF or an id; another
    // domain only for the privileged caller, else EPERM) that `remote_dom` may
    // bind to (DOMID_SELF means the caller). remote_dom is not checked.
    Status alloc_unbound(DomainId caller, evtchn_alloc_unbound& op);
    // EVTCHNOP_bind_interdomain: a new local port joined to remote_dom's
    // remote_port, which must be unbound and waiting for the caller (EINVAL). The
    // new local port is set pending, as events sent before the bind were dropped.
    Status bind_interdomain(DomainId caller, evtchn_bind_interdomain& op);
    // EVTCHNOP_bind_virq: EINVAL for virq >= NR_VIRQS or a global VIRQ on a vCPU
    // other than 0; ENOENT for a vCPU the domain lacks; EEXIST if already bound.
    Status bind_virq(DomainId caller, evtchn_bind_virq& op);
    // EVTCHNOP_bind_ipi: ENOENT for a vCPU the domain lacks.
    Status bind_ipi(DomainId caller, evtchn_bind_ipi& op);
    // EVTCHNOP_bind_pirq: EOPNOTSUPP, as on Arm (no CONFIG_HAS_PIRQ).
    Status bind_pirq(DomainId caller, evtchn_bind_pirq& op);
    // EVTCHNOP_close: EINVAL for a port that is not open. Closing an interdomain
    // port turns the peer's end back into unbound(remote = caller).
    Status close(DomainId caller, const evtchn_close& op);
    // EVTCHNOP_send: interdomain -> the peer's port; IPI -> own port; unbound ->
    // dropped, 0; anything else (VIRQ, closed, invalid) EINVAL.
    Status send(DomainId caller, const evtchn_send& op);
    // EVTCHNOP_status: the port's EVTCHNSTAT_* state and vCPU (dom may be
    // DOMID_SELF; another domain's only for the privileged caller).
    Status status(DomainId caller, evtchn_status& op);
    // EVTCHNOP_bind_vcpu: retarget an unbound, interdomain or global-VIRQ port's
    // upcall; ENOENT for a vCPU the domain lacks, EINVAL for other ports.
    Status bind_vcpu(DomainId caller, const evtchn_bind_vcpu& op);
    // EVTCHNOP_unmask: clear the mask bit and deliver a pending event. A closed
    // port's mask bit is left as it is; only an invalid port is EINVAL.
    Status unmask(DomainId caller, const evtchn_unmask& op);
    // EVTCHNOP_reset (resuming = false) and Xen's internal EVTCHNOP_reset_cont
    // (true): close every port of `dom`. Another domain's: EPERM unless
    // privileged, then EINVAL (Xen needs the target paused by its controller,
    // which Keel has no way to do). EBUSY while a reset of that domain runs, and
    // for reset_cont when none does.
    Status reset(DomainId caller, const evtchn_reset& op, bool resuming = false);
    // EVTCHNOP_set_priority: EINVAL for an invalid port, else ENOSYS (2-level
    // has no priorities).
    Status set_priority(DomainId caller, const evtchn_set_priority& op);

    // VCPUOP_register_vcpu_info, after the caller has checked the offset and the
    // vCPU's state and mapped the guest's page: deliver to `info` from now on.
    // `info` points into the domain's RAM and must stay mapped until
    // close_all_for_dead_domain (Xen holds a page reference for that).
    // EINVAL if the vCPU already has one. Carries the old contents over (or zeroes
    // if there were none), then marks every selector bit and the upcall flag, so
    // no event is lost in the move (the guest gets a spurious upcall).
    Status register_vcpu_info(DomainId dom, unsigned vcpu, VcpuInfo* info);

    // The hypervisor raises a VIRQ: a per-vCPU one on that vCPU's binding, a
    // global one on vCPU 0's binding, delivered to the port's vCPU (`vcpu` is
    // ignored). False if nothing is bound (the event is dropped, as in Xen).
    bool raise_virq(DomainId dom, unsigned virq, unsigned vcpu);

    // A domain is going away: no new ports from now on, and every port is closed
    // (highest first, as Xen's evtchn_destroy), each peer's end of an interdomain
    // channel becoming unbound(remote = the dead domain). Call it before the
    // domain's memory is released: until it returns, peers may still set bits in
    // its shared_info and registered vcpu_info pages; when it returns, the
    // EventDomain holds no pointer into them. Afterwards it may be init()ed for
    // a new domain.
    void close_all_for_dead_domain(EventDomain& dead);

private:
    // The domain `id` names, locked and checked to still be that domain.
    EventDomain* find(DomainId caller, domid_t id);
    Status close_port(EventDomain& d, evtchn_port_t port);
    void deliver(const Upcall& u);

    EventHost& host_;
};

// DOMID_SELF means the caller.
inline DomainId resolve_domid(DomainId caller, domid_t dom)
{
    return dom == DOMID_SELF ? caller : DomainId{dom};
}

} // namespace keel::evtchn
