// FrontRing and BackRing one call at a time: what each does to the indices,
// flow control, batching and notification suppression, multi-page rings,
// wrap-around at 2^32, and the errors of a misused or detached end.
#include "sdk_ring_test_support.hpp"

#include <cstdint>

using namespace keel;
using namespace keel::guest;
using namespace keel::guest::ring_test;

namespace {

struct RingApiTest : ::testing::Test {
    RingMemory mem;
    TestShared* s = mem.ring();
    TestFront front = [this] {
        auto r = TestFront::init(s);
        EXPECT_TRUE(r.ok());
        return static_cast<TestFront&&>(*r);
    }();
    TestBack back = back_at(s, 0);

    // Front sends n requests (seq from `seq`), back takes and answers them all.
    void round_trip(std::uint64_t seq, unsigned n)
    {
        for (unsigned i = 0; i < n; ++i) ASSERT_TRUE(front.produce_request(make_request(seq + i)).ok());
        front.push_requests();
        for (unsigned i = 0; i < n; ++i) {
            TestReq req;
            ASSERT_TRUE(take_ok(back.take_request(req)));
            ASSERT_EQ(req.seq, seq + i);
            ASSERT_TRUE(request_intact(req));
            ASSERT_TRUE(back.produce_response(make_response(req)).ok());
        }
        back.push_responses();
        for (unsigned i = 0; i < n; ++i) {
            TestRsp rsp;
            ASSERT_TRUE(take_ok(front.take_response(rsp)));
            ASSERT_EQ(rsp.seq, seq + i);
            ASSERT_TRUE(response_intact(rsp));
        }
        TestRsp none;
        ASSERT_FALSE(take_ok(front.take_response(none)));
    }
};

} // namespace

TEST_F(RingApiTest, InitialState)
{
    EXPECT_EQ(s->req_prod, 0u);
    EXPECT_EQ(s->req_event, 1u);
    EXPECT_EQ(s->rsp_prod, 0u);
    EXPECT_EQ(s->rsp_event, 1u);
    EXPECT_EQ(front.size(), 8u);
    EXPECT_EQ(back.size(), 8u);
    EXPECT_EQ(front.error(), Errno::OK);
    EXPECT_EQ(front.free_requests(), 8u);
    EXPECT_FALSE(front.full());
    EXPECT_EQ(take_ok(front.unconsumed_responses()), 0u);
    EXPECT_EQ(take_ok(back.unconsumed_requests()), 0u);
    EXPECT_EQ(back.owed_responses(), 0u);
}

TEST_F(RingApiTest, RequestsAreInvisibleUntilPushed)
{
    ASSERT_TRUE(front.produce_request(make_request(1)).ok());
    EXPECT_EQ(front.req_prod_pvt(), 1u);
    EXPECT_EQ(s->req_prod, 0u);
    EXPECT_EQ(take_ok(back.unconsumed_requests()), 0u);
    TestReq req;
    EXPECT_FALSE(take_ok(back.take_request(req)));
    front.push_requests();
    EXPECT_EQ(s->req_prod, 1u);
    EXPECT_EQ(take_ok(back.unconsumed_requests()), 1u);
    EXPECT_TRUE(take_ok(back.take_request(req)));
    EXPECT_EQ(req.seq, 1u);
    EXPECT_EQ(back.req_cons(), 1u);
    EXPECT_EQ(back.owed_responses(), 1u);
}

TEST_F(RingApiTest, FullRingRefusesRequestsUntilResponsesAreTaken)
{
    for (unsigned i = 0; i < 8; ++i) {
        EXPECT_EQ(front.free_requests(), 8u - i);
        ASSERT_TRUE(front.produce_request(make_request(i)).ok());
    }
    EXPECT_TRUE(front.full());
    EXPECT_EQ(front.produce_request(make_request(99)).error(), Errno::XEN_EAGAIN);
    front.push_requests();

    // Answered but not yet taken by the front: the slots are still not free.
    TestReq req;
    for (unsigned i = 0; i < 8; ++i) {
        ASSERT_TRUE(take_ok(back.take_request(req)));
        ASSERT_TRUE(back.produce_response(make_response(req)).ok());
    }
    back.push_responses();
    EXPECT_TRUE(front.full());

    TestRsp rsp;
    ASSERT_TRUE(take_ok(front.take_response(rsp)));
    EXPECT_EQ(rsp.seq, 0u);
    EXPECT_EQ(front.free_requests(), 1u);
    EXPECT_TRUE(front.produce_request(make_request(8)).ok());
    EXPECT_TRUE(front.full());
}

TEST_F(RingApiTest, ResponsesOnlyForTakenRequests)
{
    EXPECT_EQ(back.produce_response(TestRsp{}).error(), Errno::XEN_EINVAL);
    ASSERT_TRUE(front.produce_request(make_request(5)).ok());
    front.push_requests();
    EXPECT_EQ(back.produce_response(TestRsp{}).error(), Errno::XEN_EINVAL);  // published, not taken
    TestReq req;
    ASSERT_TRUE(take_ok(back.take_request(req)));
    EXPECT_TRUE(back.produce_response(make_response(req)).ok());
    EXPECT_EQ(back.produce_response(make_response(req)).error(), Errno::XEN_EINVAL);
    EXPECT_EQ(back.error(), Errno::OK);  // a local misuse, not a peer's protocol error
}

TEST_F(RingApiTest, ResponsesGoIntoTheRequestsSlots)
{
    ASSERT_TRUE(front.produce_request(make_request(7)).ok());
    front.push_requests();
    TestReq req;
    ASSERT_TRUE(take_ok(back.take_request(req)));
    ASSERT_TRUE(back.produce_response(make_response(req)).ok());
    EXPECT_EQ(s->entry(0).rsp.seq, 7u);
    EXPECT_EQ(s->rsp_prod, 0u);
    back.push_responses();
    EXPECT_EQ(s->rsp_prod, 1u);
}

TEST_F(RingApiTest, BatchIsPublishedAtOnceAndNotifiedOnce)
{
    // The back end starts asleep at req_event = 1: the first batch notifies.
    for (unsigned i = 0; i < 5; ++i) ASSERT_TRUE(front.produce_request(make_request(i)).ok());
    EXPECT_TRUE(front.push_requests_and_check_notify());
    EXPECT_EQ(s->req_prod, 5u);
    // The back end has not slept since: no event for the next batch.
    ASSERT_TRUE(front.produce_request(make_request(5)).ok());
    EXPECT_FALSE(front.push_requests_and_check_notify());
    // Nothing new: pushing again never notifies.
    EXPECT_FALSE(front.push_requests_and_check_notify());
    EXPECT_EQ(take_ok(back.unconsumed_requests()), 6u);
}

TEST_F(RingApiTest, FinalCheckAsksForTheNextEvent)
{
    TestReq req;
    EXPECT_FALSE(take_ok(back.final_check_for_requests()));
    EXPECT_EQ(s->req_event, 1u);  // req_cons + 1
    round_trip(0, 3);
    EXPECT_FALSE(take_ok(back.final_check_for_requests()));
    EXPECT_EQ(s->req_event, 4u);
    EXPECT_FALSE(take_ok(front.final_check_for_responses()));
    EXPECT_EQ(s->rsp_event, 4u);

    // With work pending the final check says so and leaves the event alone.
    ASSERT_TRUE(front.produce_request(make_request(3)).ok());
    EXPECT_TRUE(front.push_requests_and_check_notify());  // crosses req_event = 4
    ASSERT_TRUE(front.produce_request(make_request(4)).ok());
    EXPECT_FALSE(front.push_requests_and_check_notify());
    EXPECT_TRUE(take_ok(back.final_check_for_requests()));
    EXPECT_EQ(s->req_event, 4u);
    ASSERT_TRUE(take_ok(back.take_request(req)));
    EXPECT_TRUE(take_ok(back.final_check_for_requests()));  // one still waiting
    ASSERT_TRUE(take_ok(back.take_request(req)));
    EXPECT_FALSE(take_ok(back.final_check_for_requests()));
    EXPECT_EQ(s->req_event, 6u);

    // Responses: the front slept at rsp_event 4, so the first response notifies.
    ASSERT_TRUE(back.produce_response(make_response(req)).ok());
    EXPECT_TRUE(back.push_responses_and_check_notify());
    ASSERT_TRUE(back.produce_response(make_response(req)).ok());
    EXPECT_FALSE(back.push_responses_and_check_notify());
}

TEST_F(RingApiTest, EventFurtherAheadDelaysTheNotification)
{
    // A consumer that wants to be woken only after a batch of 3 (ring.h's
    // "customised FINAL_CHECK") sets the event index itself.
    s->req_event = 3;
    ASSERT_TRUE(front.produce_request(make_request(0)).ok());
    EXPECT_FALSE(front.push_requests_and_check_notify());  // 1 published
    ASSERT_TRUE(front.produce_request(make_request(1)).ok());
    EXPECT_FALSE(front.push_requests_and_check_notify());  // 2
    ASSERT_TRUE(front.produce_request(make_request(2)).ok());
    ASSERT_TRUE(front.produce_request(make_request(3)).ok());
    EXPECT_TRUE(front.push_requests_and_check_notify());   // 3 and 4: passes 3
}

TEST_F(RingApiTest, ManyRoundTrips)
{
    for (unsigned i = 0; i < 100; ++i) round_trip(i * 8, 1 + i % 8);
}

TEST(RingApi, MultiPageRing)
{
    RingMemory mem(2);
    auto fr = TestFront::init(mem.ring(), 2);
    ASSERT_TRUE(fr.ok());
    TestFront front = static_cast<TestFront&&>(*fr);
    TestBack back = back_at(mem.ring(), 0, 2);
    ASSERT_EQ(front.size(), 32u);
    ASSERT_EQ(back.size(), 32u);
    for (std::uint64_t round = 0; round < 5; ++round) {
        for (unsigned i = 0; i < 32; ++i) ASSERT_TRUE(front.produce_request(make_request(round * 32 + i)).ok());
        EXPECT_TRUE(front.full());
        front.push_requests();
        EXPECT_EQ(take_ok(back.unconsumed_requests()), 32u);
        TestReq req;
        for (unsigned i = 0; i < 32; ++i) {
            ASSERT_TRUE(take_ok(back.take_request(req)));
            ASSERT_EQ(req.seq, round * 32 + i);
            ASSERT_TRUE(request_intact(req));
            ASSERT_TRUE(back.produce_response(make_response(req)).ok());
        }
        back.push_responses();
        TestRsp rsp;
        for (unsigned i = 0; i < 32; ++i) {
            ASSERT_TRUE(take_ok(front.take_response(rsp)));
            ASSERT_EQ(rsp.seq, round * 32 + i);
        }
    }
}

TEST(RingApi, IndicesWrapAt2To32)
{
    RingMemory mem;
    const RingIdx start = 0xfffffffbu;
    init_shared_at(mem.ring(), start);
    TestFront front = front_at(mem.ring(), start);
    TestBack back = back_at(mem.ring(), start);
    std::uint64_t seq = 0, expect_rsp = 0;
    for (unsigned round = 0; round < 6; ++round) {
        // Fill the ring, answer half, take those, repeat: the indices cross 0
        // with the ring in every state from empty to full.
        while (!front.full()) ASSERT_TRUE(front.produce_request(make_request(seq++)).ok());
        EXPECT_EQ(front.free_requests(), 0u);
        front.push_requests();
        TestReq req;
        for (unsigned i = 0; i < 4; ++i) {
            ASSERT_TRUE(take_ok(back.take_request(req)));
            ASSERT_TRUE(back.produce_response(make_response(req)).ok());
        }
        back.push_responses();
        TestRsp rsp;
        while (take_ok(front.take_response(rsp))) ASSERT_EQ(rsp.seq, expect_rsp++);
        EXPECT_EQ(front.free_requests(), 4u);
        EXPECT_EQ(take_ok(back.unconsumed_requests()), 4u);
        for (unsigned i = 0; i < 4; ++i) {
            ASSERT_TRUE(take_ok(back.take_request(req)));
            ASSERT_TRUE(back.produce_response(make_response(req)).ok());
        }
        back.push_responses();
        while (take_ok(front.take_response(rsp))) ASSERT_EQ(rsp.seq, expect_rsp++);
    }
    EXPECT_EQ(expect_rsp, seq);
    EXPECT_EQ(front.req_prod_pvt(), static_cast<RingIdx>(start + seq));
    EXPECT_LT(front.req_prod_pvt(), start);  // it did wrap
}

TEST(RingApi, NotificationAcrossTheWrap)
{
    RingMemory mem;
    const RingIdx start = 0xfffffffeu;
    init_shared_at(mem.ring(), start);
    TestFront front = front_at(mem.ring(), start);
    TestBack back = back_at(mem.ring(), start);
    // The back end sleeps at req_event = 0xffffffff; a push from 0xfffffffe to 1 crosses it.
    mem.ring()->req_event = 0xffffffffu;
    for (unsigned i = 0; i < 3; ++i) ASSERT_TRUE(front.produce_request(make_request(i)).ok());
    EXPECT_TRUE(front.push_requests_and_check_notify());
    EXPECT_EQ(mem.ring()->req_prod, 1u);
    // Event at 2 (past the wrap), a push to 2 crosses it, a push to 3 then does not.
    mem.ring()->req_event = 2;
    ASSERT_TRUE(front.produce_request(make_request(3)).ok());
    EXPECT_TRUE(front.push_requests_and_check_notify());
    ASSERT_TRUE(front.produce_request(make_request(4)).ok());
    EXPECT_FALSE(front.push_requests_and_check_notify());
    EXPECT_EQ(take_ok(back.unconsumed_requests()), 5u);
}

TEST(RingApi, AttachRejectsBadArguments)
{
    RingMemory mem;
    EXPECT_EQ(TestFront::init(nullptr).error(), Errno::XEN_EINVAL);
    EXPECT_EQ(TestFront::attach(nullptr, 0).error(), Errno::XEN_EINVAL);
    EXPECT_EQ(TestBack::attach(nullptr).error(), Errno::XEN_EINVAL);
    auto* misaligned = reinterpret_cast<TestShared*>(mem.data() + 4);
    EXPECT_EQ(TestFront::init(misaligned).error(), Errno::XEN_EINVAL);
    EXPECT_EQ(TestBack::attach(misaligned).error(), Errno::XEN_EINVAL);
    EXPECT_EQ(TestFront::init(mem.ring(), kMaxRingPageOrder + 1).error(), Errno::XEN_EINVAL);
    EXPECT_EQ(TestBack::attach(mem.ring(), 0, kMaxRingPageOrder + 1).error(), Errno::XEN_EINVAL);
    EXPECT_EQ(mem.data()[0], 0xa5);  // a refused init writes nothing

    // An entry larger than a page fits in a two-page ring only.
    struct Big {
        std::uint8_t b[5000];
    };
    RingMemory two(1);
    auto* big = SharedRing<Big, Big>::at(two.data());
    EXPECT_EQ((FrontRing<Big, Big>::init(big, 0).error()), Errno::XEN_EINVAL);
    auto ok = FrontRing<Big, Big>::init(big, 1);
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ(ok->size(), 1u);
}

TEST(RingApi, DetachedAndMovedFromEndsFailCleanly)
{
    TestFront detached;
    EXPECT_EQ(detached.error(), Errno::XEN_ENOTCONN);
    EXPECT_TRUE(detached.full());
    EXPECT_EQ(detached.produce_request(make_request(0)).error(), Errno::XEN_ENOTCONN);
    EXPECT_FALSE(detached.push_requests_and_check_notify());
    detached.push_requests();
    TestRsp rsp;
    EXPECT_EQ(detached.take_response(rsp).error(), Errno::XEN_ENOTCONN);
    EXPECT_EQ(detached.final_check_for_responses().error(), Errno::XEN_ENOTCONN);

    TestBack back;
    TestReq req;
    EXPECT_EQ(back.take_request(req).error(), Errno::XEN_ENOTCONN);
    EXPECT_EQ(back.produce_response(rsp).error(), Errno::XEN_ENOTCONN);
    EXPECT_FALSE(back.push_responses_and_check_notify());
    back.push_responses();
    EXPECT_EQ(back.final_check_for_requests().error(), Errno::XEN_ENOTCONN);

    RingMemory mem;
    auto r = TestFront::init(mem.ring());
    ASSERT_TRUE(r.ok());
    TestFront a = static_cast<TestFront&&>(*r);
    ASSERT_TRUE(a.produce_request(make_request(1)).ok());
    TestFront b = static_cast<TestFront&&>(a);
    EXPECT_EQ(a.error(), Errno::XEN_ENOTCONN);
    EXPECT_EQ(a.shared(), nullptr);
    EXPECT_EQ(b.req_prod_pvt(), 1u);
    EXPECT_EQ(b.shared(), mem.ring());
    detached = static_cast<TestFront&&>(b);
    EXPECT_EQ(detached.req_prod_pvt(), 1u);
    EXPECT_EQ(b.error(), Errno::XEN_ENOTCONN);
}
