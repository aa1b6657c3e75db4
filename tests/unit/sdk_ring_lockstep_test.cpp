// FrontRing/BackRing against ring.h's macros, in lockstep: the same random
// sequence of operations drives the C ring (sdk_ring_layout.c) on one page
// and the C++ ends on another; after every operation both must have made the
// same notify and final-check decisions, returned the same entries, and left
// every shared and private index equal.
#include "sdk_ring_test_support.hpp"

#include <cstdint>
#include <cstring>
#include <deque>
#include <random>

using namespace keel;
using namespace keel::guest;
using namespace keel::guest::ring_test;

namespace {

class Lockstep {
public:
    Lockstep(RingIdx start, unsigned order, std::uint32_t seed)
        : c_mem_(order), cpp_mem_(order), rng_(seed)
    {
        c_ = keel_ring_c_new(c_mem_.data(), c_mem_.bytes(), start, 1);
        init_shared_at(cpp_mem_.ring(), start);
        front_ = front_at(cpp_mem_.ring(), start, order);
        back_ = back_at(cpp_mem_.ring(), start, order);
    }
    ~Lockstep() { keel_ring_c_delete(c_); }

    // One random operation on both rings; false once they disagree.
    bool step()
    {
        const unsigned k = 1 + rng_() % 5;
        switch (rng_() % 10) {
        case 0: return produce_requests(k);
        case 1:
            keel_ring_c_push_requests(c_);
            front_.push_requests();
            return same_state("push_requests");
        case 2:
            EXPECT_EQ(front_.push_requests_and_check_notify(), keel_ring_c_push_requests_and_check_notify(c_) != 0);
            return same_state("push_requests_and_check_notify");
        case 3: return take_requests(k);
        case 4: return produce_responses(k);
        case 5:
            keel_ring_c_push_responses(c_);
            back_.push_responses();
            return same_state("push_responses");
        case 6:
            EXPECT_EQ(back_.push_responses_and_check_notify(), keel_ring_c_push_responses_and_check_notify(c_) != 0);
            return same_state("push_responses_and_check_notify");
        case 7: return take_responses(k);
        case 8:
            EXPECT_EQ(take_ok(back_.final_check_for_requests()), keel_ring_c_final_check_for_requests(c_) != 0);
            return same_state("final_check_for_requests");
        default:
            EXPECT_EQ(take_ok(front_.final_check_for_responses()), keel_ring_c_final_check_for_responses(c_) != 0);
            return same_state("final_check_for_responses");
        }
    }

    std::uint64_t taken_requests() const { return taken_; }

private:
    bool produce_requests(unsigned k)
    {
        while (k--) {
            const TestReq req = make_request(seq_);
            const bool c_full = keel_ring_c_full(c_);
            const Status st = front_.produce_request(req);
            if (c_full) {
                EXPECT_EQ(st.error(), Errno::XEN_EAGAIN);
            } else {
                EXPECT_TRUE(st.ok());
                keel_ring_c_produce_request(c_, &req);
                ++seq_;
            }
        }
        return same_state("produce_request");
    }

    bool take_requests(unsigned k)
    {
        const unsigned c_n = keel_ring_c_unconsumed_requests(c_);
        EXPECT_EQ(take_ok(back_.unconsumed_requests()), c_n);
        for (unsigned i = 0; i < k; ++i) {
            TestReq ours{}, theirs{};
            const bool got = take_ok(back_.take_request(ours));
            EXPECT_EQ(got, i < c_n);
            if (!got || i >= c_n) break;
            keel_ring_c_take_request(c_, &theirs);
            EXPECT_EQ(std::memcmp(&ours, &theirs, sizeof ours), 0);
            EXPECT_EQ(ours.seq, taken_);
            ++taken_;
            owed_.push_back(ours);
        }
        return same_state("take_request");
    }

    bool produce_responses(unsigned k)
    {
        while (k--) {
            if (owed_.empty()) {
                EXPECT_EQ(back_.produce_response(TestRsp{}).error(), Errno::XEN_EINVAL);
                break;
            }
            const TestRsp rsp = make_response(owed_.front());
            owed_.pop_front();
            EXPECT_TRUE(back_.produce_response(rsp).ok());
            keel_ring_c_produce_response(c_, &rsp);
        }
        return same_state("produce_response");
    }

    bool take_responses(unsigned k)
    {
        const unsigned c_n = keel_ring_c_unconsumed_responses(c_);
        EXPECT_EQ(take_ok(front_.unconsumed_responses()), c_n);
        for (unsigned i = 0; i < k; ++i) {
            TestRsp ours{}, theirs{};
            const bool got = take_ok(front_.take_response(ours));
            EXPECT_EQ(got, i < c_n);
            if (!got || i >= c_n) break;
            keel_ring_c_take_response(c_, &theirs);
            EXPECT_EQ(std::memcmp(&ours, &theirs, sizeof ours), 0);
            EXPECT_EQ(ours.seq, received_);
            ++received_;
        }
        return same_state("take_response");
    }

    bool same_state(const char* after)
    {
        struct keel_ring_c_state c{};
        keel_ring_c_get_state(c_, &c);
        const TestShared* s = cpp_mem_.ring();
        const bool same = c.req_prod == s->req_prod && c.req_event == s->req_event &&
                          c.rsp_prod == s->rsp_prod && c.rsp_event == s->rsp_event &&
                          c.req_prod_pvt == front_.req_prod_pvt() && c.rsp_cons == front_.rsp_cons() &&
                          c.front_size == front_.size() && c.rsp_prod_pvt == back_.rsp_prod_pvt() &&
                          c.req_cons == back_.req_cons() && c.back_size == back_.size() &&
                          keel_ring_c_free_requests(c_) == front_.free_requests() &&
                          (keel_ring_c_full(c_) != 0) == front_.full() &&
                          std::memcmp(c_mem_.data(), cpp_mem_.data(), c_mem_.bytes()) == 0;
        EXPECT_TRUE(same) << "after " << after << ": C req_prod " << c.req_prod << " req_event " << c.req_event
                          << " rsp_prod " << c.rsp_prod << " rsp_event " << c.rsp_event << " req_prod_pvt "
                          << c.req_prod_pvt << " rsp_cons " << c.rsp_cons << " rsp_prod_pvt " << c.rsp_prod_pvt
                          << " req_cons " << c.req_cons;
        return same && !::testing::Test::HasFailure();
    }

    RingMemory c_mem_, cpp_mem_;
    keel_ring_c* c_ = nullptr;
    TestFront front_;
    TestBack back_;
    std::mt19937 rng_;
    std::uint64_t seq_ = 0, taken_ = 0, received_ = 0;
    std::deque<TestReq> owed_;
};

} // namespace

TEST(RingLockstep, RandomSequencesMatchRingH)
{
    struct Case {
        RingIdx start;
        unsigned order;
        std::uint32_t seed;
    };
    const Case cases[] = {{0, 0, 1}, {0, 0, 2}, {0xfffffff0u, 0, 3}, {0x7ffffffau, 0, 4},
                          {0, 2, 5}, {0xffffffe5u, 2, 6}, {0xffffffffu, 1, 7}};
    for (const Case& cs : cases) {
        SCOPED_TRACE("start " + std::to_string(cs.start) + " order " + std::to_string(cs.order) + " seed " +
                     std::to_string(cs.seed));
        Lockstep l(cs.start, cs.order, cs.seed);
        for (unsigned i = 0; i < 20000; ++i) ASSERT_TRUE(l.step()) << "operation " << i;
        EXPECT_GT(l.taken_requests(), 1000u);
    }
}
