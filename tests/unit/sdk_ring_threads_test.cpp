// A front end and a back end on two threads over one ring in host memory,
// each sleeping on an event (a latched flag, like an event channel) whenever
// its final check finds nothing to do. Any lost wake-up leaves an end asleep
// for good, which shows as a timeout; any ordering bug in the barriers shows
// as a lost, duplicated, reordered or torn message.
#include "sdk_ring_test_support.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <thread>

using namespace keel::guest;
using namespace keel::guest::ring_test;

namespace {

using namespace std::chrono_literals;

struct Link {
    Event to_front, to_back;
    std::atomic<bool> abort{false};
    std::string front_failure, back_failure;
    std::uint64_t front_sleeps = 0, back_sleeps = 0;  // each written by its own thread only
    std::atomic<std::uint64_t> notifications{0};

    // Sleep until the event, for at most ten seconds (then the wake-up was lost).
    bool sleep(Event& e)
    {
        for (int i = 0; i < 100; ++i) {
            if (e.wait(100ms)) return true;
            if (abort.load()) return false;
        }
        return false;
    }
};

void jitter(std::mt19937& rng)
{
    const unsigned r = rng() % 64;
    if (r == 0) {
        std::this_thread::yield();
    } else if (r < 4) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(r);
        while (std::chrono::steady_clock::now() < until) {
        }
    }
}

void run_front(TestFront& front, Link& link, std::uint64_t messages, std::uint32_t seed, unsigned max_batch)
{
    std::mt19937 rng(seed);
    std::uint64_t produced = 0, received = 0;
    auto fail = [&](const std::string& why) {
        link.front_failure = why + " (produced " + std::to_string(produced) + ", received " +
                             std::to_string(received) + ")";
        link.abort = true;
    };
    while (received < messages && !link.abort) {
        unsigned n = 1 + rng() % max_batch;
        while (n-- && produced < messages && !front.full())
            if (!front.produce_request(make_request(produced++)).ok()) return fail("produce refused");
        jitter(rng);
        if (front.push_requests_and_check_notify()) {
            ++link.notifications;
            link.to_back.notify();
        }
        TestRsp rsp;
        for (;;) {
            auto t = front.take_response(rsp);
            if (!t) return fail("protocol error from an honest back end");
            if (!*t) break;
            if (rsp.seq != received || !response_intact(rsp)) return fail("response lost, duplicated or torn");
            ++received;
        }
        if (received == messages) break;
        if (produced < messages && !front.full()) continue;
        auto more = front.final_check_for_responses();
        if (!more) return fail("final check error");
        if (*more) continue;
        ++link.front_sleeps;
        if (!link.sleep(link.to_front)) return fail("front end never woken: missed notification");
    }
}

void run_back(TestBack& back, Link& link, std::uint64_t messages, std::uint32_t seed, unsigned max_batch)
{
    std::mt19937 rng(seed);
    std::uint64_t taken = 0, answered = 0;
    std::deque<TestReq> owed;
    auto fail = [&](const std::string& why) {
        link.back_failure = why + " (taken " + std::to_string(taken) + ", answered " + std::to_string(answered) + ")";
        link.abort = true;
    };
    while (answered < messages && !link.abort) {
        unsigned n = 1 + rng() % max_batch;
        TestReq req;
        while (n--) {
            auto t = back.take_request(req);
            if (!t) return fail("protocol error from an honest front end");
            if (!*t) break;
            if (req.seq != taken || !request_intact(req)) return fail("request lost, duplicated or torn");
            ++taken;
            owed.push_back(req);
        }
        jitter(rng);
        n = 1 + rng() % max_batch;
        while (n-- && !owed.empty()) {
            if (!back.produce_response(make_response(owed.front())).ok()) return fail("response refused");
            owed.pop_front();
            ++answered;
        }
        if (back.push_responses_and_check_notify()) {
            ++link.notifications;
            link.to_front.notify();
        }
        if (!owed.empty() || answered == messages) continue;
        auto more = back.final_check_for_requests();
        if (!more) return fail("final check error");
        if (*more) continue;
        ++link.back_sleeps;
        if (!link.sleep(link.to_back)) return fail("back end never woken: missed notification");
    }
}

void run_pair(RingIdx start, unsigned order, std::uint64_t messages, std::uint32_t seed, unsigned max_batch)
{
    RingMemory mem(order);
    init_shared_at(mem.ring(), start);
    TestFront front = front_at(mem.ring(), start, order);
    TestBack back = back_at(mem.ring(), start, order);
    Link link;
    std::thread b([&] { run_back(back, link, messages, seed * 2 + 1, max_batch); });
    std::thread f([&] { run_front(front, link, messages, seed * 2, max_batch); });
    f.join();
    b.join();
    EXPECT_EQ(link.front_failure, "");
    EXPECT_EQ(link.back_failure, "");
    EXPECT_EQ(front.rsp_cons(), static_cast<RingIdx>(start + messages));
    EXPECT_EQ(back.rsp_prod_pvt(), static_cast<RingIdx>(start + messages));
    EXPECT_EQ(mem.ring()->rsp_prod, static_cast<RingIdx>(start + messages));
    // Both ends really slept and were woken (else the test proves little).
    EXPECT_GT(link.front_sleeps + link.back_sleeps, 0u);
}

} // namespace

TEST(RingThreads, SmallRingOneAtATime) { run_pair(0, 0, 30000, 1, 1); }

TEST(RingThreads, SmallRingBatchesAcrossTheWrap) { run_pair(0xffff8000u, 0, 60000, 2, 6); }

TEST(RingThreads, MultiPageRingBigBatches) { run_pair(0xfffffc00u, 2, 60000, 3, 40); }
