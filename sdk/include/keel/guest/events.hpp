// Event channels, guest side, on Xen's 2-level ABI.
//
// EventChannels is one guest's dispatcher: it owns the guest's half of the
// shared bitmaps (shared_info's evtchn_pending/evtchn_mask, each vCPU's
// evtchn_upcall_pending/evtchn_pending_sel) and a table of ports, in memory
// the guest provides. EventPort is a bound port: move-only, closed when it
// goes out of scope.
//
//   PortSlot slots[256];                       // ports 1..255 can be tracked
//   EventChannels events(*shared_info, slots);
//   // in the handler of the event PPI (HVM_PARAM_CALLBACK_IRQ / the DT's
//   // xen,xen interrupt), on each vCPU:  events.handle_upcall(this_vcpu);
//   auto port = EventPort::alloc_unbound(events, backend, {on_event, &ring});
//
// Delivery (what handle_upcall does, as the 2-level ABI requires): clear
// evtchn_upcall_pending, swap evtchn_pending_sel to zero, and for each word it
// named take the ports pending, not masked and bound to this vCPU; clear each
// one's pending bit, then run its handler. Repeat until the hypervisor has not
// flagged the vCPU again meanwhile (Keel raises the upcall on the flag's
// 0 -> 1 edge only, so returning with it set would strand events). The scan
// resumes after the last port it delivered, so a port that fires constantly
// cannot starve the others: each pass reaches every pending port once. (A
// peer that never stops sending keeps the vCPU in the upcall, as on Linux:
// mask such a port.)
//
// Handlers run in interrupt context: on the vCPU the port is bound to, with
// the event interrupt masked there, one handler at a time per vCPU. A handler
// must not block or wait (no wait(), no SCHEDOP_block/poll) and must not close
// ports (closing waits for that port's handler to finish). It may send, mask
// and unmask, read and write shared rings, end or make grants, and wake
// threads. A port's handler may run on two vCPUs at once only while bind_vcpu
// moves it.
//
// Waiting without losing a wake-up: every delivery of a port bumps its
// generation before the handler runs. A waiter reads the generation, checks
// its condition (a ring's indices, say), and waits for the generation to move
// on from what it read:
//
//   for (;;) {
//       const std::uint32_t g = port.generation();
//       if (ring_has_responses()) break;
//       KEEL_TRY(port.wait(g));        // returns at once if an event came after g was read
//   }
//
// How wait() sleeps is a pair of hooks (WaitHooks): a bare guest uses
// poll_wait_hooks() (SCHEDOP_poll) or idle_wait_hooks() (WFI); a scheduler
// injects its own block/wake.
#pragma once

#include <keel/guest/hypercalls.hpp>
#include <keel/guest/types.hpp>
#include <keel/guest/xen_abi.hpp>

#include <cstdint>
#include <span>

namespace keel::guest {

// vCPUs an EventChannels can deliver on.
inline constexpr unsigned kMaxEventVcpus = 16;

using EventHandlerFn = void (*)(void* context, Port port);

// What runs when a port fires (both may be null: then the port only counts
// generations, for wait()).
struct EventHandler {
    EventHandlerFn fn = nullptr;
    void* context = nullptr;
};

// How the port came to be. An unbound port becomes an interdomain one when
// the peer binds; the kind stays what this guest asked for.
enum class PortKind : std::uint8_t { Unbound, Interdomain, Virq, Ipi };

// The guest's record of one port, in storage the guest provides: EventChannels
// can track port numbers below the number of slots it was given.
class PortSlot {
private:
    friend class EventChannels;
    EventHandler handler_;
    std::uint32_t generation_ = 0;   // deliveries so far
    std::uint32_t in_dispatch_ = 0;  // handlers running now
    std::uint16_t vcpu_ = 0;         // where it is delivered
    std::uint8_t state_ = 0;         // EventChannels::SlotState
    std::uint8_t kind_ = 0;
    bool user_masked_ = false;       // mask() without unmask() since
};

// How wait() sleeps. `block` is called when the port's generation still
// equals `seen`; it returns once the generation may have changed (early or
// spurious returns are fine: wait() checks again). It must not miss a
// delivery that happens after its caller read `seen`: it re-checks
// `generation` in a way the wake-up cannot slip past (interrupts held off, or
// under the scheduler's lock that `wake` also takes). An error ends the wait.
// `wake` runs in interrupt context after each delivery of any port (before
// the port's handler). Either may be null.
struct WaitHooks {
    Status (*block)(void* context, Port port, const std::uint32_t& generation, std::uint32_t seen) = nullptr;
    void (*wake)(void* context, Port port) = nullptr;
    void* context = nullptr;
};

// Bare-guest waits. Both hold off interrupts on this vCPU while they check the
// generation and sleep, so the port's handler cannot consume the event in
// between; the port must therefore be bound to the vCPU that waits (with a
// port bound elsewhere, a sleep may last until that port's next event).
// poll: SCHEDOP_poll on the port; it returns once the port is pending, so the
// vCPU sleeps through unrelated interrupts.
WaitHooks poll_wait_hooks();
// idle: WFI; any interrupt ends the sleep.
WaitHooks idle_wait_hooks();

class EventChannels {
public:
    // `shared`: the placed shared_info (map_shared_info). Ports 1..slots.size()-1
    // can be tracked (port 0 is never valid). vCPU 0 receives through
    // shared_info's vcpu_info until set_vcpu_info replaces it.
    EventChannels(SharedInfo& shared, std::span<PortSlot> slots, WaitHooks hooks = poll_wait_hooks());
    EventChannels(const EventChannels&) = delete;
    EventChannels& operator=(const EventChannels&) = delete;

    // Where vCPU `vcpu` receives (register_vcpu_info's answer). EINVAL past kMaxEventVcpus.
    Status set_vcpu_info(unsigned vcpu, VcpuInfo* info);
    // Set before ports are bound: handlers read the hooks without a lock.
    void set_wait_hooks(WaitHooks hooks) { hooks_ = hooks; }

    // The event interrupt, taken on vCPU `vcpu`: deliver everything pending
    // for it (see the top of this file). Call with the event interrupt masked.
    void handle_upcall(unsigned vcpu);

    // Takes over a port the hypervisor has just bound for this guest (the
    // EventPort factories and the C API use this): delivered to `vcpu` (where
    // the hypervisor sends it: 0 for unbound/interdomain/global VIRQ ports),
    // then unmasked, so anything already pending is delivered. If it cannot be
    // tracked (beyond the slots) the port is closed again: ENOSPC.
    Result<Port> adopt(Port port, PortKind kind, unsigned vcpu, EventHandler handler);

    // Operations on a tracked port. EINVAL for a port that is not open here
    // (never tracked, or closed): closing twice never reaches the hypervisor.
    // They belong to the port's owner: close, mask, unmask and bind_vcpu on
    // one port must not race each other (delivery may run alongside any).
    // close: no handler of the port is running when it returns, and none will
    // run again; then EVTCHNOP_close.
    Status close(Port port);
    // send: our writes to shared memory before it are visible to the peer that
    // sees the event.
    Status send(Port port);
    Status mask(Port port);
    // unmask: clear the mask bit; if the port is pending, have it delivered.
    Status unmask(Port port);
    // bind_vcpu: deliver to `vcpu` from now on. Events that arrive during the
    // move are delivered there afterwards (unless the port is masked).
    Status bind_vcpu(Port port, unsigned vcpu);
    bool is_open(Port port) const;
    Result<unsigned> vcpu_of(Port port) const;

    // The port's delivery count (0 for a port never tracked). Wraps around.
    std::uint32_t generation(Port port) const;
    // Returns once the generation differs from `seen` (at once if it already
    // does). EINVAL if the port is not open and the generation is `seen`;
    // ENOSYS without a block hook; else what the hook answered.
    Status wait(Port port, std::uint32_t seen);

    SharedInfo& shared_info() const { return *shared_; }

private:
    enum SlotState : std::uint8_t { kFree = 0, kOpen = 1, kClosing = 2 };
    struct Cursor {
        unsigned word = 0;
        unsigned bit = 0;
    };

    PortSlot* open_slot(Port port) const;
    void scan(unsigned vcpu, XenUlong selected);
    void dispatch(unsigned port);
    Status unmask_bit(unsigned port);

    SharedInfo* shared_;
    PortSlot* slots_;
    unsigned nr_slots_;
    WaitHooks hooks_;
    VcpuInfo* vcpu_info_[kMaxEventVcpus] = {};
    // Ports each vCPU delivers: a pending bit outside its set is left alone.
    XenUlong owned_[kMaxEventVcpus][kBitsPerWord] = {};
    // Where each vCPU's next scan starts (touched only by that vCPU's upcall).
    Cursor cursor_[kMaxEventVcpus];
};

// A bound port, owned: closed when destroyed, move-only, never closed twice.
// The factories bind it and hand it to `events`, which must outlive it.
class EventPort {
public:
    EventPort() = default;  // owns nothing

    // A port another domain (`remote`) may bind to (EVTCHNOP_alloc_unbound).
    static Result<EventPort> alloc_unbound(EventChannels& events, DomainId remote, EventHandler handler = {});
    // Joined to `remote`'s unbound `remote_port`. It starts pending (Xen's
    // rule), so the handler runs once right away.
    static Result<EventPort> bind_interdomain(EventChannels& events, DomainId remote, Port remote_port,
                                              EventHandler handler = {});
    // VIRQ_* `virq`: per-vCPU ones (VIRQ_TIMER, VIRQ_DEBUG, ...) on `vcpu`, global ones on 0.
    static Result<EventPort> bind_virq(EventChannels& events, unsigned virq, unsigned vcpu = 0,
                                       EventHandler handler = {});
    // An IPI to `vcpu` of this domain: send() on it runs the handler there.
    static Result<EventPort> bind_ipi(EventChannels& events, unsigned vcpu, EventHandler handler = {});

    EventPort(EventPort&& other) noexcept : events_(other.events_), port_(other.port_), kind_(other.kind_)
    {
        other.events_ = nullptr;
    }
    EventPort& operator=(EventPort&& other) noexcept;
    EventPort(const EventPort&) = delete;
    EventPort& operator=(const EventPort&) = delete;
    ~EventPort() { (void)close(); }

    bool valid() const { return events_ != nullptr; }
    explicit operator bool() const { return valid(); }
    Port port() const { return port_; }
    PortKind kind() const { return kind_; }

    // Closes now (what the destructor does) and reports the hypervisor's
    // answer; the object owns nothing afterwards. EINVAL if it owned nothing.
    Status close();

    // As EventChannels' operations on this port. EINVAL on an empty EventPort.
    Status send() const;
    Status mask() const;
    Status unmask() const;
    Status bind_vcpu(unsigned vcpu) const;
    std::uint32_t generation() const;
    Status wait(std::uint32_t seen) const;

private:
    EventPort(EventChannels& events, Port port, PortKind kind) : events_(&events), port_(port), kind_(kind) {}
    static Result<EventPort> take(EventChannels& events, Result<Port> bound, PortKind kind, unsigned vcpu,
                                  EventHandler handler);

    EventChannels* events_ = nullptr;
    Port port_;
    PortKind kind_ = PortKind::Unbound;
};

} // namespace keel::guest
