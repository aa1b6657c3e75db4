// The guest's half of the 2-level event protocol. The hypervisor's half, for
// reference (Xen's evtchn_2l_set_pending; Keel's hyp/core/evtchn/two_level):
//
//   set pending bit; if it was clear and the mask bit is clear:
//       set the word's bit in the port's vCPU's evtchn_pending_sel;
//       if that was clear: set evtchn_upcall_pending; if that was clear: raise the upcall
//
// and for EVTCHNOP_unmask: clear the mask bit; if it was set and the port is
// pending, the same selector/upcall steps. Every step there is a sequentially
// consistent atomic; the guest's steps below pair with them.
#include <keel/guest/cpu.hpp>
#include <keel/guest/events.hpp>
#include <keel/guest/shared_memory.hpp>

#include <initializer_list>

namespace keel::guest {

namespace {

constexpr XenUlong bit(unsigned n) { return XenUlong{1} << n; }

unsigned lowest(XenUlong w) { return static_cast<unsigned>(__builtin_ctzll(w)); }

Status poll_block(void*, Port port, const std::uint32_t& generation, std::uint32_t seen)
{
    // With the event interrupt held off, the port's handler (bound to this
    // vCPU) cannot take the event between the check and the poll: an event
    // arriving now stays pending, and the poll returns at once.
    cpu::IrqGuard irqs_off;
    if (shm::load_acquire(generation) != seen) return {};
    const Port ports[1] = {port};
    return schedop_poll(ports);
    // Leaving the scope unmasks: the pending upcall runs and bumps the generation.
}

Status idle_block(void*, Port, const std::uint32_t& generation, std::uint32_t seen)
{
    // WFI wakes on a pending interrupt even while it is masked, so an event
    // that arrives after the check ends the sleep.
    cpu::IrqGuard irqs_off;
    if (shm::load_acquire(generation) == seen) cpu::wait_for_interrupt();
    return {};
}

} // namespace

WaitHooks poll_wait_hooks() { return WaitHooks{poll_block, nullptr, nullptr}; }

WaitHooks idle_wait_hooks() { return WaitHooks{idle_block, nullptr, nullptr}; }

EventChannels::EventChannels(SharedInfo& shared, std::span<PortSlot> slots, WaitHooks hooks)
    : shared_(&shared),
      slots_(slots.data()),
      nr_slots_(static_cast<unsigned>(slots.size() < kTwoLevelPorts ? slots.size() : kTwoLevelPorts)),
      hooks_(hooks)
{
    vcpu_info_[0] = &shared.vcpu_info[0];
}

Status EventChannels::set_vcpu_info(unsigned vcpu, VcpuInfo* info)
{
    if (vcpu >= kMaxEventVcpus || info == nullptr) return Err(Errno::XEN_EINVAL);
    // The upcall on that vCPU reads the pointer without a lock.
    shm::store_release(vcpu_info_[vcpu], info);
    return {};
}

// --- delivery ---

void EventChannels::handle_upcall(unsigned vcpu)
{
    if (vcpu >= kMaxEventVcpus) return;
    VcpuInfo* info = shm::load_acquire(vcpu_info_[vcpu]);
    if (info == nullptr) return;
    do {
        shm::write_once(info->evtchn_upcall_pending, std::uint8_t{0});
        // The flag's clear before the selector swap. The hypervisor sets a
        // selector bit and then the flag; ordered this way on both sides, a
        // bit our swap misses was set after it and sets the flag again, so
        // the loop below goes round once more instead of stranding it.
        shm::full_barrier();
        const XenUlong selected = shm::exchange(info->evtchn_pending_sel, XenUlong{0});
        scan(vcpu, selected);
    } while (shm::read_once(info->evtchn_upcall_pending) != 0);
}

void EventChannels::scan(unsigned vcpu, XenUlong selected)
{
    Cursor& c = cursor_[vcpu];
    while (selected != 0) {
        // The first selected word at or after the cursor, wrapping round.
        const XenUlong ahead = selected & (~XenUlong{0} << c.word);
        const unsigned w = lowest(ahead != 0 ? ahead : selected);
        selected &= ~bit(w);

        // Ports of this word that are ours to deliver now. (Loads after the
        // swap above, a full barrier, so they see what the selector announced.)
        const XenUlong ready = shm::read_once(shared_->evtchn_pending[w]) & ~shm::read_once(shared_->evtchn_mask[w]) &
                               shm::read_once(owned_[vcpu][w]);
        // Within the word, bits at or after the cursor first.
        const XenUlong after = (w == c.word) ? ready & (~XenUlong{0} << c.bit) : ready;
        for (XenUlong part : {after, ready & ~after}) {
            while (part != 0) {
                const unsigned b = lowest(part);
                part &= part - 1;
                const unsigned port = w * kBitsPerWord + b;
                // Clearing the pending bit first means an event that arrives
                // while the handler runs sets it again and is delivered again.
                if (shm::test_and_clear_bit(port, shared_->evtchn_pending)) dispatch(port);
                c.word = b + 1 < kBitsPerWord ? w : (w + 1) % kBitsPerWord;
                c.bit = (b + 1) % kBitsPerWord;
            }
        }
    }
}

void EventChannels::dispatch(unsigned port)
{
    PortSlot& s = slots_[port];
    shm::fetch_add(s.in_dispatch_, 1u);
    // The count's increment before the state's load; close() does the mirror
    // image (state, then count), so either it waits for us or we see it closing.
    shm::full_barrier();
    if (shm::load_acquire(s.state_) == kOpen) {
        // The generation moves before anything runs, so a waiter that read
        // the old value and then checked its condition is woken.
        shm::fetch_add(s.generation_, 1u);
        if (hooks_.wake != nullptr) hooks_.wake(hooks_.context, Port(port));
        const EventHandler h = s.handler_;
        if (h.fn != nullptr) h.fn(h.context, Port(port));
    }
    shm::fetch_sub(s.in_dispatch_, 1u);
}

// --- port table ---

PortSlot* EventChannels::open_slot(Port port) const
{
    const unsigned n = port.raw();
    if (n == 0 || n >= nr_slots_) return nullptr;
    PortSlot& s = slots_[n];
    return shm::load_acquire(s.state_) == kOpen ? &s : nullptr;
}

bool EventChannels::is_open(Port port) const { return open_slot(port) != nullptr; }

Result<unsigned> EventChannels::vcpu_of(Port port) const
{
    const PortSlot* s = open_slot(port);
    if (s == nullptr) return Err(Errno::XEN_EINVAL);
    return static_cast<unsigned>(shm::read_once(s->vcpu_));
}

Result<Port> EventChannels::adopt(Port port, PortKind kind, unsigned vcpu, EventHandler handler)
{
    const unsigned n = port.raw();
    if (n == 0 || n >= nr_slots_ || vcpu >= kMaxEventVcpus) {
        // A port we cannot track would be a leak in the hypervisor's table.
        (void)evtchnop_close(port);
        return Err(Errno::XEN_ENOSPC);
    }
    PortSlot& s = slots_[n];
    // The hypervisor has just handed out n, so no open port of ours has that
    // number (close() frees the slot before it closes the port).
    if (shm::load_acquire(s.state_) != kFree) {
        (void)evtchnop_close(port);
        return Err(Errno::XEN_EEXIST);
    }
    // Masked until the slot is ready; an event arriving meanwhile stays pending.
    (void)shm::test_and_set_bit(n, shared_->evtchn_mask);
    s.handler_ = handler;
    s.kind_ = static_cast<std::uint8_t>(kind);
    s.vcpu_ = static_cast<std::uint16_t>(vcpu);
    s.user_masked_ = false;
    // The slot's fields before the state that lets dispatch read them.
    shm::store_release(s.state_, std::uint8_t{kOpen});
    (void)shm::fetch_or(owned_[vcpu][n / kBitsPerWord], bit(n % kBitsPerWord));
    // An event already pending (bind_interdomain leaves one) is delivered now.
    (void)unmask_bit(n);
    return port;
}

Status EventChannels::close(Port port)
{
    PortSlot* s = open_slot(port);
    if (s == nullptr) return Err(Errno::XEN_EINVAL);
    const unsigned n = port.raw();
    (void)shm::test_and_set_bit(n, shared_->evtchn_mask);
    (void)shm::fetch_and(owned_[s->vcpu_][n / kBitsPerWord], ~bit(n % kBitsPerWord));
    (void)shm::exchange(s->state_, std::uint8_t{kClosing});
    // The state's store before the count's load (see dispatch).
    shm::full_barrier();
    // A handler already past the state check finishes before we go on: its
    // context must stay valid until then. (Never call this from that handler.)
    while (shm::load_acquire(s->in_dispatch_) != 0) {
        // Another vCPU is in the handler: handlers are short, spin.
    }
    s->handler_ = EventHandler{};
    // Waiters on the port return (and find it closed when they look again).
    shm::fetch_add(s->generation_, 1u);
    shm::store_release(s->state_, std::uint8_t{kFree});
    if (hooks_.wake != nullptr) hooks_.wake(hooks_.context, port);
    // Only now may the hypervisor hand the number out again.
    return evtchnop_close(port);
}

Status EventChannels::send(Port port)
{
    if (open_slot(port) == nullptr) return Err(Errno::XEN_EINVAL);
    // Our writes to shared memory (ring entries, indices) before the event
    // that announces them. The hypervisor's own atomics would order them too,
    // but that is its implementation, not the ABI.
    shm::full_barrier();
    return evtchnop_send(port);
}

Status EventChannels::mask(Port port)
{
    PortSlot* s = open_slot(port);
    if (s == nullptr) return Err(Errno::XEN_EINVAL);
    s->user_masked_ = true;
    (void)shm::test_and_set_bit(port.raw(), shared_->evtchn_mask);
    return {};
}

Status EventChannels::unmask(Port port)
{
    PortSlot* s = open_slot(port);
    if (s == nullptr) return Err(Errno::XEN_EINVAL);
    s->user_masked_ = false;
    return unmask_bit(port.raw());
}

Status EventChannels::unmask_bit(unsigned port)
{
    // Nothing pending: clearing the bit ourselves is enough, since an event
    // that arrives once the bit is clear is delivered by the hypervisor.
    if (!shm::test_bit(port, shared_->evtchn_pending)) {
        (void)shm::test_and_clear_bit(port, shared_->evtchn_mask);
        // The clear before the second look at the pending bit: the hypervisor
        // sets pending and then reads mask, so an event that slipped in
        // between our two looks either saw the mask clear (and was delivered)
        // or is seen pending here.
        shm::full_barrier();
        if (!shm::test_bit(port, shared_->evtchn_pending)) return {};
        // It slipped in. Mask again so the hypervisor's unmask sees a
        // masked -> unmasked change and delivers (a duplicate upcall is harmless).
        (void)shm::test_and_set_bit(port, shared_->evtchn_mask);
    }
    // Pending: the selector and upcall flag are the hypervisor's to set, on
    // the port's vCPU, which may not be this one.
    return evtchnop_unmask(Port(port));
}

Status EventChannels::bind_vcpu(Port port, unsigned vcpu)
{
    PortSlot* s = open_slot(port);
    if (s == nullptr || vcpu >= kMaxEventVcpus) return Err(Errno::XEN_EINVAL);
    const unsigned n = port.raw();
    const unsigned old = s->vcpu_;
    // Masked during the move, so no event is flagged on one vCPU and owned by the other.
    (void)shm::test_and_set_bit(n, shared_->evtchn_mask);
    const Status r = evtchnop_bind_vcpu(port, vcpu);
    if (r.ok() && old != vcpu) {
        (void)shm::fetch_or(owned_[vcpu][n / kBitsPerWord], bit(n % kBitsPerWord));
        (void)shm::fetch_and(owned_[old][n / kBitsPerWord], ~bit(n % kBitsPerWord));
        shm::write_once(s->vcpu_, static_cast<std::uint16_t>(vcpu));
    }
    // Whatever arrived while masked is delivered now, where the port now goes.
    if (!s->user_masked_) {
        const Status u = unmask_bit(n);
        if (r.ok() && !u.ok()) return u;
    }
    return r;
}

std::uint32_t EventChannels::generation(Port port) const
{
    const unsigned n = port.raw();
    if (n == 0 || n >= nr_slots_) return 0;
    return shm::load_acquire(slots_[n].generation_);
}

Status EventChannels::wait(Port port, std::uint32_t seen)
{
    const unsigned n = port.raw();
    if (n == 0 || n >= nr_slots_) return Err(Errno::XEN_EINVAL);
    const PortSlot& s = slots_[n];
    for (;;) {
        if (shm::load_acquire(s.generation_) != seen) return {};
        if (shm::load_acquire(s.state_) != kOpen) return Err(Errno::XEN_EINVAL);
        if (hooks_.block == nullptr) return Err(Errno::XEN_ENOSYS);
        KEEL_TRY(hooks_.block(hooks_.context, port, s.generation_, seen));
    }
}

// --- EventPort ---

Result<EventPort> EventPort::take(EventChannels& events, Result<Port> bound, PortKind kind, unsigned vcpu,
                                  EventHandler handler)
{
    if (!bound) return Err(bound.error());
    auto adopted = events.adopt(*bound, kind, vcpu, handler);
    if (!adopted) return Err(adopted.error());
    return EventPort(events, *adopted, kind);
}

Result<EventPort> EventPort::alloc_unbound(EventChannels& events, DomainId remote, EventHandler handler)
{
    return take(events, evtchnop_alloc_unbound(remote), PortKind::Unbound, 0, handler);
}

Result<EventPort> EventPort::bind_interdomain(EventChannels& events, DomainId remote, Port remote_port,
                                              EventHandler handler)
{
    return take(events, evtchnop_bind_interdomain(remote, remote_port), PortKind::Interdomain, 0, handler);
}

Result<EventPort> EventPort::bind_virq(EventChannels& events, unsigned virq, unsigned vcpu, EventHandler handler)
{
    return take(events, evtchnop_bind_virq(virq, vcpu), PortKind::Virq, vcpu, handler);
}

Result<EventPort> EventPort::bind_ipi(EventChannels& events, unsigned vcpu, EventHandler handler)
{
    return take(events, evtchnop_bind_ipi(vcpu), PortKind::Ipi, vcpu, handler);
}

EventPort& EventPort::operator=(EventPort&& other) noexcept
{
    if (this != &other) {
        (void)close();
        events_ = other.events_;
        port_ = other.port_;
        kind_ = other.kind_;
        other.events_ = nullptr;
    }
    return *this;
}

Status EventPort::close()
{
    if (events_ == nullptr) return Err(Errno::XEN_EINVAL);
    EventChannels* events = events_;
    events_ = nullptr;
    return events->close(port_);
}

Status EventPort::send() const { return events_ ? events_->send(port_) : Err(Errno::XEN_EINVAL); }
Status EventPort::mask() const { return events_ ? events_->mask(port_) : Err(Errno::XEN_EINVAL); }
Status EventPort::unmask() const { return events_ ? events_->unmask(port_) : Err(Errno::XEN_EINVAL); }
Status EventPort::bind_vcpu(unsigned vcpu) const
{
    return events_ ? events_->bind_vcpu(port_, vcpu) : Err(Errno::XEN_EINVAL);
}
std::uint32_t EventPort::generation() const { return events_ ? events_->generation(port_) : 0; }
Status EventPort::wait(std::uint32_t seen) const
{
    return events_ ? events_->wait(port_, seen) : Err(Errno::XEN_EINVAL);
}

} // namespace keel::guest
