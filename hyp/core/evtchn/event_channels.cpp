#include "evtchn/event_channels.hpp"

#include "evtchn/guest_atomics.hpp"
#include "evtchn/two_level.hpp"

#include <cstdint>

namespace keel::evtchn {

namespace {

// One or two domain locks, taken in address order so two CPUs locking the same
// pair never deadlock; the same lock twice is taken once.
class PairLock {
public:
    PairLock(Spinlock& a, Spinlock& b)
    {
        const bool a_first = reinterpret_cast<std::uintptr_t>(&a) <= reinterpret_cast<std::uintptr_t>(&b);
        first_ = a_first ? &a : &b;
        second_ = (&a == &b) ? nullptr : (a_first ? &b : &a);
        first_->lock();
        if (second_) second_->lock();
    }
    ~PairLock()
    {
        if (second_) second_->unlock();
        first_->unlock();
    }
    PairLock(const PairLock&) = delete;
    PairLock& operator=(const PairLock&) = delete;

private:
    Spinlock* first_;
    Spinlock* second_;
};

constexpr Err kEinval{Errno::XEN_EINVAL};
constexpr Err kEsrch{Errno::XEN_ESRCH};

} // namespace

void EventChannels::deliver(const Upcall& u)
{
    if (u.wake_pollers) host_.wake_pollers(u.dom);
    if (u.needed) host_.upcall(u.dom, u.vcpu);
}

Status EventChannels::alloc_unbound(DomainId caller, evtchn_alloc_unbound& op)
{
    const DomainId target = resolve_domid(caller, op.dom);
    EventDomain* d = host_.lookup(target);
    if (!d) return kEsrch;
    const bool permitted = target == caller || host_.is_privileged(caller);
    LockGuard g(d->lock_);
    if (!d->is(target)) return kEsrch;
    auto port = d->alloc_port();
    if (!port) return Err(port.error());
    // Xen asks XSM only once it has found the port (a full target answers ENOSPC first).
    // Debian's Xen 4.17 (XSM SILO) then refuses a remote domain that does not exist:
    // ESRCH, measured by tests/abi. The port found is simply not used.
    if (host_.lookup(resolve_domid(caller, op.remote_dom)) == nullptr) {
        d->free_port(port.value());
        return kEsrch;
    }
    if (!permitted) {
        d->free_port(port.value());
        return Err(Errno::XEN_EPERM);
    }
    Channel& c = d->ports_[port.value()];
    c.state = ChannelState::Unbound;
    c.remote_dom = resolve_domid(caller, op.remote_dom);
    op.port = port.value();
    return {};
}

Status EventChannels::bind_interdomain(DomainId caller, evtchn_bind_interdomain& op)
{
    const DomainId rid = resolve_domid(caller, op.remote_dom);
    EventDomain* rd = host_.lookup(rid);
    EventDomain* ld = host_.lookup(caller);
    if (!rd || !ld) return kEsrch;
    Upcall u;
    {
        PairLock g(ld->lock_, rd->lock_);
        if (!ld->is(caller) || !rd->is(rid)) return kEsrch;
        auto lport = ld->alloc_port();
        if (!lport) return Err(lport.error());
        const evtchn_port_t rport = op.remote_port;
        if (!rd->valid(rport)) return kEinval;
        Channel& r = rd->ports_[rport];
        if (r.state != ChannelState::Unbound || r.remote_dom != caller) return kEinval;

        Channel& l = ld->ports_[lport.value()];
        l.state = ChannelState::Interdomain;
        l.peer = rd;
        l.remote_dom = rid;
        l.remote_port = rport;
        r.state = ChannelState::Interdomain;
        r.peer = ld;
        r.remote_dom = caller;
        r.remote_port = lport.value();
        // The remote end may have been sent to while unbound (those are dropped):
        // tell the binder to look at the channel once.
        u = ld->set_pending(lport.value(), ld->notify_vcpu(l));
        op.local_port = lport.value();
    }
    deliver(u);
    return {};
}

Status EventChannels::bind_virq(DomainId caller, evtchn_bind_virq& op)
{
    EventDomain* d = host_.lookup(caller);
    if (!d) return kEsrch;
    const unsigned virq = op.virq, vcpu = op.vcpu;
    if (virq >= kNrVirqs) return kEinval;
    if (virq_is_global(virq) && vcpu != 0) return kEinval;
    LockGuard g(d->lock_);
    if (!d->is(caller)) return kEsrch;
    if (vcpu >= d->nr_vcpus_) return Err(Errno::XEN_ENOENT);
    if (d->virq_to_port_[vcpu][virq] != 0) return Err(Errno::XEN_EEXIST);
    auto port = d->alloc_port();
    if (!port) return Err(port.error());
    Channel& c = d->ports_[port.value()];
    c.state = ChannelState::Virq;
    c.virq = static_cast<std::uint8_t>(virq);
    d->set_notify_vcpu(c, vcpu);
    d->virq_to_port_[vcpu][virq] = port.value();
    op.port = port.value();
    return {};
}

Status EventChannels::bind_ipi(DomainId caller, evtchn_bind_ipi& op)
{
    EventDomain* d = host_.lookup(caller);
    if (!d) return kEsrch;
    LockGuard g(d->lock_);
    if (!d->is(caller)) return kEsrch;
    if (op.vcpu >= d->nr_vcpus_) return Err(Errno::XEN_ENOENT);
    auto port = d->alloc_port();
    if (!port) return Err(port.error());
    Channel& c = d->ports_[port.value()];
    c.state = ChannelState::Ipi;
    d->set_notify_vcpu(c, op.vcpu);
    op.port = port.value();
    return {};
}

Status EventChannels::bind_pirq(DomainId, evtchn_bind_pirq&)
{
    return Err(Errno::XEN_EOPNOTSUPP);
}

Status EventChannels::close(DomainId caller, const evtchn_close& op)
{
    EventDomain* d = host_.lookup(caller);
    if (!d) return kEsrch;
    return close_port(*d, op.port);
}

Status EventChannels::close_port(EventDomain& d1, evtchn_port_t port)
{
    // An interdomain close needs the peer's lock too. We learn the peer under
    // our lock, drop it, take both in order and look again, as Xen does.
    EventDomain* d2 = nullptr;
    for (;;) {
        PairLock g(d1.lock_, d2 ? d2->lock_ : d1.lock_);
        if (!d1.live_ || !d1.valid(port)) return kEinval;
        Channel& c = d1.ports_[port];
        switch (c.state) {
        case ChannelState::Free:
        case ChannelState::Reserved: return kEinval;
        case ChannelState::Unbound:
        case ChannelState::Ipi: break;
        case ChannelState::Virq: {
            // A global VIRQ is recorded on vCPU 0 wherever bind_vcpu sent it.
            const unsigned v = virq_is_global(c.virq) ? 0 : d1.notify_vcpu(c);
            d1.virq_to_port_[v][c.virq] = 0;
            break;
        }
        case ChannelState::Interdomain: {
            if (!d2) {
                d2 = c.peer;
                if (d2 != &d1) continue;  // relock with the peer and look again
            } else if (c.peer != d2) {
                // Closed and re-bound elsewhere while we had let go: Xen answers
                // as if it had found the port closed, which it was for a while.
                return kEinval;
            }
            // The peer's end waits for us again; it keeps its vCPU and any pending event.
            Channel& r = d2->ports_[c.remote_port];
            r.state = ChannelState::Unbound;
            r.remote_dom = d1.id_;
            r.peer = nullptr;
            r.remote_port = 0;
            break;
        }
        }
        d1.free_port(port);
        return {};
    }
}

Status EventChannels::send(DomainId caller, const evtchn_send& op)
{
    EventDomain* ld = host_.lookup(caller);
    if (!ld) return kEsrch;
    Upcall u;
    {
        LockGuard g(ld->lock_);
        if (!ld->live_ || !ld->valid(op.port)) return kEinval;
        const Channel& c = ld->ports_[op.port];
        switch (c.state) {
        case ChannelState::Interdomain: {
            // Only our lock is held. The peer's port cannot be closed or re-bound
            // without it, so it is still joined to us; the peer may retarget its
            // vCPU meanwhile, which is why notify_vcpu is atomic.
            EventDomain& rd = *c.peer;
            u = rd.set_pending(c.remote_port, rd.notify_vcpu(rd.ports_[c.remote_port]));
            break;
        }
        case ChannelState::Ipi: u = ld->set_pending(op.port, ld->notify_vcpu(c)); break;
        case ChannelState::Unbound: break;  // nobody to tell yet: dropped, and that is success
        default: return kEinval;
        }
    }
    deliver(u);
    return {};
}

Status EventChannels::status(DomainId caller, evtchn_status& op)
{
    const DomainId target = resolve_domid(caller, op.dom);
    EventDomain* d = host_.lookup(target);
    if (!d) return kEsrch;
    const bool permitted = target == caller || host_.is_privileged(caller);
    LockGuard g(d->lock_);
    if (!d->is(target)) return kEsrch;
    if (!d->valid(op.port)) return kEinval;
    if (!permitted) return Err(Errno::XEN_EPERM);
    const Channel& c = d->ports_[op.port];
    switch (c.state) {
    case ChannelState::Free:
    case ChannelState::Reserved: op.status = EVTCHNSTAT_closed; break;
    case ChannelState::Unbound:
        op.status = EVTCHNSTAT_unbound;
        op.u.unbound.dom = c.remote_dom.raw();
        break;
    case ChannelState::Interdomain:
        op.status = EVTCHNSTAT_interdomain;
        op.u.interdomain.dom = c.remote_dom.raw();
        op.u.interdomain.port = c.remote_port;
        break;
    case ChannelState::Virq:
        op.status = EVTCHNSTAT_virq;
        op.u.virq = c.virq;
        break;
    case ChannelState::Ipi: op.status = EVTCHNSTAT_ipi; break;
    }
    op.vcpu = d->notify_vcpu(c);
    return {};
}

Status EventChannels::bind_vcpu(DomainId caller, const evtchn_bind_vcpu& op)
{
    EventDomain* d = host_.lookup(caller);
    if (!d) return kEsrch;
    LockGuard g(d->lock_);
    if (!d->is(caller)) return kEsrch;
    if (op.vcpu >= d->nr_vcpus_) return Err(Errno::XEN_ENOENT);
    if (!d->valid(op.port)) return kEinval;
    Channel& c = d->ports_[op.port];
    switch (c.state) {
    case ChannelState::Virq:
        // A per-vCPU VIRQ belongs to its vCPU.
        if (!virq_is_global(c.virq)) return kEinval;
        break;
    case ChannelState::Unbound:
    case ChannelState::Interdomain: break;
    default: return kEinval;  // IPIs are bound to their vCPU by definition
    }
    // Pending events stay where they are: 2-level state is per port, not per vCPU.
    d->set_notify_vcpu(c, op.vcpu);
    return {};
}

Status EventChannels::unmask(DomainId caller, const evtchn_unmask& op)
{
    EventDomain* d = host_.lookup(caller);
    if (!d) return kEsrch;
    Upcall u;
    {
        LockGuard g(d->lock_);
        if (!d->live_ || !d->valid(op.port)) return kEinval;
        u = d->unmask(op.port);
    }
    deliver(u);
    return {};
}

Status EventChannels::reset(DomainId caller, const evtchn_reset& op, bool resuming)
{
    const DomainId target = resolve_domid(caller, op.dom);
    EventDomain* d = host_.lookup(target);
    if (!d) return kEsrch;
    if (target != caller && !host_.is_privileged(caller)) return Err(Errno::XEN_EPERM);
    // Xen resets another domain only while its controller has it paused.
    if (target != caller) return kEinval;

    evtchn_port_t next;
    {
        LockGuard g(d->lock_);
        if (!d->is(target)) return kEsrch;
        // One reset at a time: a second one (or a reset_cont with none running) is EBUSY.
        next = resuming ? d->reset_next_ : (d->reset_next_ ? 0 : 1);
        if (next > d->reset_next_) d->reset_next_ = next;
        if (next == 0) return Err(Errno::XEN_EBUSY);
    }
    for (;; ++next) {
        {
            LockGuard g(d->lock_);
            if (!d->valid(next)) break;
        }
        (void)close_port(*d, next);  // closed ports answer EINVAL; Xen ignores it too
    }
    LockGuard g(d->lock_);
    d->reset_next_ = 0;
    // Another vCPU of the domain opened ports while we closed them.
    for (evtchn_port_t p = 1; p < d->valid_; ++p)
        if (d->ports_[p].state > ChannelState::Reserved) return Err(Errno::XEN_EAGAIN);
    return {};
}

Status EventChannels::set_priority(DomainId caller, const evtchn_set_priority& op)
{
    EventDomain* d = host_.lookup(caller);
    if (!d) return kEsrch;
    LockGuard g(d->lock_);
    if (!d->live_ || !d->valid(op.port)) return kEinval;
    return Err(Errno::XEN_ENOSYS);
}

Status EventChannels::register_vcpu_info(DomainId dom, unsigned vcpu, VcpuInfo* info)
{
    EventDomain* d = host_.lookup(dom);
    if (!d) return kEsrch;
    if (!info) return kEinval;
    Upcall u;
    {
        LockGuard g(d->lock_);
        if (!d->is(dom)) return kEsrch;
        if (vcpu >= d->nr_vcpus_) return Err(Errno::XEN_ENOENT);
        if (d->vcpu_info_registered_[vcpu]) return kEinval;
        VcpuInfo* old = d->vcpu_info(vcpu);
        if (old == &d->placeholder_[vcpu])
            guest::zero_vcpu_info(info);
        else
            guest::copy_vcpu_info(info, old);
        // Senders read the pointer without our lock: publish the copied contents with it.
        __atomic_store_n(&d->vcpu_info_[vcpu], info, __ATOMIC_RELEASE);
        d->vcpu_info_registered_[vcpu] = true;
        // A sender that read the old pointer may have just set a selector bit
        // there: claim every word instead, so the guest rescans them all.
        guest::store_word(&info->evtchn_pending_sel, ~XenUlong{0});
        if (two_level::mark_events_pending(*info)) u = Upcall{true, dom, vcpu};
    }
    deliver(u);
    return {};
}

bool EventChannels::raise_virq(DomainId dom, unsigned virq, unsigned vcpu)
{
    if (virq >= kNrVirqs) return false;
    EventDomain* d = host_.lookup(dom);
    if (!d) return false;
    Upcall u;
    {
        LockGuard g(d->lock_);
        if (!d->is(dom)) return false;
        const bool global = virq_is_global(virq);
        const unsigned owner = global ? 0 : vcpu;
        if (owner >= d->nr_vcpus_) return false;
        const evtchn_port_t port = d->virq_to_port_[owner][virq];
        if (port == 0) return false;
        // send_guest_global_virq follows the port's vCPU; send_guest_vcpu_virq uses its own.
        u = d->set_pending(port, global ? d->notify_vcpu(d->ports_[port]) : owner);
    }
    deliver(u);
    return true;
}

void EventChannels::close_all_for_dead_domain(EventDomain& dead)
{
    evtchn_port_t n;
    {
        LockGuard g(dead.lock_);
        if (!dead.live_) return;
        dead.dying_ = true;  // from here no port can be allocated, so valid_ is final
        n = dead.valid_;
    }
    for (evtchn_port_t p = n; p-- > 1;) (void)close_port(dead, p);
    // No binding reaches the domain any more: forget its pages, so nothing here
    // can touch them once the arch code frees its memory.
    LockGuard g(dead.lock_);
    dead.shared_ = nullptr;
    for (unsigned v = 0; v < kMaxVcpus; ++v) {
        guest::zero_vcpu_info(&dead.placeholder_[v]);
        __atomic_store_n(&dead.vcpu_info_[v], &dead.placeholder_[v], __ATOMIC_RELEASE);
        dead.vcpu_info_registered_[v] = false;
    }
}

} // namespace keel::evtchn
