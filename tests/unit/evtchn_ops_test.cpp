// EVTCHNOP_* state machines and Xen 4.17's answers (xen/common/event_channel.c).
#include "evtchn_test_support.hpp"

#include <cstring>

using namespace keel;
using namespace keel::evtchn;
using namespace keel::evtchn::test;

namespace {

struct EvtchnOpsTest : EvtchnFixture {
    Dom d0 = add_domain(0, 0, 2);   // privileged
    Dom d1 = add_domain(1, 1, 2);
    Dom d2 = add_domain(2, 2, 1);
};

constexpr long EINVAL_ = -static_cast<long>(Errno::XEN_EINVAL);
constexpr long ESRCH_ = -static_cast<long>(Errno::XEN_ESRCH);
constexpr long EPERM_ = -static_cast<long>(Errno::XEN_EPERM);
constexpr long ENOENT_ = -static_cast<long>(Errno::XEN_ENOENT);
constexpr long EEXIST_ = -static_cast<long>(Errno::XEN_EEXIST);
constexpr long ENOSPC_ = -static_cast<long>(Errno::XEN_ENOSPC);
constexpr long EBUSY_ = -static_cast<long>(Errno::XEN_EBUSY);

} // namespace

TEST_F(EvtchnOpsTest, PortsAreHandedOutLowestFirstFromOne)
{
    EXPECT_EQ(alloc_unbound(d1.id, DOMID_SELF, 2), 1) << "port 0 is reserved";
    EXPECT_EQ(bind_ipi(d1.id, 0), 2);
    EXPECT_EQ(close(d1.id, 1), 0);
    EXPECT_EQ(bind_ipi(d1.id, 1), 1) << "a freed port is reused first";
}

TEST_F(EvtchnOpsTest, AllocUnboundResolvesDomidSelfAndRecordsTheRemote)
{
    const long p = alloc_unbound(d1.id, DOMID_SELF, DOMID_SELF);
    ASSERT_GT(p, 0);
    auto [rc, st] = status(d1.id, DOMID_SELF, p);
    ASSERT_EQ(rc, 0);
    EXPECT_EQ(st.status, unsigned(EVTCHNSTAT_unbound));
    EXPECT_EQ(st.u.unbound.dom, 1) << "remote DOMID_SELF means the caller";
    EXPECT_EQ(st.vcpu, 0u);

    EXPECT_GT(alloc_unbound(d1.id, 1, 2), 0) << "own id works like DOMID_SELF";
    EXPECT_EQ(alloc_unbound(d1.id, 1, 0x7000), ESRCH_) << "a remote that does not exist: ESRCH, as Debian's Xen 4.17 (SILO) answers";
}

TEST_F(EvtchnOpsTest, AllocUnboundForAnotherDomainNeedsPrivilege)
{
    EXPECT_EQ(alloc_unbound(d1.id, 2, 1), EPERM_);
    EXPECT_EQ(alloc_unbound(d1.id, 9, 1), ESRCH_) << "no such domain";
    const long p = alloc_unbound(d0.id, 2, DOMID_SELF);
    ASSERT_GT(p, 0) << "dom0 may allocate in dom2";
    auto [rc, st] = status(d2.id, DOMID_SELF, p);
    ASSERT_EQ(rc, 0);
    EXPECT_EQ(st.u.unbound.dom, 0) << "DOMID_SELF remote is the caller (dom0), not the target";
}

TEST_F(EvtchnOpsTest, BindInterdomainJoinsBothEndsAndNotifiesTheBinder)
{
    const long rp = alloc_unbound(d1.id, DOMID_SELF, 2);
    ASSERT_GT(rp, 0);
    const long lp = bind_interdomain(d2.id, 1, rp);
    ASSERT_GT(lp, 0);

    auto [rc1, s1] = status(d1.id, DOMID_SELF, rp);
    EXPECT_EQ(s1.status, unsigned(EVTCHNSTAT_interdomain));
    EXPECT_EQ(s1.u.interdomain.dom, 2);
    EXPECT_EQ(s1.u.interdomain.port, unsigned(lp));
    auto [rc2, s2] = status(d2.id, DOMID_SELF, lp);
    EXPECT_EQ(s2.u.interdomain.dom, 1);
    EXPECT_EQ(s2.u.interdomain.port, unsigned(rp));

    EXPECT_TRUE(pending(d2, lp)) << "sends to the unbound end were dropped, so the binder gets one event";
    EXPECT_FALSE(pending(d1, rp));
    EXPECT_EQ(host.upcalls_to(2, 0), 1u);
}

TEST_F(EvtchnOpsTest, BindInterdomainRefusesPortsNotWaitingForTheCaller)
{
    const long for_d0 = alloc_unbound(d1.id, DOMID_SELF, 0);
    EXPECT_EQ(bind_interdomain(d2.id, 1, for_d0), EINVAL_) << "waiting for someone else";
    EXPECT_EQ(bind_interdomain(d2.id, 1, 0), EINVAL_) << "reserved port";
    EXPECT_EQ(bind_interdomain(d2.id, 1, 40), EINVAL_) << "free port";
    EXPECT_EQ(bind_interdomain(d2.id, 1, 5000), EINVAL_) << "beyond the table";
    EXPECT_EQ(bind_interdomain(d2.id, 9, 1), ESRCH_);
    const long ipi = bind_ipi(d1.id, 0);
    EXPECT_EQ(bind_interdomain(d2.id, 1, ipi), EINVAL_) << "not unbound";

    const long p = alloc_unbound(d1.id, DOMID_SELF, 2);
    ASSERT_GT(bind_interdomain(d2.id, 1, p), 0);
    EXPECT_EQ(bind_interdomain(d2.id, 1, p), EINVAL_) << "already bound";
    for (evtchn_port_t q = 1; q < 64; ++q) {
        const Channel c = d2.ed->channel(q);
        EXPECT_TRUE(c.state == ChannelState::Free || c.state == ChannelState::Interdomain) << "failed binds leave no port behind";
    }
}

TEST_F(EvtchnOpsTest, LoopbackInterdomainWithinOneDomain)
{
    const long a = alloc_unbound(d1.id, DOMID_SELF, DOMID_SELF);
    const long b = bind_interdomain(d1.id, DOMID_SELF, a);
    ASSERT_GT(b, 0);
    EXPECT_EQ(send(d1.id, a), 0);
    EXPECT_TRUE(pending(d1, b));
    EXPECT_EQ(close(d1.id, b), 0);
    auto [rc, st] = status(d1.id, DOMID_SELF, a);
    EXPECT_EQ(st.status, unsigned(EVTCHNSTAT_unbound));
    EXPECT_EQ(st.u.unbound.dom, 1);
}

TEST_F(EvtchnOpsTest, SendFollowsTheBindingAndToleratesUnbound)
{
    const long rp = alloc_unbound(d1.id, DOMID_SELF, 2);
    EXPECT_EQ(send(d1.id, rp), 0) << "unbound: silently dropped";
    EXPECT_FALSE(pending(d1, rp));
    const long lp = bind_interdomain(d2.id, 1, rp);
    host.clear_upcalls();

    EXPECT_EQ(send(d1.id, rp), 0);
    EXPECT_TRUE(pending(d2, lp)) << "pending on the peer's port";
    EXPECT_FALSE(pending(d1, rp));

    const long ipi = bind_ipi(d1.id, 1);
    EXPECT_EQ(send(d1.id, ipi), 0);
    EXPECT_TRUE(pending(d1, ipi));
    EXPECT_EQ(host.upcalls_to(1, 1), 1u) << "IPI goes to its vCPU";

    const long virq = bind_virq(d1.id, VIRQ_TIMER, 0);
    EXPECT_EQ(send(d1.id, virq), EINVAL_) << "cannot send on a VIRQ";
    EXPECT_EQ(send(d1.id, 0), EINVAL_);
    EXPECT_EQ(send(d1.id, 50), EINVAL_) << "closed";
    EXPECT_EQ(send(d1.id, 100), EINVAL_) << "beyond the valid buckets";
}

TEST_F(EvtchnOpsTest, CloseTurnsThePeerBackToUnboundAndCanBeRebound)
{
    const long rp = alloc_unbound(d1.id, DOMID_SELF, 2);
    const long lp = bind_interdomain(d2.id, 1, rp);
    EXPECT_EQ(close(d2.id, lp), 0);
    EXPECT_FALSE(pending(d2, lp)) << "freeing clears the pending bit";
    auto [rc, st] = status(d1.id, DOMID_SELF, rp);
    EXPECT_EQ(st.status, unsigned(EVTCHNSTAT_unbound));
    EXPECT_EQ(st.u.unbound.dom, 2) << "waiting for the closer again";
    EXPECT_EQ(close(d2.id, lp), EINVAL_) << "double close";
    EXPECT_EQ(send(d1.id, rp), 0) << "the survivor sends into the void";
    EXPECT_GT(bind_interdomain(d2.id, 1, rp), 0) << "and the closer may come back";
}

TEST_F(EvtchnOpsTest, CloseAnswersEinvalForReservedFreeAndHugePorts)
{
    EXPECT_EQ(close(d1.id, 0), EINVAL_);
    EXPECT_EQ(close(d1.id, 3), EINVAL_);
    EXPECT_EQ(close(d1.id, 0xffffffffu), EINVAL_);
}

TEST_F(EvtchnOpsTest, BindVirqChecksInXensOrder)
{
    EXPECT_EQ(bind_virq(d1.id, NR_VIRQS, 0), EINVAL_);
    EXPECT_EQ(bind_virq(d1.id, 0xffffffffu, 0), EINVAL_);
    EXPECT_EQ(bind_virq(d1.id, VIRQ_CONSOLE, 1), EINVAL_) << "global VIRQ on vCPU 1";
    EXPECT_EQ(bind_virq(d1.id, VIRQ_CONSOLE, 7), EINVAL_) << "global check comes before the vCPU check";
    EXPECT_EQ(bind_virq(d1.id, VIRQ_TIMER, 2), ENOENT_) << "d1 has 2 vCPUs";
    EXPECT_EQ(bind_virq(d1.id, VIRQ_TIMER, 0xffffffffu), ENOENT_);

    const long t0 = bind_virq(d1.id, VIRQ_TIMER, 0);
    const long t1 = bind_virq(d1.id, VIRQ_TIMER, 1);
    ASSERT_GT(t0, 0);
    ASSERT_GT(t1, 0);
    EXPECT_EQ(bind_virq(d1.id, VIRQ_TIMER, 1), EEXIST_);
    const long g = bind_virq(d1.id, VIRQ_ARCH_0, 0);
    EXPECT_GT(g, 0) << "VIRQ_ARCH_* are global on Arm";
    EXPECT_EQ(bind_virq(d1.id, VIRQ_ARCH_0, 0), EEXIST_);

    auto [rc, st] = status(d1.id, DOMID_SELF, t1);
    EXPECT_EQ(st.status, unsigned(EVTCHNSTAT_virq));
    EXPECT_EQ(st.u.virq, unsigned(VIRQ_TIMER));
    EXPECT_EQ(st.vcpu, 1u);

    EXPECT_EQ(close(d1.id, t1), 0);
    EXPECT_EQ(bind_virq(d1.id, VIRQ_TIMER, 1), t1) << "closing unbinds: the VIRQ can be bound again";
}

TEST_F(EvtchnOpsTest, RaiseVirqDeliversPerVcpuAndGlobalOnes)
{
    const long t1 = bind_virq(d1.id, VIRQ_TIMER, 1);
    EXPECT_TRUE(ec.raise_virq(d1.id, VIRQ_TIMER, 1));
    EXPECT_TRUE(pending(d1, t1));
    EXPECT_EQ(host.upcalls_to(1, 1), 1u);
    EXPECT_FALSE(ec.raise_virq(d1.id, VIRQ_TIMER, 0)) << "not bound on vCPU 0: dropped";
    EXPECT_FALSE(ec.raise_virq(d1.id, VIRQ_TIMER, 5));
    EXPECT_FALSE(ec.raise_virq(d1.id, 99, 0));
    EXPECT_FALSE(ec.raise_virq(DomainId{9}, VIRQ_TIMER, 0));

    const long g = bind_virq(d1.id, VIRQ_DOM_EXC, 0);
    ASSERT_EQ(bind_vcpu(d1.id, g, 1), 0) << "global VIRQs can move";
    host.clear_upcalls();
    EXPECT_TRUE(ec.raise_virq(d1.id, VIRQ_DOM_EXC, 0));
    EXPECT_TRUE(pending(d1, g));
    EXPECT_EQ(host.upcalls_to(1, 1), 0u) << "vCPU 1's upcall flag is still set from the timer";
    d1.ed->vcpu_info(1)->evtchn_upcall_pending = 0;
    d1.ed->vcpu_info(1)->evtchn_pending_sel = 0;
    d1.shared->evtchn_pending[0] = 0;
    EXPECT_TRUE(ec.raise_virq(d1.id, VIRQ_DOM_EXC, 1));
    EXPECT_EQ(host.upcalls_to(1, 1), 1u) << "delivered to the vCPU it was moved to";
    EXPECT_EQ(close(d1.id, g), 0) << "closing a moved global VIRQ finds its vCPU-0 record";
    EXPECT_EQ(d1.ed->virq_port(0, VIRQ_DOM_EXC), 0u);
}

TEST_F(EvtchnOpsTest, BindIpiAndBindVcpu)
{
    EXPECT_EQ(bind_ipi(d1.id, 2), ENOENT_);
    const long ipi = bind_ipi(d1.id, 1);
    auto [rc, st] = status(d1.id, DOMID_SELF, ipi);
    EXPECT_EQ(st.status, unsigned(EVTCHNSTAT_ipi));
    EXPECT_EQ(st.vcpu, 1u);

    EXPECT_EQ(bind_vcpu(d1.id, ipi, 0), EINVAL_) << "IPIs stay on their vCPU";
    const long t = bind_virq(d1.id, VIRQ_TIMER, 0);
    EXPECT_EQ(bind_vcpu(d1.id, t, 1), EINVAL_) << "per-vCPU VIRQ";
    const long u = alloc_unbound(d1.id, DOMID_SELF, 2);
    EXPECT_EQ(bind_vcpu(d1.id, u, 1), 0);
    EXPECT_EQ(bind_vcpu(d1.id, u, 2), ENOENT_);
    EXPECT_EQ(bind_vcpu(d1.id, 999, 2), ENOENT_) << "the vCPU is checked before the port";
    EXPECT_EQ(bind_vcpu(d1.id, 999, 0), EINVAL_);
    EXPECT_EQ(bind_vcpu(d1.id, 0, 0), EINVAL_) << "reserved";

    // The unbound port's vCPU survives the bind, and events follow it.
    const long lp = bind_interdomain(d2.id, 1, u);
    ASSERT_GT(lp, 0);
    host.clear_upcalls();
    EXPECT_EQ(send(d2.id, lp), 0);
    EXPECT_EQ(host.upcalls_to(1, 1), 1u);
    EXPECT_EQ(close(d1.id, u), 0);
    EXPECT_EQ(bind_ipi(d1.id, 0), u) << "reused port";
    auto [rc2, st2] = status(d1.id, DOMID_SELF, u);
    EXPECT_EQ(st2.vcpu, 0u);
}

TEST_F(EvtchnOpsTest, StatusChecksDomainThenPortThenPermission)
{
    EXPECT_EQ(status(d1.id, 9, 1).first, ESRCH_);
    EXPECT_EQ(status(d1.id, 2, 9999).first, EINVAL_) << "port validity is checked before XSM";
    EXPECT_EQ(status(d1.id, 2, 1).first, EPERM_);
    EXPECT_EQ(status(d0.id, 2, 1).first, 0) << "dom0 may look";
    auto [rc, st] = status(d1.id, DOMID_SELF, 0);
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(st.status, unsigned(EVTCHNSTAT_closed)) << "reserved reads as closed";
    EXPECT_EQ(status(d1.id, DOMID_SELF, 63).first, 0) << "inside the first bucket";
    EXPECT_EQ(status(d1.id, DOMID_SELF, 64).first, EINVAL_) << "beyond it";
}

TEST_F(EvtchnOpsTest, StatusLeavesTheOtherUnionBytesAsPassed)
{
    const long ipi = bind_ipi(d1.id, 0);
    evtchn_status op{};
    op.dom = DOMID_SELF;
    op.port = ipi;
    op.u.interdomain.port = 0xdeadbeef;
    ASSERT_TRUE(ec.status(d1.id, op).ok());
    EXPECT_EQ(op.u.interdomain.port, 0xdeadbeefu) << "Xen writes only the fields of the state it reports";
}

TEST_F(EvtchnOpsTest, UnmaskRedeliversAndIgnoresClosedPorts)
{
    const long ipi = bind_ipi(d1.id, 0);
    mask(d1, ipi);
    EXPECT_EQ(send(d1.id, ipi), 0);
    EXPECT_TRUE(pending(d1, ipi));
    EXPECT_EQ(host.upcalls_to(1, 0), 0u) << "masked";
    EXPECT_EQ(unmask(d1.id, ipi), 0);
    EXPECT_FALSE(masked(d1, ipi));
    EXPECT_EQ(host.upcalls_to(1, 0), 1u);

    mask(d1, 40);
    EXPECT_EQ(unmask(d1.id, 40), 0) << "closed but valid port: success";
    EXPECT_TRUE(masked(d1, 40)) << "and its mask bit is left alone";
    EXPECT_EQ(unmask(d1.id, 64), EINVAL_);
}

TEST_F(EvtchnOpsTest, PortTableGrowsByBucketsUpToMaxPort)
{
    EXPECT_EQ(d1.ed->valid_ports(), 64u);
    for (long want = 1; want < 64; ++want) ASSERT_EQ(bind_ipi(d1.id, 0), want);
    EXPECT_EQ(bind_ipi(d1.id, 0), 64);
    EXPECT_EQ(d1.ed->valid_ports(), 128u);
    EXPECT_EQ(status(d1.id, DOMID_SELF, 127).first, 0);
    for (long want = 65; want < 1024; ++want) ASSERT_EQ(bind_ipi(d1.id, 0), want);
    EXPECT_EQ(bind_ipi(d1.id, 0), ENOSPC_);
    EXPECT_EQ(alloc_unbound(d1.id, DOMID_SELF, 0), ENOSPC_);
    EXPECT_EQ(close(d1.id, 500), 0);
    EXPECT_EQ(bind_ipi(d1.id, 0), 500);
}

TEST_F(EvtchnOpsTest, AFullTargetAnswersEnospcBeforeEperm)
{
    Dom small = add_domain(3, 3, 1, /*max_port=*/3);
    for (int i = 0; i < 3; ++i) ASSERT_GT(bind_ipi(small.id, 0), 0);
    EXPECT_EQ(bind_ipi(small.id, 0), ENOSPC_) << "max_port 3: ports 1..3 only";
    EXPECT_EQ(alloc_unbound(d1.id, 3, 1), ENOSPC_) << "Xen finds the port before asking XSM";
    EXPECT_EQ(small.ed->valid_ports(), 64u);
}

TEST_F(EvtchnOpsTest, ResetClosesEverythingAndUnbindsPeers)
{
    const long rp = alloc_unbound(d1.id, DOMID_SELF, 2);
    const long lp = bind_interdomain(d2.id, 1, rp);
    (void)bind_virq(d1.id, VIRQ_TIMER, 1);
    (void)bind_ipi(d1.id, 0);
    EXPECT_EQ(ec.reset(d1.id, evtchn_reset{DOMID_SELF}).as_xen_ret(), 0);
    for (evtchn_port_t p = 1; p < 64; ++p) EXPECT_EQ(d1.ed->channel(p).state, ChannelState::Free);
    EXPECT_EQ(d1.ed->virq_port(1, VIRQ_TIMER), 0u);
    auto [rc, st] = status(d2.id, DOMID_SELF, lp);
    EXPECT_EQ(st.status, unsigned(EVTCHNSTAT_unbound));
    EXPECT_EQ(st.u.unbound.dom, 1);

    EXPECT_EQ(ec.reset(d1.id, evtchn_reset{2}).as_xen_ret(), EPERM_);
    EXPECT_EQ(ec.reset(d0.id, evtchn_reset{2}).as_xen_ret(), EINVAL_) << "dom0 would need dom2 paused";
    EXPECT_EQ(ec.reset(d1.id, evtchn_reset{9}).as_xen_ret(), ESRCH_);
    EXPECT_EQ(ec.reset(d1.id, evtchn_reset{DOMID_SELF}, /*resuming=*/true).as_xen_ret(), EBUSY_)
        << "reset_cont without a reset in progress";
    EXPECT_EQ(check_invariants(host), "");
}

TEST_F(EvtchnOpsTest, BindPirqIsNotSupportedOnArm)
{
    evtchn_bind_pirq op{};
    EXPECT_EQ(ec.bind_pirq(d1.id, op).error(), Errno::XEN_EOPNOTSUPP);
}

TEST_F(EvtchnOpsTest, SetPriorityIsEnosysOnValidPortsOnly)
{
    EXPECT_EQ(ec.set_priority(d1.id, evtchn_set_priority{1, 3}).error(), Errno::XEN_ENOSYS);
    EXPECT_EQ(ec.set_priority(d1.id, evtchn_set_priority{64, 3}).error(), Errno::XEN_EINVAL);
}

TEST_F(EvtchnOpsTest, RegisterVcpuInfoMovesDeliveryWithoutLosingEvents)
{
    alignas(64) static VcpuInfo mine[2];
    std::memset(mine, 0xAB, sizeof mine);
    const long ipi = bind_ipi(d1.id, 0);
    ASSERT_EQ(send(d1.id, ipi), 0);
    host.clear_upcalls();

    // vCPU 0: the shared_info copy is carried over, then everything is flagged.
    ASSERT_TRUE(ec.register_vcpu_info(d1.id, 0, &mine[0]).ok());
    EXPECT_EQ(mine[0].evtchn_pending_sel, ~0ull);
    EXPECT_EQ(mine[0].evtchn_upcall_pending, 1);
    EXPECT_EQ(host.upcalls_to(1, 0), 0u) << "the flag was already set in the copied state";
    EXPECT_EQ(d1.ed->vcpu_info(0), &mine[0]);
    EXPECT_EQ(ec.register_vcpu_info(d1.id, 0, &mine[0]).error(), Errno::XEN_EINVAL) << "only once";

    // vCPU 1 had only the placeholder: its new vcpu_info starts from zero.
    ASSERT_TRUE(ec.register_vcpu_info(d1.id, 1, &mine[1]).ok());
    EXPECT_EQ(mine[1].pad0, 0);
    EXPECT_EQ(mine[1].time.version, 0u);
    EXPECT_EQ(mine[1].evtchn_upcall_pending, 1);
    EXPECT_EQ(host.upcalls_to(1, 1), 1u) << "a spurious upcall makes the guest rescan";

    EXPECT_EQ(ec.register_vcpu_info(d1.id, 2, &mine[1]).error(), Errno::XEN_ENOENT);

    // Delivery now lands in the registered vcpu_info.
    auto drained = guest_drain(*d1.shared, mine[0]);
    EXPECT_EQ(drained, (std::vector<evtchn_port_t>{evtchn_port_t(ipi)}));
    host.clear_upcalls();
    d1.shared->vcpu_info[0].evtchn_pending_sel = 0;
    d1.shared->vcpu_info[0].evtchn_upcall_pending = 0;
    ASSERT_EQ(send(d1.id, ipi), 0);
    EXPECT_EQ(mine[0].evtchn_pending_sel, 1ull);
    EXPECT_EQ(host.upcalls_to(1, 0), 1u);
    EXPECT_EQ(d1.shared->vcpu_info[0].evtchn_pending_sel, 0u) << "shared_info's copy is no longer used";
    EXPECT_EQ(d1.shared->vcpu_info[0].evtchn_upcall_pending, 0);
}

TEST_F(EvtchnOpsTest, DeadDomainReleasesItsPortsAndItsPeersWaitAgain)
{
    const long a = alloc_unbound(d1.id, DOMID_SELF, 2);
    const long b = bind_interdomain(d2.id, 1, a);
    const long c = alloc_unbound(d0.id, DOMID_SELF, 1);
    const long cc = bind_interdomain(d1.id, 0, c);
    (void)bind_virq(d1.id, VIRQ_TIMER, 0);
    ASSERT_GT(cc, 0);

    ec.close_all_for_dead_domain(*d1.ed);
    EXPECT_TRUE(d1.ed->dying());
    EXPECT_EQ(d1.ed->shared_info(), nullptr) << "no pointer into the dead domain's memory survives";
    EXPECT_NE(d1.ed->vcpu_info(0), &d1.shared->vcpu_info[0]);
    EXPECT_FALSE(d1.ed->upcall_pending(0));
    for (evtchn_port_t p = 1; p < 64; ++p) EXPECT_EQ(d1.ed->channel(p).state, ChannelState::Free);
    auto [r2, s2] = status(d2.id, DOMID_SELF, b);
    EXPECT_EQ(s2.status, unsigned(EVTCHNSTAT_unbound));
    EXPECT_EQ(s2.u.unbound.dom, 1);
    auto [r0, s0] = status(d0.id, DOMID_SELF, c);
    EXPECT_EQ(s0.status, unsigned(EVTCHNSTAT_unbound));
    EXPECT_EQ(send(d2.id, b), 0) << "peers may still send: into the void";

    // While the host still finds it, the dying domain gets no new ports and cannot be bound to.
    EXPECT_EQ(bind_ipi(d1.id, 0), EINVAL_);
    EXPECT_EQ(alloc_unbound(d0.id, 1, 0), EINVAL_);
    EXPECT_EQ(bind_interdomain(d2.id, 1, a), EINVAL_);
    EXPECT_EQ(check_invariants(host), "");

    // The slot is reused for a new domain.
    host.present[1] = false;
    EXPECT_EQ(bind_interdomain(d2.id, 1, a), ESRCH_);
    Dom d5 = add_domain(1, 5, 1);
    EXPECT_EQ(bind_interdomain(d5.id, 2, b), EINVAL_) << "d2's port waits for domain 1, not 5";
    EXPECT_EQ(check_invariants(host), "");
}

TEST_F(EvtchnOpsTest, SendWakesPollersEvenOnAMaskedPort)
{
    // SCHEDOP_poll waits on ports the guest keeps masked: no upcall, but the poller must wake
    // (Xen's evtchn_check_pollers), or a vCPU polling for its peer sleeps forever.
    const long rp = alloc_unbound(d1.id, DOMID_SELF, 2);
    ASSERT_GT(rp, 0);
    const long lp = bind_interdomain(d2.id, 1, rp);
    ASSERT_GT(lp, 0);
    d1.shared->evtchn_mask[rp / 64] |= 1ull << (rp % 64);
    host.clear_upcalls();
    const std::size_t before = host.pollers_woken_in(1);
    evtchn_send s{static_cast<evtchn_port_t>(lp)};
    ASSERT_TRUE(ec.send(d2.id, s).ok());
    EXPECT_TRUE(pending(d1, rp));
    EXPECT_EQ(host.upcalls_to(1, 0), 0u) << "masked: no upcall";
    EXPECT_EQ(host.pollers_woken_in(1), before + 1) << "but the pollers are told";
}
