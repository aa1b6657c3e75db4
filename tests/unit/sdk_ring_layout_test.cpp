// SharedRing<Req, Rsp> against ring.h's DEFINE_RING_TYPES compiled as C
// (sdk_ring_layout.c), for the real PV protocols and the test protocol: every
// field offset, the entry size and alignment, and the slot count for one page
// and for multi-page rings; and SHARED_RING_INIT's bytes.
#include "sdk_ring_test_support.hpp"

#include <xen/io/blkif.h>
#include <xen/io/netif.h>

#include <cstddef>
#include <cstring>

using namespace keel::guest;
using namespace keel::guest::ring_test;

namespace {

template <typename Req, typename Rsp>
keel_ring_layout cpp_layout()
{
    using S = SharedRing<Req, Rsp>;
    keel_ring_layout l{};
    l.sring_size = sizeof(S);
    l.req_prod = offsetof(S, req_prod);
    l.req_event = offsetof(S, req_event);
    l.rsp_prod = offsetof(S, rsp_prod);
    l.rsp_event = offsetof(S, rsp_event);
    l.pvt = offsetof(S, pvt);
    l.pvt_size = sizeof(SharedRingPrivate);
    l.pad = offsetof(S, pad);
    l.pad_size = sizeof(S::pad);
    l.ring = S::entries_offset();
    l.entry_size = sizeof(typename S::Entry);
    l.entry_align = alignof(typename S::Entry);
    l.ring_size_page = S::entries_for_bytes(kRingPageSize);
    for (unsigned o = 0; o < KEEL_RING_LAYOUT_ORDERS; ++o) l.const_ring_size[o] = S::entries_for_order(o);
    return l;
}

struct Protocol {
    const char* name;
    keel_ring_protocol c;
    keel_ring_layout (*cpp)();
};

const Protocol kProtocols[] = {
    {"blkif", KEEL_RING_BLKIF, cpp_layout<blkif_request, blkif_response>},
    {"netif_tx", KEEL_RING_NETIF_TX, cpp_layout<netif_tx_request, netif_tx_response>},
    {"netif_rx", KEEL_RING_NETIF_RX, cpp_layout<netif_rx_request, netif_rx_response>},
    {"xen_netif_ctrl", KEEL_RING_NETIF_CTRL, cpp_layout<xen_netif_ctrl_request, xen_netif_ctrl_response>},
    {"test", KEEL_RING_TEST, cpp_layout<TestReq, TestRsp>},
};

} // namespace

TEST(RingLayout, SharedRingMatchesRingHCompiledAsC)
{
    for (const Protocol& p : kProtocols) {
        SCOPED_TRACE(p.name);
        keel_ring_layout c{};
        keel_ring_c_layout(p.c, &c);
        const keel_ring_layout cpp = p.cpp();
        EXPECT_EQ(cpp.sring_size, c.sring_size);
        EXPECT_EQ(cpp.req_prod, c.req_prod);
        EXPECT_EQ(cpp.req_event, c.req_event);
        EXPECT_EQ(cpp.rsp_prod, c.rsp_prod);
        EXPECT_EQ(cpp.rsp_event, c.rsp_event);
        EXPECT_EQ(cpp.pvt, c.pvt);
        EXPECT_EQ(cpp.pvt_size, c.pvt_size);
        EXPECT_EQ(cpp.pad, c.pad);
        EXPECT_EQ(cpp.pad_size, c.pad_size);
        EXPECT_EQ(cpp.ring, c.ring);
        EXPECT_EQ(cpp.entry_size, c.entry_size);
        EXPECT_EQ(cpp.entry_align, c.entry_align);
        EXPECT_EQ(cpp.ring_size_page, c.ring_size_page);
        for (unsigned o = 0; o < KEEL_RING_LAYOUT_ORDERS; ++o)
            EXPECT_EQ(cpp.const_ring_size[o], c.const_ring_size[o]) << "order " << o;
    }
}

TEST(RingLayout, NumbersAsMeasured)
{
    // The sring header is 64 bytes for every protocol: 4 indices, pvt[4], __pad[44].
    keel_ring_layout c{};
    keel_ring_c_layout(KEEL_RING_BLKIF, &c);
    EXPECT_EQ(c.pvt, 16u);
    EXPECT_EQ(c.pad, 20u);
    EXPECT_EQ(c.ring, 64u);
    EXPECT_EQ(c.entry_size, 112u);
    EXPECT_EQ(c.ring_size_page, 32u);  // 4032 / 112 = 36, rounded down
    using Blk = SharedRing<blkif_request, blkif_response>;
    EXPECT_EQ(Blk::entries_for_order(0), 32u);
    EXPECT_EQ(Blk::entries_for_order(1), 64u);  // 8128 / 112 = 72
    EXPECT_EQ(Blk::entries_for_order(4), 512u);
    EXPECT_EQ((SharedRing<netif_tx_request, netif_tx_response>::entries_for_order(0)), 256u);  // 4032 / 12 = 336
    EXPECT_EQ((SharedRing<netif_rx_request, netif_rx_response>::entries_for_order(0)), 256u);  // 4032 / 8 = 504
    EXPECT_EQ(TestShared::entries_for_order(0), 8u);   // 4032 / 496
    EXPECT_EQ(TestShared::entries_for_order(2), 32u);  // 16320 / 496 = 32.9
}

TEST(RingLayout, SlotCountsAreRd32)
{
    EXPECT_EQ(ring_detail::round_down_pow2(0), 0u);
    EXPECT_EQ(ring_detail::round_down_pow2(1), 1u);
    EXPECT_EQ(ring_detail::round_down_pow2(2), 2u);
    EXPECT_EQ(ring_detail::round_down_pow2(3), 2u);
    EXPECT_EQ(ring_detail::round_down_pow2(36), 32u);
    EXPECT_EQ(ring_detail::round_down_pow2(0x80000000u), 0x80000000u);
    EXPECT_EQ(ring_detail::round_down_pow2(0xffffffffu), 0x80000000u);
    EXPECT_EQ(TestShared::entries_for_bytes(63), 0u);
    EXPECT_EQ(TestShared::entries_for_bytes(64 + 495), 0u);
    EXPECT_EQ(TestShared::entries_for_bytes(64 + 496), 1u);
    EXPECT_EQ(TestShared::entries_for_order(kMaxRingPageOrder + 1), 0u);
}

TEST(RingLayout, InitWritesWhatSharedRingInitWrites)
{
    RingMemory c_page(0, 0xa5), cpp_page(0, 0xa5);
    keel_ring_c_shared_init(c_page.data());
    cpp_page.ring()->init();
    EXPECT_EQ(std::memcmp(c_page.data(), cpp_page.data(), c_page.bytes()), 0);
    EXPECT_EQ(cpp_page.ring()->req_event, 1u);
    EXPECT_EQ(cpp_page.ring()->rsp_event, 1u);
    EXPECT_EQ(cpp_page.data()[TestShared::entries_offset()], 0xa5);  // slots are left alone

    // FrontRing::init is SHARED_RING_INIT plus the front end.
    RingMemory front_page(0, 0xa5);
    auto front = TestFront::init(front_page.ring());
    ASSERT_TRUE(front.ok());
    EXPECT_EQ(std::memcmp(c_page.data(), front_page.data(), c_page.bytes()), 0);
}
