// Hostile guests: any port, domid, vCPU or VIRQ; operations in any order; and a
// random operation loop across domains that checks the port tables stay
// consistent and no domain's action shows up anywhere it should not.
#include "evtchn/event_channel_op.hpp"

#include "evtchn_test_support.hpp"

#include <cstring>
#include <random>
#include <thread>

using namespace keel;
using namespace keel::evtchn;
using namespace keel::evtchn::test;

namespace {

struct EvtchnHostileTest : EvtchnFixture {
    Dom d0 = add_domain(0, 0, 2);
    Dom d1 = add_domain(1, 1, 2);
    Dom d2 = add_domain(2, 2, 3);
    Dom d3 = add_domain(3, 7, 1);
};

constexpr long EINVAL_ = -static_cast<long>(Errno::XEN_EINVAL);

const std::uint32_t kHostilePorts[] = {0, 1, 63, 64, 1023, 1024, 4095, 4096, 0x7fffffff, 0x80000000u, 0xffffffffu};
const std::uint32_t kHostileVcpus[] = {0, 1, 2, 3, 7, 8, 255, 0xffff, 0x10000, 0x7fffffff, 0xffffffffu};
const domid_t kHostileDomids[] = {0, 1, 2, 7, 9, DOMID_SELF, DOMID_IO, DOMID_XEN, DOMID_INVALID, DOMID_IDLE, 0xffff};

} // namespace

TEST_F(EvtchnHostileTest, AnyPortOnAnEmptyDomainIsEinvalOrHarmless)
{
    for (std::uint32_t p : kHostilePorts) {
        EXPECT_EQ(close(d1.id, p), EINVAL_) << p;
        EXPECT_EQ(send(d1.id, p), EINVAL_) << p;
        EXPECT_EQ(bind_vcpu(d1.id, p, 0), EINVAL_) << p;
        const long u = unmask(d1.id, p);
        EXPECT_TRUE(u == 0 ? p < 64 : u == EINVAL_) << p;
        EXPECT_EQ(bind_interdomain(d2.id, 1, p), EINVAL_) << p;
    }
    EXPECT_EQ(host.upcall_count(), 0u);
    EXPECT_EQ(check_invariants(host), "");
}

TEST_F(EvtchnHostileTest, AnyVcpuAndVirq)
{
    for (std::uint32_t v : kHostileVcpus) {
        const long ipi = bind_ipi(d1.id, v);
        EXPECT_TRUE(v < 2 ? ipi > 0 : ipi == -long(Errno::XEN_ENOENT)) << v;
        for (std::uint32_t virq : {0u, 1u, 2u, 13u, 16u, 23u, 24u, 0xffffffffu}) {
            const long r = bind_virq(d1.id, virq, v);
            if (r > 0) {
                EXPECT_TRUE(virq < NR_VIRQS && v < 2);
            }
            EXPECT_FALSE(ec.raise_virq(d1.id, virq, v) && virq >= NR_VIRQS);
        }
    }
    EXPECT_EQ(check_invariants(host), "");
}

TEST_F(EvtchnHostileTest, AnyDomidNeverActsOnAnotherDomainWithoutPrivilege)
{
    for (domid_t dom : kHostileDomids)
        EXPECT_LT(bind_interdomain(d1.id, dom, 1), 0) << "nothing waits for d1 yet: " << dom;
    for (domid_t dom : kHostileDomids) {
        const long a = alloc_unbound(d1.id, dom, dom);
        EXPECT_TRUE(a > 0 ? (dom == 1 || dom == DOMID_SELF) : true) << dom;
        if (dom != 1 && dom != DOMID_SELF) {
            EXPECT_LT(status(d1.id, dom, 1).first, 0) << dom;
            EXPECT_LT(ec.reset(d1.id, evtchn_reset{dom}).as_xen_ret(), 0) << dom;
        }
    }
    for (unsigned i = 0; i < FakeHost::kDomains; ++i) {
        if (host.domains[i].id() == d1.id) continue;
        for (evtchn_port_t p = 1; p < 64; ++p) EXPECT_EQ(host.domains[i].channel(p).state, ChannelState::Free);
    }
}

TEST_F(EvtchnHostileTest, SendingOnAnotherDomainsPortNumberUsesOnlyYourOwnTable)
{
    const long ipi2 = bind_ipi(d2.id, 0);  // d2's port 1
    ASSERT_EQ(ipi2, 1);
    EXPECT_EQ(send(d1.id, 1), EINVAL_) << "d1's port 1 is closed; d2's is not reachable";
    EXPECT_FALSE(pending(d2, 1));
    EXPECT_EQ(close(d1.id, 1), EINVAL_);
    EXPECT_EQ(d2.ed->channel(1).state, ChannelState::Ipi);
    EXPECT_EQ(unmask(d1.id, 1), 0);
    EXPECT_EQ(bind_vcpu(d1.id, 1, 1), EINVAL_);
}

TEST_F(EvtchnHostileTest, DispatcherCopiesInAndOutLikeXen)
{
    struct Ram final : xen::GuestMemory {
        unsigned char bytes[4096] = {};
        bool in(IpAddr a, std::size_t n) const { return a.raw() >= 0x1000 && a.raw() + n <= 0x2000 && a.raw() + n >= a.raw(); }
        Status read(IpAddr src, void* dst, std::size_t n) override
        {
            if (!in(src, n)) return Err(Errno::XEN_EFAULT);
            std::memcpy(dst, bytes + (src.raw() - 0x1000), n);
            return {};
        }
        Status write(IpAddr dst, const void* src, std::size_t n) override
        {
            if (!in(dst, n) || read_only) return Err(Errno::XEN_EFAULT);
            std::memcpy(bytes + (dst.raw() - 0x1000), src, n);
            return {};
        }
        bool read_only = false;
    } ram;
    const IpAddr arg{0x1000};
    auto put = [&](const auto& op) { std::memcpy(ram.bytes, &op, sizeof op); };

    evtchn_alloc_unbound au{};
    au.dom = DOMID_SELF;
    au.remote_dom = 2;
    put(au);
    ASSERT_EQ(event_channel_op(ec, d1.id, EVTCHNOP_alloc_unbound, arg, ram), 0);
    std::memcpy(&au, ram.bytes, sizeof au);
    EXPECT_EQ(au.port, 1u);

    EXPECT_EQ(event_channel_op(ec, d1.id, EVTCHNOP_alloc_unbound, IpAddr{0x1ffc}, ram), -long(Errno::XEN_EFAULT));
    EXPECT_EQ(event_channel_op(ec, d1.id, EVTCHNOP_send, IpAddr{0}, ram), -long(Errno::XEN_EFAULT));
    EXPECT_EQ(event_channel_op(ec, d1.id, EVTCHNOP_init_control, arg, ram), -long(Errno::XEN_ENOSYS)) << "no FIFO: Linux falls back to 2-level";
    EXPECT_EQ(event_channel_op(ec, d1.id, EVTCHNOP_expand_array, arg, ram), -long(Errno::XEN_ENOSYS));
    EXPECT_EQ(event_channel_op(ec, d1.id, 0xffffffffu, arg, ram), -long(Errno::XEN_ENOSYS));

    // Errors leave the guest's struct alone.
    evtchn_bind_virq bv{};
    bv.virq = 99;
    bv.port = 0x1234;
    put(bv);
    EXPECT_EQ(event_channel_op(ec, d1.id, EVTCHNOP_bind_virq, arg, ram), EINVAL_);
    std::memcpy(&bv, ram.bytes, sizeof bv);
    EXPECT_EQ(bv.port, 0x1234u);

    // A write-back that faults is EFAULT, but the port is allocated (Xen: "cleaning up would be a mess").
    evtchn_bind_ipi bi{};
    put(bi);
    ram.read_only = true;
    EXPECT_EQ(event_channel_op(ec, d1.id, EVTCHNOP_bind_ipi, arg, ram), -long(Errno::XEN_EFAULT));
    ram.read_only = false;
    EXPECT_EQ(d1.ed->channel(2).state, ChannelState::Ipi);

    evtchn_reset rs{DOMID_SELF};
    put(rs);
    EXPECT_EQ(event_channel_op(ec, d1.id, kEvtchnopResetCont, arg, ram), -long(Errno::XEN_EBUSY));
    EXPECT_EQ(event_channel_op(ec, d1.id, EVTCHNOP_reset, arg, ram), 0);
    EXPECT_EQ(d1.ed->channel(2).state, ChannelState::Free);
}

TEST_F(EvtchnHostileTest, RandomOperationsKeepTheTablesConsistent)
{
    std::mt19937 rng(12345);
    auto pick = [&](auto const& arr) { return arr[rng() % (sizeof arr / sizeof arr[0])]; };
    const Dom doms[] = {d0, d1, d2, d3};
    auto port = [&]() -> std::uint32_t { return rng() % 4 == 0 ? pick(kHostilePorts) : rng() % 80; };
    auto domid = [&]() -> domid_t { return rng() % 4 == 0 ? pick(kHostileDomids) : doms[rng() % 4].id.raw(); };
    auto vcpu = [&]() -> std::uint32_t { return rng() % 5 == 0 ? pick(kHostileVcpus) : rng() % 3; };

    constexpr int kOps = 200000;
    for (int i = 0; i < kOps; ++i) {
        const Dom& me = doms[rng() % 4];
        switch (rng() % 13) {
        case 0: (void)alloc_unbound(me.id, rng() % 2 ? DOMID_SELF : domid(), domid()); break;
        case 1: (void)bind_interdomain(me.id, domid(), port()); break;
        case 2: (void)bind_virq(me.id, rng() % 26, vcpu()); break;
        case 3: (void)bind_ipi(me.id, vcpu()); break;
        case 4:
        case 5: (void)close(me.id, port()); break;
        case 6:
        case 7: (void)send(me.id, port()); break;
        case 8: (void)bind_vcpu(me.id, port(), vcpu()); break;
        case 9: (void)unmask(me.id, port()); break;
        case 10: (void)status(me.id, domid(), port()); break;
        case 11: (void)ec.raise_virq(me.id, rng() % 26, vcpu()); break;
        case 12:
            // The guest side: mask/unmask bits and drain, as a busy guest would.
            if (rng() % 2) mask(me, port() % kPortCapacity);
            (void)guest_drain(*me.shared, *me.ed->vcpu_info(rng() % me.ed->nr_vcpus()));
            break;
        }
        if (i % 50000 == 49999 && rng() % 2) {
            // Now and then a whole domain resets itself.
            (void)ec.reset(me.id, evtchn_reset{DOMID_SELF});
        }
        if (i % 97 == 0) {
            const std::string bad = check_invariants(host);
            ASSERT_EQ(bad, "") << "after op " << i;
        }
    }
    EXPECT_EQ(check_invariants(host), "");
    for (auto& [dom, v] : host.upcalls) {
        bool known = false;
        for (const Dom& d : doms)
            if (d.id.raw() == dom && v < d.ed->nr_vcpus()) known = true;
        ASSERT_TRUE(known) << "upcall to dom " << dom << " vcpu " << v;
    }
}

TEST_F(EvtchnHostileTest, DyingDomainInTheMiddleOfRandomTraffic)
{
    std::mt19937 rng(777);
    for (int round = 0; round < 50; ++round) {
        // Random interdomain web between d1, d2 and d3.
        const Dom ds[] = {d1, d2, d3};
        for (int i = 0; i < 40; ++i) {
            const Dom& a = ds[rng() % 3];
            const Dom& b = ds[rng() % 3];
            const long p = alloc_unbound(a.id, DOMID_SELF, b.id.raw());
            if (p > 0 && rng() % 4) (void)bind_interdomain(b.id, a.id.raw(), p);
        }
        ec.close_all_for_dead_domain(*d2.ed);
        ASSERT_EQ(check_invariants(host), "");
        for (evtchn_port_t p = 1; p < d1.ed->valid_ports(); ++p) {
            const Channel c = d1.ed->channel(p);
            ASSERT_FALSE(c.state == ChannelState::Interdomain && c.peer == d2.ed);
        }
        // d2 comes back as a new incarnation; everyone else resets.
        (void)d2.ed->init(d2.id, d2.shared, 3);
        std::memset(d2.shared, 0, sizeof(SharedInfo));
        (void)ec.reset(d1.id, evtchn_reset{DOMID_SELF});
        (void)ec.reset(d3.id, evtchn_reset{DOMID_SELF});
        ASSERT_EQ(check_invariants(host), "");
    }
}

TEST_F(EvtchnHostileTest, CloseAndRebindWhileThePeerSends)
{
    // One thread sends as fast as it can on d1's end; another keeps closing and
    // re-binding d2's end (and sometimes d1 resets). Nothing may crash, every
    // send answers 0 or EINVAL, and the tables stay consistent.
    const long p1 = alloc_unbound(d1.id, DOMID_SELF, 2);
    ASSERT_GT(bind_interdomain(d2.id, 1, p1), 0);
    std::atomic<bool> stop{false};
    std::atomic<long> bad{0};
    std::thread sender([&] {
        while (!stop) {
            const long r = send(d1.id, p1);
            if (r != 0 && r != EINVAL_) ++bad;
            (void)guest_drain(*d2.shared, d2.shared->vcpu_info[0]);
        }
    });
    std::thread binder([&] {
        for (int i = 0; i < 20000; ++i) {
            const Channel c = d1.ed->channel(p1);
            if (c.state == ChannelState::Interdomain) (void)close(d2.id, c.remote_port);
            else if (c.state == ChannelState::Unbound) (void)bind_interdomain(d2.id, 1, p1);
            (void)bind_vcpu(d2.id, 1 + i % 3, i % 3);
        }
        stop = true;
    });
    sender.join();
    binder.join();
    EXPECT_EQ(bad.load(), 0);
    EXPECT_EQ(check_invariants(host), "");
}

TEST_F(EvtchnHostileTest, DeathWhilePeersSend)
{
    for (int round = 0; round < 200; ++round) {
        const long p = alloc_unbound(d1.id, DOMID_SELF, 2);
        const long q = bind_interdomain(d2.id, 1, p);
        ASSERT_GT(q, 0);
        std::atomic<bool> stop{false};
        std::thread sender([&] {
            while (!stop) (void)send(d1.id, p);
        });
        ec.close_all_for_dead_domain(*d2.ed);
        stop = true;
        sender.join();
        ASSERT_EQ(check_invariants(host), "");
        ASSERT_EQ(d1.ed->channel(p).state, ChannelState::Unbound);
        (void)close(d1.id, p);
        (void)d2.ed->init(d2.id, d2.shared, 3);
        std::memset(d2.shared, 0, sizeof(SharedInfo));
    }
}
