// Shared pieces of the sdk_ring tests: the test protocol (from
// sdk_ring_layout.h, so C and C++ use the same structs), ring memory sized
// exactly so ASan flags any read past the ring, messages whose payload shows
// a torn or stale copy, and an event channel model for sleeping ends.
#pragma once

#include <keel/guest/ring.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "sdk_ring_layout.h"

namespace keel::guest::ring_test {

using TestReq = keel_ring_test_request;
using TestRsp = keel_ring_test_response;
using TestShared = SharedRing<TestReq, TestRsp>;
using TestFront = FrontRing<TestReq, TestRsp>;
using TestBack = BackRing<TestReq, TestRsp>;

// Exactly the ring's pages, page-aligned, on the heap: one byte past the end
// is outside the allocation.
class RingMemory {
public:
    explicit RingMemory(unsigned order = 0, unsigned char fill = 0xa5)
        : bytes_(kRingPageSize << order), p_(static_cast<unsigned char*>(std::aligned_alloc(kRingPageSize, bytes_)))
    {
        std::memset(p_, fill, bytes_);
    }
    ~RingMemory() { std::free(p_); }
    RingMemory(const RingMemory&) = delete;
    RingMemory& operator=(const RingMemory&) = delete;

    std::size_t bytes() const { return bytes_; }
    unsigned char* data() { return p_; }
    template <typename Shared = TestShared>
    Shared* ring()
    {
        return Shared::at(p_);
    }

private:
    std::size_t bytes_;
    unsigned char* p_;
};

// SHARED_RING_INIT, then every index at `start` (what a ring that has carried
// `start` messages each way looks like).
template <typename Shared>
inline void init_shared_at(Shared* s, RingIdx start)
{
    s->init();
    s->req_prod = s->rsp_prod = start;
    s->req_event = s->rsp_event = start + 1;
}

template <typename T>
T take_ok(Result<T>&& r)
{
    EXPECT_TRUE(r.ok()) << "error " << static_cast<int>(r.error());
    return r.ok() ? *r : T{};
}

inline TestFront front_at(TestShared* s, RingIdx start, unsigned order = 0)
{
    auto r = TestFront::attach(s, start, order);
    EXPECT_TRUE(r.ok());
    return static_cast<TestFront&&>(*r);
}

inline TestBack back_at(TestShared* s, RingIdx start, unsigned order = 0)
{
    auto r = TestBack::attach(s, start, order);
    EXPECT_TRUE(r.ok());
    return static_cast<TestBack&&>(*r);
}

inline std::uint8_t payload_byte(std::uint64_t seq, unsigned i)
{
    return static_cast<std::uint8_t>(seq * 0x9e3779b97f4a7c15ull >> 56) ^ static_cast<std::uint8_t>(i * 7);
}

inline TestReq make_request(std::uint64_t seq)
{
    TestReq r{};
    r.seq = seq;
    r.op = static_cast<std::uint32_t>(seq * 3);
    r.len = sizeof r.payload;
    for (unsigned i = 0; i < sizeof r.payload; ++i) r.payload[i] = payload_byte(seq, i);
    return r;
}

inline bool request_intact(const TestReq& r)
{
    if (r.op != static_cast<std::uint32_t>(r.seq * 3) || r.len != sizeof r.payload) return false;
    for (unsigned i = 0; i < sizeof r.payload; ++i)
        if (r.payload[i] != payload_byte(r.seq, i)) return false;
    return true;
}

inline TestRsp make_response(const TestReq& req)
{
    TestRsp r{};
    r.seq = req.seq;
    r.status = static_cast<std::int32_t>(req.seq % 7) - 3;
    r.check = static_cast<std::uint32_t>(req.seq ^ 0x5a5a5a5au);
    return r;
}

inline bool response_intact(const TestRsp& r)
{
    return r.status == static_cast<std::int32_t>(r.seq % 7) - 3 &&
           r.check == static_cast<std::uint32_t>(r.seq ^ 0x5a5a5a5au);
}

// An event channel as a sleeping end sees it: notify() latches a pending
// event; wait() sleeps until one is pending and consumes it. A wait that
// times out is a missed notification.
class Event {
public:
    void notify()
    {
        {
            std::lock_guard<std::mutex> g(m_);
            pending_ = true;
        }
        cv_.notify_one();
    }

    bool wait(std::chrono::milliseconds timeout)
    {
        std::unique_lock<std::mutex> g(m_);
        if (!cv_.wait_for(g, timeout, [this] { return pending_; })) return false;
        pending_ = false;
        return true;
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    bool pending_ = false;
};

} // namespace keel::guest::ring_test
