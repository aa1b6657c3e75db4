// One domain's event channels: its port table, which VIRQ is bound to which
// port on which vCPU, and where its shared_info and each vCPU's vcpu_info live.
// The operations that change these (the EVTCHNOP_* hypercalls) are in
// EventChannels, because most of them involve two domains; an EventDomain is
// just the state, guarded by its own lock.
//
// Lifetime: an EventDomain lives in a fixed table for the whole run (it is
// embedded in the arch's Domain), never freed. init() starts an incarnation;
// EventChannels::close_all_for_dead_domain() ends it. Peers keep raw pointers
// to each other only while an interdomain binding joins them, and a binding is
// always cut under both domains' locks, so a pointer is never used after its
// incarnation ended.
#pragma once

#include "evtchn/shared_layout.hpp"

#include <keel/result.hpp>
#include <keel/spinlock.hpp>
#include <keel/strong.hpp>

#include <xen/event_channel.h>
#include <xen/xen.h>

#include <cstdint>

namespace keel::evtchn {

class EventDomain;

// Ports per domain in Keel's fixed table. Xen limits a dom0less domU to ports
// 0..1023 (max_evtchn_port = 1023, as libxl also defaults); dom0 may go up to the
// 2-level ABI's 4096 there, here it gets 1024 too.
inline constexpr unsigned kPortCapacity = 1024;
// Xen grows a domain's port table one bucket at a time: a page of 64-byte struct
// evtchn, 64 ports. Only ports below the grown size are "valid" (other numbers get
// EINVAL from close/send/status/unmask/bind_vcpu), so Keel tracks the same size.
inline constexpr unsigned kPortsPerBucket = 64;
inline constexpr unsigned kMaxVcpus = 8;
inline constexpr unsigned kNrVirqs = NR_VIRQS;

static_assert(kPortCapacity % kPortsPerBucket == 0 && kPortCapacity <= kTwoLevelPorts);

// A port's state, as Xen's ECS_* (pirq is not supported on Arm).
enum class ChannelState : std::uint8_t {
    Free,         // ECS_FREE
    Reserved,     // ECS_RESERVED: port 0, never usable
    Unbound,      // waiting for remote_dom to bind_interdomain to it
    Interdomain,  // joined to (peer, remote_port)
    Virq,         // a virtual IRQ of this domain
    Ipi,          // an IPI within this domain
};

struct Channel {
    ChannelState state = ChannelState::Free;
    std::uint8_t virq = 0;               // Virq
    // The vCPU that gets the upcall. Read without our lock by a peer sending to
    // us, so always accessed atomically.
    std::uint16_t notify_vcpu = 0;
    DomainId remote_dom;                 // Unbound: who may bind; Interdomain: the peer's id
    evtchn_port_t remote_port = 0;       // Interdomain
    EventDomain* peer = nullptr;         // Interdomain
};

// A vCPU that must get the event interrupt, found under a lock and raised after it.
struct Upcall {
    bool needed = false;
    DomainId dom;
    unsigned vcpu = 0;
    bool wake_pollers = false;  // a port was set pending: vCPUs in SCHEDOP_poll re-check
};

class EventDomain {
public:
    // Starts an incarnation for domain `id`. `shared` is the domain's shared_info
    // page (allocated with the domain, so never null in Keel; if it is, events are
    // dropped rather than stored). EINVAL if nr_vcpus is 0 or above kMaxVcpus, or
    // max_port does not fit the table. Must not be called while a previous
    // incarnation still has ports open (end it with close_all_for_dead_domain).
    Status init(DomainId id, SharedInfo* shared, unsigned nr_vcpus, evtchn_port_t max_port = kPortCapacity - 1);

    DomainId id() const { return id_; }
    unsigned nr_vcpus() const { return nr_vcpus_; }
    SharedInfo* shared_info() const { return shared_; }
    // The vcpu_info Keel delivers to: shared_info's for vCPU 0 until the guest
    // registers its own; for others a private placeholder until then.
    VcpuInfo* vcpu_info(unsigned vcpu) const;
    bool vcpu_info_registered(unsigned vcpu) const;

    // The vCPU has its upcall flag set (for WFI wake-up and level re-checks:
    // Xen's local_events_need_delivery).
    bool upcall_pending(unsigned vcpu) const;
    // The port's pending bit in shared_info (SCHEDOP_poll); false past the port space.
    bool port_pending(evtchn_port_t port) const;

    // A copy of one port's state (tests and diagnostics). Ports past the table read Free.
    Channel channel(evtchn_port_t port) const;
    // Xen's valid_evtchns: ports below it exist, the rest are EINVAL.
    evtchn_port_t valid_ports() const;
    // The port bound to `virq` on `vcpu` (0 if none). Global VIRQs live on vCPU 0.
    evtchn_port_t virq_port(unsigned vcpu, unsigned virq) const;
    bool dying() const;

private:
    friend class EventChannels;

    // Everything below: called with lock_ held.
    bool is(DomainId id) const { return live_ && id_ == id; }
    bool valid(evtchn_port_t port) const { return port < valid_; }
    Result<evtchn_port_t> alloc_port();
    void free_port(evtchn_port_t port);
    // Set the port pending for `vcpu` (also called by a peer holding only its own
    // lock: see EventChannels::send).
    Upcall set_pending(evtchn_port_t port, unsigned vcpu);
    Upcall unmask(evtchn_port_t port);
    unsigned notify_vcpu(const Channel& c) const { return __atomic_load_n(&c.notify_vcpu, __ATOMIC_RELAXED); }
    void set_notify_vcpu(Channel& c, unsigned vcpu) { __atomic_store_n(&c.notify_vcpu, static_cast<std::uint16_t>(vcpu), __ATOMIC_RELAXED); }

    mutable Spinlock lock_;
    bool live_ = false;     // init() has run: this is some domain's (a dying one's, perhaps)
    bool dying_ = false;    // no new ports (Xen's d->is_dying); ports stay readable, all closed
    DomainId id_;
    unsigned nr_vcpus_ = 0;
    evtchn_port_t max_port_ = 0;          // Xen's max_evtchn_port
    evtchn_port_t valid_ = 0;             // Xen's valid_evtchns
    evtchn_port_t reset_next_ = 0;        // non-zero while EVTCHNOP_reset runs (Xen's next_evtchn)
    SharedInfo* shared_ = nullptr;
    // Published with release, read with acquire by senders without our lock.
    VcpuInfo* vcpu_info_[kMaxVcpus] = {};
    bool vcpu_info_registered_[kMaxVcpus] = {};
    // Where events for a vCPU without a vcpu_info go (Xen has one dummy_vcpu_info
    // for all domains; one per vCPU keeps domains apart). Registration resets it.
    VcpuInfo placeholder_[kMaxVcpus] = {};
    evtchn_port_t virq_to_port_[kMaxVcpus][kNrVirqs] = {};
    Channel ports_[kPortCapacity];
};

// Xen's virq_is_global(): VIRQ_TIMER, VIRQ_DEBUG, VIRQ_XENOPROF and VIRQ_XENPMU
// are per vCPU; all others (VIRQ_ARCH_* included, on Arm) are global, bound on
// vCPU 0 and retargetable with bind_vcpu.
constexpr bool virq_is_global(unsigned virq)
{
    return virq != VIRQ_TIMER && virq != VIRQ_DEBUG && virq != VIRQ_XENOPROF && virq != VIRQ_XENPMU;
}

} // namespace keel::evtchn
