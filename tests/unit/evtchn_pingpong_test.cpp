// Two domains bounce an event back and forth over one interdomain channel, each
// side consuming with the guest's 2-level handler, as a frontend and backend do.
#include "evtchn_test_support.hpp"

#include <thread>

using namespace keel;
using namespace keel::evtchn;
using namespace keel::evtchn::test;

namespace {

struct EvtchnPingPongTest : EvtchnFixture {
    Dom front = add_domain(0, 1, 1);
    Dom back = add_domain(1, 2, 2);
};

} // namespace

TEST_F(EvtchnPingPongTest, EachSendIsOneEventAndOneUpcall)
{
    // The frontend offers a port to the backend, which binds it (xenbus style).
    const long fport = alloc_unbound(front.id, DOMID_SELF, back.id.raw());
    ASSERT_GT(fport, 0);
    const long bport = bind_interdomain(back.id, front.id.raw(), fport);
    ASSERT_GT(bport, 0);
    // The bind left one event on the backend's port; it drains it first.
    EXPECT_EQ(guest_drain(*back.shared, back.shared->vcpu_info[0]), (std::vector<evtchn_port_t>{evtchn_port_t(bport)}));
    host.clear_upcalls();

    constexpr int kRounds = 1000;
    for (int i = 0; i < kRounds; ++i) {
        ASSERT_EQ(send(front.id, fport), 0);
        ASSERT_EQ(host.upcalls_to(back.id.raw(), 0), std::size_t(i + 1));
        ASSERT_EQ(guest_drain(*back.shared, back.shared->vcpu_info[0]), (std::vector<evtchn_port_t>{evtchn_port_t(bport)}));

        ASSERT_EQ(send(back.id, bport), 0);
        ASSERT_EQ(host.upcalls_to(front.id.raw(), 0), std::size_t(i + 1));
        ASSERT_EQ(guest_drain(*front.shared, front.shared->vcpu_info[0]), (std::vector<evtchn_port_t>{evtchn_port_t(fport)}));
    }
    EXPECT_EQ(host.upcall_count(), std::size_t(2 * kRounds));
}

TEST_F(EvtchnPingPongTest, EventsCoalesceUntilTheGuestConsumes)
{
    const long fport = alloc_unbound(front.id, DOMID_SELF, back.id.raw());
    const long bport = bind_interdomain(back.id, front.id.raw(), fport);
    (void)guest_drain(*back.shared, back.shared->vcpu_info[0]);
    host.clear_upcalls();
    for (int i = 0; i < 10; ++i) ASSERT_EQ(send(front.id, fport), 0);
    EXPECT_EQ(host.upcalls_to(back.id.raw(), 0), 1u) << "a pending port is not re-signalled";
    EXPECT_EQ(guest_drain(*back.shared, back.shared->vcpu_info[0]).size(), 1u);
    (void)bport;
}

TEST_F(EvtchnPingPongTest, BackendMovesTheChannelToItsSecondVcpu)
{
    const long fport = alloc_unbound(front.id, DOMID_SELF, back.id.raw());
    const long bport = bind_interdomain(back.id, front.id.raw(), fport);
    (void)guest_drain(*back.shared, back.shared->vcpu_info[0]);
    alignas(64) static VcpuInfo v1;
    ASSERT_TRUE(ec.register_vcpu_info(back.id, 1, &v1).ok());
    (void)guest_drain(*back.shared, v1);
    ASSERT_EQ(bind_vcpu(back.id, bport, 1), 0);
    host.clear_upcalls();
    ASSERT_EQ(send(front.id, fport), 0);
    EXPECT_EQ(host.upcalls_to(back.id.raw(), 1), 1u);
    EXPECT_EQ(host.upcalls_to(back.id.raw(), 0), 0u);
    EXPECT_EQ(guest_drain(*back.shared, v1), (std::vector<evtchn_port_t>{evtchn_port_t(bport)}));
}

TEST_F(EvtchnPingPongTest, ConcurrentPingPongLosesNoWakeUp)
{
    // Each side runs on its own thread and only sends again once it has seen the
    // other's event, so a lost event would hang (caught by the round limit).
    const long fport = alloc_unbound(front.id, DOMID_SELF, back.id.raw());
    const long bport = bind_interdomain(back.id, front.id.raw(), fport);
    (void)guest_drain(*back.shared, back.shared->vcpu_info[0]);

    constexpr int kRounds = 2000;
    std::atomic<bool> failed{false};
    auto side = [&](Dom me, evtchn_port_t mine, bool starts) {
        int seen = 0, spins = 0;
        if (starts && send(me.id, mine) != 0) failed = true;
        while (seen < kRounds && !failed) {
            auto got = guest_drain(*me.shared, me.shared->vcpu_info[0]);
            if (got.empty()) {
                if (++spins > 50'000'000) failed = true;
                std::this_thread::yield();
                continue;
            }
            spins = 0;
            seen += int(got.size());
            if ((!starts || seen < kRounds) && send(me.id, mine) != 0) failed = true;
        }
    };
    std::thread a(side, front, evtchn_port_t(fport), true);
    std::thread b(side, back, evtchn_port_t(bport), false);
    a.join();
    b.join();
    EXPECT_FALSE(failed.load());
}
