// The C API (keel/guest/c_api.h) over the same objects, with a guest
// written in C (sdk_c_api_guest.c) and C++ playing the peer.
#include "sdk_test_support.hpp"

#include <keel/guest/c_api.h>

#include <cstring>

using namespace keel;
using namespace keel::guest;
using namespace keel::sdk_test;

extern "C" {
size_t keel_c_sizeof_port_slot(void);
size_t keel_c_sizeof_grant_slot(void);
size_t keel_c_sizeof_grant_copy(void);
size_t keel_c_sizeof_events_storage(void);
size_t keel_c_sizeof_grant_table_storage(void);
void keel_c_guest_ipi(keel_events* ev, unsigned* hits, int results[4]);
int keel_c_guest_grant(keel_grant_table* table, uint16_t peer, uint64_t gfn, uint32_t* ref);
}

namespace {

constexpr int kEinval = -static_cast<int>(Errno::XEN_EINVAL);
constexpr int kEbusy = -static_cast<int>(Errno::XEN_EBUSY);

struct SdkCApi : ::testing::Test {
    SdkCApi()
    {
        hv.add_domain({.id = 1});
        hv.add_domain({.id = 2});
        FakeHypervisor::As as(hv, 1);
        auto s = map_shared_info(hv.hole_frame(1, kSharedInfoHole));
        EXPECT_TRUE(s.ok());
        ev = keel_events_init(&ev_storage, *s, slots, 64);
        hv.set_irq_handler(1, [](void* e, unsigned vcpu) { keel_events_handle_upcall(static_cast<keel_events*>(e), vcpu); },
                           ev);
        const keel_frame f{hv.hole_frame(1, kGrantHoles).gfn.raw(), hv.hole_frame(1, kGrantHoles).va};
        int error = 1;
        table = keel_grant_table_init(&gt_storage, &f, 1, gslots, 512, &error);
        EXPECT_EQ(error, 0);
    }

    FakeHypervisor hv;
    keel_events_storage ev_storage;
    keel_port_slot slots[64];
    keel_events* ev = nullptr;
    keel_grant_table_storage gt_storage;
    keel_grant_slot gslots[512];
    keel_grant_table* table = nullptr;
};

struct Released {
    std::vector<std::uint64_t> frames;
    static void on(void* c, std::uint64_t gfn) { static_cast<Released*>(c)->frames.push_back(gfn); }
};

} // namespace

TEST_F(SdkCApi, CAndCppAgreeOnTheTypes)
{
    EXPECT_EQ(keel_c_sizeof_port_slot(), sizeof(keel_port_slot));
    EXPECT_EQ(keel_c_sizeof_grant_slot(), sizeof(keel_grant_slot));
    EXPECT_EQ(keel_c_sizeof_grant_copy(), sizeof(keel_grant_copy));
    EXPECT_EQ(keel_c_sizeof_events_storage(), sizeof(keel_events_storage));
    EXPECT_EQ(keel_c_sizeof_grant_table_storage(), sizeof(keel_grant_table_storage));
}

TEST_F(SdkCApi, CGuestBindsSendsAndClosesOnce)
{
    ASSERT_NE(ev, nullptr);
    FakeHypervisor::As as(hv, 1);
    unsigned hits = 0;
    int r[4];
    keel_c_guest_ipi(ev, &hits, r);
    EXPECT_EQ(r[0], 0);
    EXPECT_EQ(r[1], 0);
    EXPECT_EQ(hits, 1u) << "the C handler ran, through the trampoline";
    EXPECT_EQ(r[2], 0);
    EXPECT_EQ(r[3], kEinval) << "a second close never reaches the hypervisor";
    EXPECT_EQ(hv.evtchn_ops(EVTCHNOP_close), 1u);
}

TEST_F(SdkCApi, InterdomainPortWithGenerationWait)
{
    FakeHypervisor::As as(hv, 1);
    uint32_t port = 0;
    ASSERT_EQ(keel_evtchn_alloc_unbound(ev, 2, nullptr, nullptr, &port), 0);
    {
        FakeHypervisor::As as_b(hv, 2);
        auto p = evtchnop_bind_interdomain(DomainId(1), Port(port));
        ASSERT_TRUE(p.ok());
        const uint32_t g = keel_evtchn_generation(ev, port);
        ASSERT_TRUE(evtchnop_send(*p).ok());
        hv.deliver();
        EXPECT_EQ(keel_evtchn_wait(ev, port, g), 0) << "the event came after the snapshot";
        ASSERT_TRUE(evtchnop_close(*p).ok());
    }
    EXPECT_EQ(keel_evtchn_mask(ev, port), 0);
    EXPECT_EQ(keel_evtchn_unmask(ev, port), 0);
    EXPECT_EQ(keel_evtchn_bind_vcpu(ev, port, 0), 0);
    EXPECT_EQ(keel_evtchn_close(ev, port), 0);
    EXPECT_EQ(keel_evtchn_send(ev, port), kEinval);
    EXPECT_EQ(keel_evtchn_bind_ipi(ev, 5, nullptr, nullptr, &port), -static_cast<int>(Errno::XEN_ENOENT));
}

TEST_F(SdkCApi, GrantsMapsCopiesAndDeferredEnds)
{
    ASSERT_NE(table, nullptr);
    const GuestFrame page = hv.ram_frame(1, 0);
    std::strcpy(static_cast<char*>(page.va), "C granted");
    uint32_t ref = 0;
    {
        FakeHypervisor::As as(hv, 1);
        ASSERT_EQ(keel_c_guest_grant(table, 2, page.gfn.raw(), &ref), 0);
    }
    const GuestFrame hole = hv.hole_frame(2, kMappingHoles);
    const keel_frame at{hole.gfn.raw(), hole.va};
    uint32_t handle = 0;
    {
        FakeHypervisor::As as(hv, 2);
        EXPECT_EQ(keel_grant_map(1, ref, at, 0, &handle), -static_cast<int>(Errno::XEN_EIO)) << "read-only grant";
        ASSERT_EQ(keel_grant_map(1, ref, at, 1, &handle), 0);
        EXPECT_STREQ(static_cast<const char*>(hole.va), "C granted");
        keel_grant_copy ops[2];
        const GuestFrame mine = hv.ram_frame(2, 0);
        keel_grant_copy_from(&ops[0], 1, ref, 2, mine.gfn.raw(), 0, 8);
        keel_grant_copy_to(&ops[1], mine.gfn.raw(), 0, 1, ref, 0, 8);
        EXPECT_EQ(keel_grant_copy_run(ops, 2), 0);
        EXPECT_EQ(keel_grant_copy_result(&ops[0]), 0);
        EXPECT_EQ(keel_grant_copy_result(&ops[1]), -static_cast<int>(Errno::XEN_EIO)) << "read-only grant";
        EXPECT_STREQ(static_cast<const char*>(mine.va), "granted");
    }
    Released released;
    {
        FakeHypervisor::As as(hv, 1);
        EXPECT_EQ(keel_grant_end(table, ref), kEbusy);
        EXPECT_EQ(keel_grant_end_or_defer(table, ref, &Released::on, &released), kEbusy);
        EXPECT_EQ(keel_grant_pending_revokes(table), 1u);
        EXPECT_EQ(keel_grant_end_or_defer(table, ref, nullptr, nullptr), kEinval) << "already handed over";
        EXPECT_EQ(keel_grant_reclaim(table), 0u);
    }
    {
        FakeHypervisor::As as(hv, 2);
        EXPECT_EQ(keel_grant_unmap(at, handle), 0);
        EXPECT_EQ(keel_grant_unmap(at, handle), -static_cast<int>(Errno::XEN_EBADF)) << "GNTST_bad_handle";
    }
    FakeHypervisor::As as(hv, 1);
    EXPECT_EQ(keel_grant_reclaim(table), 1u);
    EXPECT_EQ(released.frames, std::vector<std::uint64_t>{page.gfn.raw()});
}
