// A peer that lies: producer indices ahead of what it could have published,
// behind what it already published, responses to requests never pushed,
// garbage in every shared field at every step, and a thread scribbling over
// the whole page while the ends run. Each end must report kRingProtocolError,
// keep reporting it, and never read outside the ring (the ring memory is
// exactly its pages on the heap, so ASan sees any stray read) or loop forever.
#include "sdk_ring_test_support.hpp"

#include <atomic>
#include <cstdint>
#include <cstring>
#include <random>
#include <thread>

using namespace keel;
using namespace keel::guest;
using namespace keel::guest::ring_test;

namespace {

// A C++ front end and back end on one page, driven by hand so the test can
// play either peer dishonestly.
struct RingHostileTest : ::testing::Test {
    RingMemory mem;
    TestShared* s = mem.ring();
    TestFront front = [this] {
        auto r = TestFront::init(s);
        EXPECT_TRUE(r.ok());
        return static_cast<TestFront&&>(*r);
    }();
    TestBack back = back_at(s, 0);

    void send(unsigned n, bool push = true)
    {
        for (unsigned i = 0; i < n; ++i) ASSERT_TRUE(front.produce_request(make_request(i)).ok());
        if (push) front.push_requests();
    }

    void answer(unsigned n, bool push = true)
    {
        TestReq req;
        for (unsigned i = 0; i < n; ++i) {
            ASSERT_TRUE(take_ok(back.take_request(req)));
            ASSERT_TRUE(back.produce_response(make_response(req)).ok());
        }
        if (push) back.push_responses();
    }

    // Every consuming call of the back end fails with the protocol error.
    void expect_back_broken()
    {
        TestReq req;
        EXPECT_EQ(back.error(), kRingProtocolError);
        EXPECT_EQ(back.unconsumed_requests().error(), kRingProtocolError);
        EXPECT_EQ(back.take_request(req).error(), kRingProtocolError);
        EXPECT_EQ(back.final_check_for_requests().error(), kRingProtocolError);
        EXPECT_EQ(back.produce_response(TestRsp{}).error(), kRingProtocolError);
    }

    void expect_front_broken()
    {
        TestRsp rsp;
        EXPECT_EQ(front.error(), kRingProtocolError);
        EXPECT_EQ(front.unconsumed_responses().error(), kRingProtocolError);
        EXPECT_EQ(front.take_response(rsp).error(), kRingProtocolError);
        EXPECT_EQ(front.final_check_for_responses().error(), kRingProtocolError);
        EXPECT_EQ(front.produce_request(make_request(0)).error(), kRingProtocolError);
    }
};

} // namespace

TEST_F(RingHostileTest, ErrorIsEio) { EXPECT_EQ(kRingProtocolError, Errno::XEN_EIO); }

TEST_F(RingHostileTest, ExactlyAFullRingIsAccepted)
{
    s->req_prod = back.size();
    EXPECT_EQ(take_ok(back.unconsumed_requests()), back.size());
    TestReq req;
    for (unsigned i = 0; i < back.size(); ++i) EXPECT_TRUE(take_ok(back.take_request(req)));
    EXPECT_FALSE(take_ok(back.take_request(req)));
    EXPECT_EQ(back.error(), Errno::OK);
}

TEST_F(RingHostileTest, RequestProducerBeyondTheRing)
{
    s->req_prod = back.size() + 1;
    EXPECT_EQ(back.unconsumed_requests().error(), kRingProtocolError);
    expect_back_broken();
    // Latched: a front end that "fixes" the index gets nothing more.
    s->req_prod = 1;
    expect_back_broken();
    EXPECT_EQ(back.req_cons(), 0u);
}

TEST_F(RingHostileTest, RequestProducerFarAhead)
{
    s->req_prod = 0x80000000u;
    TestReq req;
    EXPECT_EQ(back.take_request(req).error(), kRingProtocolError);
    expect_back_broken();
}

TEST_F(RingHostileTest, RequestProducerMovedBack)
{
    send(3);
    answer(3);
    s->req_prod = 2;
    EXPECT_EQ(back.final_check_for_requests().error(), kRingProtocolError);
    expect_back_broken();
}

TEST_F(RingHostileTest, RequestsIntoSlotsStillAwaitingResponses)
{
    // Five taken and unanswered hold five slots: at most three more can exist.
    send(5);
    answer(0);
    TestReq req;
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(take_ok(back.take_request(req)));
    s->req_prod = 8;
    EXPECT_EQ(take_ok(back.unconsumed_requests()), 3u);
    s->req_prod = 9;  // req - req_cons = 4 < size, yet it would overwrite an unanswered request
    EXPECT_EQ(back.unconsumed_requests().error(), kRingProtocolError);
    expect_back_broken();
}

TEST_F(RingHostileTest, LieAfterValidationIsCaughtAtTheNextRead)
{
    // The front end publishes 2, then pretends it published 1 more after the
    // back end has validated the first batch: the next read catches it.
    send(2);
    TestReq req;
    ASSERT_TRUE(take_ok(back.take_request(req)));
    s->req_prod = 100;                              // not re-read while validated entries remain
    ASSERT_TRUE(take_ok(back.take_request(req)));  // the second validated one
    EXPECT_EQ(back.take_request(req).error(), kRingProtocolError);
    EXPECT_EQ(back.req_cons(), 2u);
}

TEST_F(RingHostileTest, ResponseProducerAheadOfPushedRequests)
{
    send(2);
    send(1, /*push=*/false);  // produced, not yet visible to the back end
    answer(2);
    EXPECT_EQ(take_ok(front.unconsumed_responses()), 2u);
    s->rsp_prod = 3;  // an answer to a request the back end cannot have seen
    EXPECT_EQ(front.unconsumed_responses().error(), kRingProtocolError);
    expect_front_broken();
}

TEST_F(RingHostileTest, ResponseProducerWithNoRequests)
{
    s->rsp_prod = 1;
    TestRsp rsp;
    EXPECT_EQ(front.take_response(rsp).error(), kRingProtocolError);
    expect_front_broken();
}

TEST_F(RingHostileTest, ResponseProducerMovedBackOrFarAhead)
{
    send(4);
    answer(4);
    TestRsp rsp;
    ASSERT_TRUE(take_ok(front.take_response(rsp)));
    ASSERT_TRUE(take_ok(front.take_response(rsp)));
    ASSERT_TRUE(take_ok(front.take_response(rsp)));
    ASSERT_TRUE(take_ok(front.take_response(rsp)));
    s->rsp_prod = 3;
    EXPECT_EQ(front.final_check_for_responses().error(), kRingProtocolError);
    expect_front_broken();

    RingMemory other;
    auto fr = TestFront::init(other.ring());
    ASSERT_TRUE(fr.ok());
    TestFront f2 = static_cast<TestFront&&>(*fr);
    other.ring()->rsp_prod = 0xfffffff8u;  // -8: "behind" by 8 or ahead by 2^32 - 8
    EXPECT_EQ(f2.unconsumed_responses().error(), kRingProtocolError);
}

TEST_F(RingHostileTest, OurOwnProducerIndexScribbledByThePeer)
{
    // The back end overwrites req_prod (the front end's field). The front end's
    // checks and notify decisions use its own record of what it pushed.
    send(2);
    answer(2, /*push=*/false);
    s->req_prod = 1000;
    s->rsp_prod = 3;  // more than the two requests really pushed
    EXPECT_EQ(front.unconsumed_responses().error(), kRingProtocolError);

    RingMemory other;
    auto fr = TestFront::init(other.ring());
    ASSERT_TRUE(fr.ok());
    TestFront f2 = static_cast<TestFront&&>(*fr);
    ASSERT_TRUE(f2.produce_request(make_request(0)).ok());
    EXPECT_TRUE(f2.push_requests_and_check_notify());  // 0 -> 1 crosses req_event 1
    other.ring()->req_prod = 0;                         // would make C's "old" 0 again
    other.ring()->req_event = 1;
    ASSERT_TRUE(f2.produce_request(make_request(1)).ok());
    EXPECT_FALSE(f2.push_requests_and_check_notify());  // 1 -> 2 does not cross 1
    EXPECT_EQ(other.ring()->req_prod, 2u);
}

TEST_F(RingHostileTest, EventIndicesAreOnlyAdvice)
{
    std::mt19937 rng(11);
    std::uint64_t seq = 0, got = 0;
    for (int i = 0; i < 2000; ++i) {
        s->req_event = rng();
        s->rsp_event = rng();
        while (!front.full()) ASSERT_TRUE(front.produce_request(make_request(seq++)).ok());
        (void)front.push_requests_and_check_notify();
        answer(back.size() / 2, false);
        (void)back.push_responses_and_check_notify();
        TestRsp rsp;
        while (take_ok(front.take_response(rsp))) ASSERT_EQ(rsp.seq, got++);
        TestReq req;
        while (take_ok(back.take_request(req))) ASSERT_TRUE(back.produce_response(make_response(req)).ok());
        back.push_responses();
        while (take_ok(front.take_response(rsp))) ASSERT_EQ(rsp.seq, got++);
    }
    EXPECT_EQ(got, seq);
    EXPECT_EQ(front.error(), Errno::OK);
    EXPECT_EQ(back.error(), Errno::OK);
}

TEST_F(RingHostileTest, TakenRequestIsACopy)
{
    send(1);
    TestReq req;
    ASSERT_TRUE(take_ok(back.take_request(req)));
    std::memset(&s->entry(0), 0xee, sizeof(TestShared::Entry));  // the front end rewrites the slot
    EXPECT_EQ(req.seq, 0u);
    EXPECT_TRUE(request_intact(req));
}

namespace {

// One end on a page whose peer half is random every step: random values in
// the peer's producer and event indices (uniform, or near the honest range),
// random bytes in the slots. Checks the end's own invariants after each call.
void garbage_peer(std::uint32_t seed, RingIdx start, unsigned order)
{
    std::mt19937 rng(seed);
    RingMemory fmem(order), bmem(order);
    init_shared_at(fmem.ring(), start);
    init_shared_at(bmem.ring(), start);
    TestFront front = front_at(fmem.ring(), start, order);
    TestBack back = back_at(bmem.ring(), start, order);
    const RingIdx size = front.size();
    auto near = [&](RingIdx base) { return static_cast<RingIdx>(base + rng() % (2 * size + 3) - size - 1); };
    auto lie = [&](RingIdx base) { return rng() % 3 == 0 ? static_cast<RingIdx>(rng()) : near(base); };
    unsigned front_errors = 0, back_errors = 0;

    for (int step = 0; step < 20000; ++step) {
        // The back end of the front's ring lies.
        fmem.ring()->rsp_prod = lie(front.rsp_cons());
        fmem.ring()->req_event = lie(front.req_prod_pvt());
        if (rng() % 8 == 0) fmem.ring()->req_prod = static_cast<RingIdx>(rng());
        fmem.data()[TestShared::entries_offset() + rng() % (fmem.bytes() - TestShared::entries_offset())] =
            static_cast<unsigned char>(rng());
        // The front end of the back's ring lies.
        bmem.ring()->req_prod = lie(back.req_cons());
        bmem.ring()->rsp_event = lie(back.rsp_prod_pvt());
        if (rng() % 8 == 0) bmem.ring()->rsp_prod = static_cast<RingIdx>(rng());
        bmem.data()[TestShared::entries_offset() + rng() % (bmem.bytes() - TestShared::entries_offset())] =
            static_cast<unsigned char>(rng());

        TestReq req;
        TestRsp rsp;
        switch (rng() % 4) {
        case 0:
            (void)front.produce_request(make_request(step));
            (void)front.push_requests_and_check_notify();
            (void)back.produce_response(make_response(make_request(step)));
            (void)back.push_responses_and_check_notify();
            break;
        case 1:
            for (int i = 0; i < 3; ++i) {
                (void)front.take_response(rsp);
                (void)back.take_request(req);
            }
            break;
        case 2:
            (void)front.final_check_for_responses();
            (void)back.final_check_for_requests();
            break;
        default:
            (void)front.unconsumed_responses();
            (void)back.unconsumed_requests();
        }
        // Whatever the peer wrote, our own indices stay sane.
        ASSERT_LE(static_cast<RingIdx>(front.req_prod_pvt() - front.rsp_cons()), size);
        ASSERT_LE(static_cast<RingIdx>(back.req_cons() - back.rsp_prod_pvt()), size);
        if (front.error() != Errno::OK) {
            ASSERT_EQ(front.error(), kRingProtocolError);
            ++front_errors;
            front = front_at(fmem.ring(), static_cast<RingIdx>(rng()), order);  // reconnect somewhere
        }
        if (back.error() != Errno::OK) {
            ASSERT_EQ(back.error(), kRingProtocolError);
            ++back_errors;
            back = back_at(bmem.ring(), static_cast<RingIdx>(rng()), order);
        }
    }
    // Lies were caught on both sides (the generator makes plenty).
    EXPECT_GT(front_errors, 100u);
    EXPECT_GT(back_errors, 100u);
}

} // namespace

TEST(RingHostile, GarbageEveryStep)
{
    garbage_peer(1, 0, 0);
    garbage_peer(2, 0xfffffff0u, 0);
    garbage_peer(3, 0x7ffffff0u, 2);
}

TEST(RingHostile, ConcurrentScribblerOverTheWholePage)
{
    // A thread writes random words over the entire ring page (indices, pad,
    // slots) while a front end and a back end on that page run flat out.
    RingMemory mem;
    init_shared_at(mem.ring(), 0);
    std::atomic<bool> stop{false};
    std::thread scribbler([&] {
        std::mt19937 rng(5);
        auto* words = reinterpret_cast<std::uint32_t*>(mem.data());
        const std::size_t n = mem.bytes() / sizeof(std::uint32_t);
        while (!stop.load(std::memory_order_relaxed))
            __atomic_store_n(&words[rng() % n], static_cast<std::uint32_t>(rng()), __ATOMIC_RELAXED);
    });

    std::mt19937 rng(6);
    TestFront front = front_at(mem.ring(), 0);
    TestBack back = back_at(mem.ring(), 0);
    unsigned errors = 0;
    for (int step = 0; step < 50000; ++step) {
        TestReq req;
        TestRsp rsp;
        (void)front.produce_request(make_request(step));
        (void)front.push_requests_and_check_notify();
        (void)back.take_request(req);
        (void)back.produce_response(make_response(req));
        (void)back.push_responses_and_check_notify();
        (void)front.take_response(rsp);
        if (step % 7 == 0) {
            (void)front.final_check_for_responses();
            (void)back.final_check_for_requests();
        }
        ASSERT_LE(static_cast<RingIdx>(front.req_prod_pvt() - front.rsp_cons()), front.size());
        ASSERT_LE(static_cast<RingIdx>(back.req_cons() - back.rsp_prod_pvt()), back.size());
        if (front.error() != Errno::OK) {
            ++errors;
            front = front_at(mem.ring(), static_cast<RingIdx>(rng()));
        }
        if (back.error() != Errno::OK) {
            ++errors;
            back = back_at(mem.ring(), static_cast<RingIdx>(rng()));
        }
    }
    stop = true;
    scribbler.join();
    EXPECT_GT(errors, 0u);
}
