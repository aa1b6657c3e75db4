// A single-threaded, seeded simulation of a front end and a back end that
// sleep on event channels: at each step one runnable end takes one action
// (produce a batch, push and maybe notify, take, answer, or final-check and
// sleep). Checks that every request and response arrives once, in order and
// intact, and that no notification is missed: an end asleep after its final
// check must be notified by the very next push of work for it, and the two
// ends are never both asleep while messages are outstanding.
//
// Either end can be the C++ template or ring.h's macros (sdk_ring_layout.c),
// so the same schedules also check that the two interoperate on one page.
#pragma once

#include "sdk_ring_test_support.hpp"

#include <cstdint>
#include <deque>
#include <random>
#include <sstream>
#include <string>

namespace keel::guest::ring_test {

// The operations the simulation drives, over FrontRing / BackRing ...
struct CppFront {
    TestFront& r;
    bool full() { return r.full(); }
    RingIdx free() { return r.free_requests(); }
    bool produce(const TestReq& q) { return r.produce_request(q).ok(); }
    bool push() { return r.push_requests_and_check_notify(); }
    int take(TestRsp& out)  // 1 taken, 0 none, -1 error
    {
        auto t = r.take_response(out);
        return !t ? -1 : *t ? 1 : 0;
    }
    int final_check()
    {
        auto t = r.final_check_for_responses();
        return !t ? -1 : *t ? 1 : 0;
    }
};

struct CppBack {
    TestBack& r;
    int take(TestReq& out)
    {
        auto t = r.take_request(out);
        return !t ? -1 : *t ? 1 : 0;
    }
    bool produce(const TestRsp& p) { return r.produce_response(p).ok(); }
    bool push() { return r.push_responses_and_check_notify(); }
    int final_check()
    {
        auto t = r.final_check_for_requests();
        return !t ? -1 : *t ? 1 : 0;
    }
};

// ... or over ring.h's macros.
struct CFront {
    keel_ring_c* c;
    bool full() { return keel_ring_c_full(c); }
    RingIdx free() { return keel_ring_c_free_requests(c); }
    bool produce(const TestReq& q)
    {
        keel_ring_c_produce_request(c, &q);
        return true;
    }
    bool push() { return keel_ring_c_push_requests_and_check_notify(c); }
    int take(TestRsp& out)
    {
        if (keel_ring_c_unconsumed_responses(c) == 0) return 0;
        keel_ring_c_take_response(c, &out);
        return 1;
    }
    int final_check() { return keel_ring_c_final_check_for_responses(c); }
};

struct CBack {
    keel_ring_c* c;
    int take(TestReq& out)
    {
        if (keel_ring_c_unconsumed_requests(c) == 0) return 0;
        keel_ring_c_take_request(c, &out);
        return 1;
    }
    bool produce(const TestRsp& p)
    {
        keel_ring_c_produce_response(c, &p);
        return true;
    }
    bool push() { return keel_ring_c_push_responses_and_check_notify(c); }
    int final_check() { return keel_ring_c_final_check_for_requests(c); }
};

struct SimResult {
    std::string failure;  // empty: all delivered, nothing missed
    std::uint64_t steps = 0;
    std::uint64_t pushes = 0;
    std::uint64_t notifications = 0;
};

// Sends `messages` requests from front to back and their responses back.
// `max_batch` bounds how many messages one produce/take/answer step handles.
template <typename Front, typename Back>
SimResult simulate(Front front, Back back, std::uint64_t messages, std::uint32_t seed, unsigned max_batch)
{
    SimResult res;
    std::mt19937 rng(seed);
    auto chance = [&](unsigned n) { return rng() % n; };
    std::ostringstream why;

    std::uint64_t produced = 0, pushed = 0, received = 0;  // front
    std::uint64_t taken = 0, answered = 0, answered_pushed = 0;  // back
    std::deque<TestReq> owed;
    bool front_asleep = false, back_asleep = true;  // the back starts asleep (req_event = start + 1)
    bool front_event = false, back_event = false;

    auto fail = [&](const std::string& what) {
        std::ostringstream o;
        o << what << " at step " << res.steps << " (produced " << produced << ", pushed " << pushed
          << ", taken " << taken << ", answered " << answered << ", received " << received << ")";
        res.failure = o.str();
        return res;
    };

    while (received < messages) {
        if (++res.steps > 200 * messages + 1000) return fail("no progress");
        const bool front_runnable = !front_asleep || front_event;
        const bool back_runnable = !back_asleep || back_event;
        if (!front_runnable && !back_runnable) return fail("both ends asleep with messages outstanding: missed notification");
        const bool run_front = front_runnable && (!back_runnable || chance(2) == 0);

        if (run_front) {
            if (front_asleep) {
                front_asleep = front_event = false;
                continue;
            }
            switch (chance(4)) {
            case 0: {  // produce a batch
                unsigned n = 1 + chance(max_batch);
                while (n-- && produced < messages && !front.full())
                    if (!front.produce(make_request(produced++))) return fail("produce refused with room");
                break;
            }
            case 1: {  // push
                const bool notify = front.push();
                ++res.pushes;
                if (notify) {
                    ++res.notifications;
                    back_event = true;
                } else if (back_asleep && !back_event && produced > pushed) {
                    return fail("back end asleep, new requests pushed, no notification");
                }
                pushed = produced;
                break;
            }
            case 2: {  // take responses
                unsigned n = 1 + chance(max_batch);
                TestRsp rsp;
                while (n--) {
                    const int t = front.take(rsp);
                    if (t < 0) return fail("front end: protocol error from an honest back end");
                    if (t == 0) break;
                    if (rsp.seq != received || !response_intact(rsp)) return fail("response lost, duplicated or torn");
                    ++received;
                }
                break;
            }
            default: {  // nothing left to do alone: final check, then sleep
                const bool can_send = produced < messages && !front.full();
                if (can_send || produced != pushed) break;
                const int t = front.final_check();
                if (t < 0) return fail("front end: final check error");
                if (t == 0) front_asleep = true;
            }
            }
        } else {
            if (back_asleep) {
                back_asleep = back_event = false;
                continue;
            }
            switch (chance(4)) {
            case 0: {  // take requests
                unsigned n = 1 + chance(max_batch);
                TestReq req;
                while (n--) {
                    const int t = back.take(req);
                    if (t < 0) return fail("back end: protocol error from an honest front end");
                    if (t == 0) break;
                    if (req.seq != taken || !request_intact(req)) return fail("request lost, duplicated or torn");
                    ++taken;
                    owed.push_back(req);
                }
                break;
            }
            case 1: {  // answer some
                unsigned n = 1 + chance(max_batch);
                while (n-- && !owed.empty()) {
                    if (!back.produce(make_response(owed.front()))) return fail("response refused for a taken request");
                    owed.pop_front();
                    ++answered;
                }
                break;
            }
            case 2: {  // push
                const bool notify = back.push();
                ++res.pushes;
                if (notify) {
                    ++res.notifications;
                    front_event = true;
                } else if (front_asleep && !front_event && answered > answered_pushed) {
                    return fail("front end asleep, new responses pushed, no notification");
                }
                answered_pushed = answered;
                break;
            }
            default: {  // final check, then sleep
                if (!owed.empty() || answered != answered_pushed) break;
                const int t = back.final_check();
                if (t < 0) return fail("back end: final check error");
                if (t == 0) back_asleep = true;
            }
            }
        }
    }
    if (taken != messages || answered != messages) return fail("counts differ at the end");
    return res;
}

} // namespace keel::guest::ring_test
