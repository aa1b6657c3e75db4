// The SDK's event channels against Keel's event-channel core, through the
// fake hypervisor: port ownership, 2-level dispatch, per-vCPU delivery,
// ping-pong between two domains, and waits that lose no wake-up.
#include "sdk_test_support.hpp"

#include <keel/guest/cpu.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

using namespace keel;
using namespace keel::guest;
using namespace keel::sdk_test;
using ChannelState = keel::evtchn::ChannelState;

namespace {

struct SdkEventsFixture : ::testing::Test {
    FakeHypervisor hv;
    std::vector<std::unique_ptr<SdkGuest>> guests;
    SdkGuest& a = make(1);
    SdkGuest& b = make(2);

    SdkGuest& make(std::uint16_t id, unsigned vcpus = 1)
    {
        hv.add_domain({.id = id, .vcpus = vcpus});
        guests.push_back(std::make_unique<SdkGuest>(hv, id));
        return *guests.back();
    }
    ChannelState state(std::uint16_t dom, Port p) { return hv.event_domain(dom).channel(p.raw()).state; }
    bool hyp_pending(std::uint16_t dom, Port p) { return hv.event_domain(dom).port_pending(p.raw()); }
};

using SdkEventPort = SdkEventsFixture;
using SdkEventDispatch = SdkEventsFixture;
using SdkEventPingPong = SdkEventsFixture;
using SdkEventWait = SdkEventsFixture;

} // namespace

// --- port lifetimes ---

TEST_F(SdkEventPort, ClosesOnDestruction)
{
    FakeHypervisor::As as(hv, a.id);
    Port p;
    {
        auto port = EventPort::alloc_unbound(*a.events, DomainId(b.id));
        ASSERT_TRUE(port.ok()) << errno_name(port.error());
        p = port->port();
        EXPECT_EQ(port->kind(), PortKind::Unbound);
        EXPECT_EQ(state(a.id, p), ChannelState::Unbound);
        EXPECT_TRUE(a.events->is_open(p));
    }
    EXPECT_EQ(state(a.id, p), ChannelState::Free);
    EXPECT_FALSE(a.events->is_open(p));
    EXPECT_EQ(hv.evtchn_ops(EVTCHNOP_close), 1u);
}

TEST_F(SdkEventPort, MoveTransfersOwnershipAndClosesOnce)
{
    FakeHypervisor::As as(hv, a.id);
    auto r1 = EventPort::alloc_unbound(*a.events, DomainId(b.id));
    auto r2 = EventPort::alloc_unbound(*a.events, DomainId(b.id));
    ASSERT_TRUE(r1.ok() && r2.ok());
    const Port p1 = r1->port(), p2 = r2->port();
    {
        EventPort moved(std::move(*r1));
        EXPECT_FALSE(r1->valid());
        EXPECT_TRUE(moved.valid());
        EXPECT_EQ(moved.port(), p1);
        // Assigning over a live port closes the one it held.
        moved = std::move(*r2);
        EXPECT_EQ(state(a.id, p1), ChannelState::Free);
        EXPECT_EQ(state(a.id, p2), ChannelState::Unbound);
        EXPECT_EQ(moved.port(), p2);
    }
    EXPECT_EQ(state(a.id, p2), ChannelState::Free);
    EXPECT_EQ(hv.evtchn_ops(EVTCHNOP_close), 2u) << "moved-from ports close nothing";
}

TEST_F(SdkEventPort, DoubleCloseNeverReachesTheHypervisor)
{
    FakeHypervisor::As as(hv, a.id);
    auto port = EventPort::alloc_unbound(*a.events, DomainId(b.id));
    ASSERT_TRUE(port.ok());
    const Port p = port->port();
    EXPECT_TRUE(port->close().ok());
    EXPECT_FALSE(port->valid());
    EXPECT_EQ(err(port->close()), Errno::XEN_EINVAL);
    EXPECT_EQ(err(port->send()), Errno::XEN_EINVAL);
    // The number is handed out again; the stale number cannot close the new port.
    auto again = EventPort::alloc_unbound(*a.events, DomainId(b.id));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->port(), p);
    EXPECT_EQ(hv.evtchn_ops(EVTCHNOP_close), 1u);
    EXPECT_EQ(state(a.id, p), ChannelState::Unbound);
}

TEST_F(SdkEventPort, PortBeyondTheSlotsIsGivenBack)
{
    hv.add_domain({.id = 3});
    SdkGuest small(hv, 3, /*nr_slots=*/3);
    FakeHypervisor::As as(hv, small.id);
    auto p1 = EventPort::alloc_unbound(*small.events, DomainId(a.id));
    auto p2 = EventPort::alloc_unbound(*small.events, DomainId(a.id));
    ASSERT_TRUE(p1.ok() && p2.ok());
    auto p3 = EventPort::alloc_unbound(*small.events, DomainId(a.id));
    EXPECT_EQ(err(p3), Errno::XEN_ENOSPC);
    EXPECT_EQ(state(small.id, Port(3)), ChannelState::Free) << "closed again, not leaked";
}

TEST_F(SdkEventPort, HostileInputsGiveXensErrno)
{
    FakeHypervisor::As as(hv, a.id);
    EXPECT_EQ(err(EventPort::bind_interdomain(*a.events, DomainId(b.id), Port(7))), Errno::XEN_EINVAL)
        << "no unbound port 7 in the peer";
    EXPECT_EQ(err(EventPort::bind_interdomain(*a.events, DomainId(99), Port(1))), Errno::XEN_ESRCH);
    EXPECT_EQ(err(EventPort::bind_virq(*a.events, NR_VIRQS, 0)), Errno::XEN_EINVAL);
    EXPECT_EQ(err(EventPort::bind_virq(*a.events, VIRQ_CONSOLE, 1)), Errno::XEN_EINVAL) << "global VIRQ off vCPU 0";
    EXPECT_EQ(err(EventPort::bind_ipi(*a.events, 1)), Errno::XEN_ENOENT) << "a 1-vCPU domain";
    EXPECT_EQ(err(EventPort::alloc_unbound(*a.events, DomainId(99))), Errno::XEN_ESRCH);
    // Operations on ports this guest does not own: EINVAL, without a hypercall.
    const auto sends = hv.evtchn_ops(EVTCHNOP_send);
    EXPECT_EQ(err(a.events->send(Port(0))), Errno::XEN_EINVAL);
    EXPECT_EQ(err(a.events->send(Port(200))), Errno::XEN_EINVAL);
    EXPECT_EQ(err(a.events->send(Port(5000))), Errno::XEN_EINVAL);
    EXPECT_EQ(err(a.events->close(Port(3))), Errno::XEN_EINVAL);
    EXPECT_EQ(err(a.events->unmask(Port(3))), Errno::XEN_EINVAL);
    EXPECT_EQ(err(a.events->bind_vcpu(Port(3), 0)), Errno::XEN_EINVAL);
    EXPECT_EQ(hv.evtchn_ops(EVTCHNOP_send), sends);
    // The raw wrappers pass Xen's answer through.
    EXPECT_EQ(err(evtchnop_send(Port(200))), Errno::XEN_EINVAL);
    EXPECT_EQ(err(evtchnop_close(Port(0))), Errno::XEN_EINVAL);
}

TEST_F(SdkEventPort, IpiAndVirqRunTheirHandlers)
{
    FakeHypervisor::As as(hv, a.id);
    Recorder rec;
    auto ipi = EventPort::bind_ipi(*a.events, 0, rec.handler());
    auto virq = EventPort::bind_virq(*a.events, VIRQ_TIMER, 0, rec.handler());
    ASSERT_TRUE(ipi.ok() && virq.ok());
    EXPECT_EQ(err(virq->send()), Errno::XEN_EINVAL) << "a VIRQ is the hypervisor's to send";
    ASSERT_TRUE(ipi->send().ok());
    EXPECT_EQ(rec.ports(), std::vector<unsigned>{ipi->port().raw()}) << "taken on return from the send";
    EXPECT_TRUE(hv.raise_virq(a.id, VIRQ_TIMER));
    hv.deliver();
    EXPECT_EQ(rec.count(virq->port().raw()), 1u);
    EXPECT_EQ(ipi->generation(), 1u);
    EXPECT_EQ(virq->generation(), 1u);
}

TEST_F(SdkEventPort, BindInterdomainDeliversTheInitialEventOnce)
{
    Recorder rec;
    Held<EventPort> ea{hv, a.id}, eb{hv, b.id};
    {
        FakeHypervisor::As as(hv, a.id);
        auto r = EventPort::alloc_unbound(*a.events, DomainId(b.id));
        ASSERT_TRUE(r.ok());
        *ea = std::move(*r);
    }
    {
        FakeHypervisor::As as(hv, b.id);
        auto r = EventPort::bind_interdomain(*b.events, DomainId(a.id), ea->port(), rec.handler());
        ASSERT_TRUE(r.ok());
        *eb = std::move(*r);
    }
    hv.deliver();
    EXPECT_EQ(rec.count(eb->port().raw()), 1u) << "Xen sets a freshly bound port pending";
    EXPECT_EQ(state(a.id, ea->port()), ChannelState::Interdomain);
    {
        FakeHypervisor::As as(hv, b.id);
        ASSERT_TRUE(eb->close().ok());  // B closes its end: A's port waits for a binder again
    }
    EXPECT_EQ(state(a.id, ea->port()), ChannelState::Unbound);
}

// --- dispatch ---

TEST_F(SdkEventDispatch, ManyPortsInOneUpcall)
{
    FakeHypervisor::As as(hv, a.id);
    Recorder rec;
    std::vector<EventPort> ports;
    for (int i = 0; i < 200; ++i) {
        auto p = EventPort::bind_ipi(*a.events, 0, rec.handler());
        ASSERT_TRUE(p.ok()) << i << " " << errno_name(p.error());
        ports.push_back(std::move(*p));
    }
    {
        cpu::IrqGuard irqs_off;  // let them pile up
        for (auto& p : ports) ASSERT_TRUE(p.send().ok());
        EXPECT_TRUE(rec.got.empty());
    }
    ASSERT_EQ(rec.got.size(), ports.size()) << "one upcall delivers every port, each once";
    for (auto& p : ports) EXPECT_EQ(rec.count(p.port().raw()), 1u);
    for (auto& p : ports) EXPECT_FALSE(hyp_pending(a.id, p.port()));
    EXPECT_EQ(a.shared->vcpu_info[0].evtchn_upcall_pending, 0);
}

TEST_F(SdkEventDispatch, MaskedPortsWaitForUnmask)
{
    FakeHypervisor::As as(hv, a.id);
    Recorder rec;
    auto p1 = EventPort::bind_ipi(*a.events, 0, rec.handler());
    auto p2 = EventPort::bind_ipi(*a.events, 0, rec.handler());
    ASSERT_TRUE(p1.ok() && p2.ok());
    ASSERT_TRUE(p1->mask().ok());
    ASSERT_TRUE(p1->send().ok());
    ASSERT_TRUE(p2->send().ok());
    EXPECT_EQ(rec.ports(), std::vector<unsigned>{p2->port().raw()});
    EXPECT_TRUE(hyp_pending(a.id, p1->port())) << "a masked port stays pending";
    // Unmasking a pending port goes through the hypervisor, which delivers it.
    const auto unmasks = hv.evtchn_ops(EVTCHNOP_unmask);
    ASSERT_TRUE(p1->unmask().ok());
    EXPECT_EQ(hv.evtchn_ops(EVTCHNOP_unmask), unmasks + 1);
    EXPECT_EQ(rec.ports(), (std::vector<unsigned>{p2->port().raw(), p1->port().raw()}));
    // With nothing pending, unmasking is a plain bit clear.
    ASSERT_TRUE(p1->mask().ok());
    ASSERT_TRUE(p1->unmask().ok());
    EXPECT_EQ(hv.evtchn_ops(EVTCHNOP_unmask), unmasks + 1);
    ASSERT_TRUE(p1->send().ok());
    EXPECT_EQ(rec.count(p1->port().raw()), 2u);
}

TEST_F(SdkEventDispatch, PortsNotOursStayPending)
{
    // A port bound behind the SDK's back (raw wrapper) is never consumed.
    FakeHypervisor::As as(hv, a.id);
    Recorder rec;
    auto raw = evtchnop_bind_ipi(0);
    ASSERT_TRUE(raw.ok());
    auto mine = EventPort::bind_ipi(*a.events, 0, rec.handler());
    ASSERT_TRUE(mine.ok());
    ASSERT_TRUE(evtchnop_send(*raw).ok());
    ASSERT_TRUE(mine->send().ok());
    EXPECT_EQ(rec.ports(), std::vector<unsigned>{mine->port().raw()});
    EXPECT_TRUE(hyp_pending(a.id, *raw));
    EXPECT_TRUE(evtchnop_close(*raw).ok());
}

namespace {

// A port that re-sends to itself from its handler `left` times: a storm.
struct Storm {
    Recorder* rec;
    EventPort* self = nullptr;
    int left = 0;
    static void on(void* c, Port p)
    {
        auto* s = static_cast<Storm*>(c);
        Recorder::on(s->rec, p);
        if (s->left-- > 0) (void)s->self->send();
    }
};

} // namespace

TEST_F(SdkEventDispatch, AStormingPortDoesNotStarveOthers)
{
    FakeHypervisor::As as(hv, a.id);
    Recorder rec;
    Storm storm{&rec};
    // Port numbers spread over words: the storm in the first, others further on.
    std::vector<EventPort> all;
    for (int i = 0; i < 130; ++i) {
        auto p = EventPort::bind_ipi(*a.events, 0, i == 0 ? EventHandler{&Storm::on, &storm} : rec.handler());
        ASSERT_TRUE(p.ok());
        all.push_back(std::move(*p));
    }
    storm.self = &all[0];
    storm.left = 1000;
    EventPort& word1 = all[70];   // port 71: word 1
    EventPort& word2 = all[129];  // port 130: word 2
    {
        cpu::IrqGuard irqs_off;
        ASSERT_TRUE(all[0].send().ok());
        ASSERT_TRUE(word1.send().ok());
        ASSERT_TRUE(word2.send().ok());
    }
    ASSERT_EQ(rec.count(all[0].port().raw()), 1001u);
    // Each pass reaches every pending port: the others come within the first few deliveries.
    const auto ports = rec.ports();
    auto position = [&](unsigned port) { return std::find(ports.begin(), ports.end(), port) - ports.begin(); };
    EXPECT_LE(position(word1.port().raw()), 3);
    EXPECT_LE(position(word2.port().raw()), 3);
}

TEST_F(SdkEventDispatch, ScanResumesAfterTheLastPortDelivered)
{
    FakeHypervisor::As as(hv, a.id);
    Recorder rec;
    std::vector<EventPort> all;
    for (int i = 0; i < 8; ++i) {
        auto p = EventPort::bind_ipi(*a.events, 0, rec.handler());
        ASSERT_TRUE(p.ok());
        all.push_back(std::move(*p));
    }
    {
        cpu::IrqGuard irqs_off;
        ASSERT_TRUE(all[4].send().ok());
    }
    rec.got.clear();
    {
        cpu::IrqGuard irqs_off;
        for (auto& p : all) ASSERT_TRUE(p.send().ok());
    }
    // Ports after the one delivered last come first, then the wrap-around.
    std::vector<unsigned> want;
    for (int i : {5, 6, 7, 0, 1, 2, 3, 4}) want.push_back(all[i].port().raw());
    EXPECT_EQ(rec.ports(), want);
}

TEST_F(SdkEventDispatch, HandlersRunOnTheVcpuThePortIsBoundTo)
{
    SdkGuest& c = make(3, 2);
    FakeHypervisor::As as(hv, c.id);
    // vCPU 1 needs a vcpu_info of its own.
    auto info = register_vcpu_info(1, hv.ram_frame(c.id, 0), 64);
    ASSERT_TRUE(info.ok()) << errno_name(info.error());
    ASSERT_TRUE(c.events->set_vcpu_info(1, *info).ok());
    hv.deliver();  // registration flags every word once

    Recorder rec;
    auto ipi1 = EventPort::bind_ipi(*c.events, 1, rec.handler());
    auto ipi0 = EventPort::bind_ipi(*c.events, 0, rec.handler());
    ASSERT_TRUE(ipi0.ok() && ipi1.ok());
    ASSERT_TRUE(ipi1->send().ok());
    EXPECT_TRUE(rec.got.empty()) << "not for the sending vCPU";
    EXPECT_TRUE(hv.irq_line(c.id, 1));
    EXPECT_FALSE(hv.irq_line(c.id, 0));
    // vCPU 0 scanning every word does not take vCPU 1's port.
    c.shared->vcpu_info[0].evtchn_pending_sel = ~XenUlong{0};
    c.events->handle_upcall(0);
    EXPECT_TRUE(rec.got.empty());
    hv.deliver();
    EXPECT_EQ(rec.got, (std::vector<std::pair<unsigned, unsigned>>{{ipi1->port().raw(), 1}}));

    // An interdomain port moved to vCPU 1, with an event arriving mid-move.
    auto unbound = EventPort::alloc_unbound(*c.events, DomainId(a.id), rec.handler());
    ASSERT_TRUE(unbound.ok());
    Held<EventPort> peer{hv, a.id};
    {
        FakeHypervisor::As as_a(hv, a.id);
        auto r = EventPort::bind_interdomain(*a.events, DomainId(c.id), unbound->port());
        ASSERT_TRUE(r.ok());
        *peer = std::move(*r);
        hv.deliver();
    }
    rec.got.clear();
    {
        cpu::IrqGuard irqs_off;
        {
            FakeHypervisor::As as_a(hv, a.id);
            ASSERT_TRUE(peer->send().ok());  // flagged on vCPU 0, not yet taken
        }
        ASSERT_TRUE(unbound->bind_vcpu(1).ok());
    }
    hv.deliver();
    EXPECT_EQ(rec.got, (std::vector<std::pair<unsigned, unsigned>>{{unbound->port().raw(), 1}}));
    EXPECT_EQ(*c.events->vcpu_of(unbound->port()), 1u);
}

// --- ping-pong between two domains ---

namespace {

struct Player {
    EventChannels* events = nullptr;
    std::atomic<int> seen{0};
    int rounds = 0;
    // Answers on the port it was called for: the handler may run before the
    // factory that binds the port has returned.
    static void on(void* c, Port port)
    {
        auto* p = static_cast<Player*>(c);
        if (p->seen.fetch_add(1) < p->rounds) (void)p->events->send(port);
    }
};

// Sets up A's unbound port and B's binding to it, each with `handler`s.
void connect(FakeHypervisor& hv, SdkGuest& a, SdkGuest& b, Held<EventPort>& pa, Held<EventPort>& pb,
             EventHandler ha, EventHandler hb)
{
    {
        FakeHypervisor::As as(hv, a.id);
        auto r = EventPort::alloc_unbound(*a.events, DomainId(b.id), ha);
        ASSERT_TRUE(r.ok());
        *pa = std::move(*r);
    }
    FakeHypervisor::As as(hv, b.id);
    auto r = EventPort::bind_interdomain(*b.events, DomainId(a.id), pa->port(), hb);
    ASSERT_TRUE(r.ok());
    *pb = std::move(*r);
}

} // namespace

TEST_F(SdkEventPingPong, HandlersBounceTheEvent)
{
    constexpr int kRounds = 500;
    Player pa, pb;
    pa.events = a.events.get();
    pb.events = b.events.get();
    pa.rounds = kRounds;
    pb.rounds = kRounds + 1;  // B's first event is the bind's
    Held<EventPort> porta{hv, a.id}, portb{hv, b.id};
    connect(hv, a, b, porta, portb, {&Player::on, &pa}, {&Player::on, &pb});
    // B's handler served on the bind's event, inside connect(); deliver() plays the rest.
    hv.deliver();
    EXPECT_EQ(pa.seen.load(), kRounds + 1);
    EXPECT_EQ(pb.seen.load(), kRounds + 1);
}

TEST_F(SdkEventPingPong, TwoThreadsWaitingOnGenerationsLoseNoWakeUp)
{
    // Each domain on its own thread sends, then waits for the answer with
    // generation + wait() (SCHEDOP_poll underneath). A lost wake-up would
    // show as a sleep that ends by the fake's safety limit.
    constexpr int kRounds = 1000;
    std::atomic<int> got_a{0}, got_b{0};
    auto count = [](void* c, Port) { static_cast<std::atomic<int>*>(c)->fetch_add(1); };
    Held<EventPort> pa{hv, a.id}, pb{hv, b.id};
    connect(hv, a, b, pa, pb, {count, &got_a}, {count, &got_b});
    hv.deliver();  // the bind's event
    got_b = 0;

    auto player = [&](std::uint16_t dom, EventPort& port, std::atomic<int>& got, bool serves) {
        FakeHypervisor::As as(hv, dom);
        for (int i = 0; i < kRounds; ++i) {
            if (serves) {
                ASSERT_TRUE(port.send().ok());
            }
            for (;;) {
                const std::uint32_t g = port.generation();
                if (got.load() > i) break;
                ASSERT_TRUE(port.wait(g).ok());
            }
            if (!serves) {
                ASSERT_TRUE(port.send().ok());
            }
        }
    };
    std::thread ta(player, a.id, std::ref(*pa), std::ref(got_a), true);
    std::thread tb(player, b.id, std::ref(*pb), std::ref(got_b), false);
    ta.join();
    tb.join();
    EXPECT_EQ(got_a.load(), kRounds);
    EXPECT_EQ(got_b.load(), kRounds);
    EXPECT_EQ(hv.sleep_timeouts(), 0u);
}

// --- waiting ---

TEST_F(SdkEventWait, AnEventAfterTheSnapshotMakesWaitReturnAtOnce)
{
    Held<EventPort> pa{hv, a.id}, pb{hv, b.id};
    connect(hv, a, b, pa, pb, {}, {});
    hv.deliver();
    FakeHypervisor::As as(hv, b.id);
    const std::uint32_t g = pb->generation();
    {
        FakeHypervisor::As as_a(hv, a.id);
        ASSERT_TRUE(pa->send().ok());
    }
    hv.deliver();  // the handler ran before we got to wait
    EXPECT_NE(pb->generation(), g);
    const unsigned sleeps = hv.sleeps();
    EXPECT_TRUE(pb->wait(g).ok());
    EXPECT_EQ(hv.sleeps(), sleeps) << "no sleep: the generation had moved";
}

namespace {

struct Sender {
    FakeHypervisor* hv;
    std::uint16_t dom;
    EventPort* port;
    static void send(void* c)
    {
        auto* s = static_cast<Sender*>(c);
        FakeHypervisor::As as(*s->hv, s->dom);
        (void)s->port->send();
    }
};

} // namespace

TEST_F(SdkEventWait, WaitSleepsUntilTheEventArrives)
{
    Held<EventPort> pa{hv, a.id}, pb{hv, b.id};
    connect(hv, a, b, pa, pb, {}, {});
    hv.deliver();
    Sender sender{&hv, a.id, &*pa};
    hv.set_block_hook(&Sender::send, &sender);  // while B sleeps, A sends
    FakeHypervisor::As as(hv, b.id);
    const std::uint32_t g = pb->generation();
    ASSERT_TRUE(pb->wait(g).ok());
    EXPECT_EQ(pb->generation(), g + 1);
    EXPECT_EQ(hv.sleeps(), 1u);
    EXPECT_EQ(hv.sleep_timeouts(), 0u);
    hv.set_block_hook(nullptr, nullptr);
}

namespace {

// The poll wait, with the peer's event landing between the waiter's
// generation check and its poll (interrupt raised, not yet taken).
struct LateEvent {
    Sender sender;
    static Status block(void* c, Port port, const std::uint32_t& generation, std::uint32_t seen)
    {
        Sender::send(&static_cast<LateEvent*>(c)->sender);
        return poll_wait_hooks().block(nullptr, port, generation, seen);
    }
};

} // namespace

TEST_F(SdkEventWait, AnEventBetweenCheckAndPollIsNotLost)
{
    Held<EventPort> pa{hv, a.id}, pb{hv, b.id};
    connect(hv, a, b, pa, pb, {}, {});
    hv.deliver();
    LateEvent late{{&hv, a.id, &*pa}};
    b.events->set_wait_hooks({&LateEvent::block, nullptr, &late});
    FakeHypervisor::As as(hv, b.id);
    const std::uint32_t g = pb->generation();
    ASSERT_TRUE(pb->wait(g).ok());
    EXPECT_EQ(pb->generation(), g + 1);
    EXPECT_EQ(hv.sleeps(), 0u) << "the poll saw the port pending and did not sleep";
    EXPECT_EQ(hv.sleep_timeouts(), 0u);
    b.events->set_wait_hooks(poll_wait_hooks());
}

TEST_F(SdkEventWait, IdleWaitUsesWfi)
{
    Held<EventPort> pa{hv, a.id}, pb{hv, b.id};
    connect(hv, a, b, pa, pb, {}, {});
    hv.deliver();
    b.events->set_wait_hooks(idle_wait_hooks());
    Sender sender{&hv, a.id, &*pa};
    hv.set_block_hook(&Sender::send, &sender);
    FakeHypervisor::As as(hv, b.id);
    const std::uint32_t g = pb->generation();
    const auto polls = hv.sched_ops(SCHEDOP_poll);
    ASSERT_TRUE(pb->wait(g).ok());
    EXPECT_EQ(pb->generation(), g + 1);
    EXPECT_EQ(hv.sched_ops(SCHEDOP_poll), polls);
    EXPECT_EQ(hv.sleeps(), 1u);
    EXPECT_EQ(hv.sleep_timeouts(), 0u);
    hv.set_block_hook(nullptr, nullptr);
}

TEST_F(SdkEventWait, ClosingAPortEndsItsWaits)
{
    FakeHypervisor::As as(hv, a.id);
    auto p = EventPort::bind_ipi(*a.events, 0);
    ASSERT_TRUE(p.ok());
    const Port port = p->port();
    const std::uint32_t g = p->generation();
    ASSERT_TRUE(p->close().ok());
    EXPECT_TRUE(a.events->wait(port, g).ok()) << "the close moved the generation";
    EXPECT_EQ(err(a.events->wait(port, a.events->generation(port))), Errno::XEN_EINVAL);
}

namespace {

// A scheduler's hooks: block on a condition variable, woken from the handler.
struct MiniScheduler {
    std::mutex mu;
    std::condition_variable cv;
    std::atomic<unsigned> wakes{0};
    static Status block(void* c, Port, const std::uint32_t& generation, std::uint32_t seen)
    {
        auto* s = static_cast<MiniScheduler*>(c);
        std::unique_lock<std::mutex> lk(s->mu);
        // Re-checked under the lock wake() takes: the wake cannot slip in between.
        s->cv.wait(lk, [&] { return __atomic_load_n(&generation, __ATOMIC_ACQUIRE) != seen; });
        return {};
    }
    static void wake(void* c, Port)
    {
        auto* s = static_cast<MiniScheduler*>(c);
        ++s->wakes;
        std::lock_guard<std::mutex> g(s->mu);
        s->cv.notify_all();
    }
};

} // namespace

TEST_F(SdkEventWait, SchedulerHooksWakeABlockedThread)
{
    MiniScheduler sched;
    b.events->set_wait_hooks({&MiniScheduler::block, &MiniScheduler::wake, &sched});
    Held<EventPort> pa{hv, a.id}, pb{hv, b.id};
    connect(hv, a, b, pa, pb, {}, {});
    hv.deliver();
    const std::uint32_t g = pb->generation();
    // The waiting thread is a thread of B's scheduler: it makes no hypercall.
    std::thread waiter([&] { EXPECT_TRUE(pb->wait(g).ok()); });
    {
        FakeHypervisor::As as(hv, a.id);
        ASSERT_TRUE(pa->send().ok());
    }
    hv.deliver();  // B's vCPU takes the interrupt; the handler's wake hook wakes the thread
    waiter.join();
    EXPECT_EQ(pb->generation(), g + 1);
    EXPECT_GE(sched.wakes.load(), 1u);
}
