// The sorted timer queue and the run queue under the scheduler.
#include <gtest/gtest.h>

#include <keel/uk/run_queue.hpp>
#include <keel/uk/timer_queue.hpp>

#include <string>
#include <vector>

using keel::uk::Instant;
using keel::uk::Timer;
using keel::uk::TimerQueue;

namespace {

std::vector<std::string> g_fired;

struct NamedTimer : Timer {
    explicit NamedTimer(const char* n)
        : Timer([](Timer& t) { g_fired.push_back(static_cast<const char*>(t.context)); }, const_cast<char*>(n))
    {
    }
};

Instant at(std::uint64_t ms) { return Instant::from_ns(ms * 1000000); }

} // namespace

TEST(UkTimerQueue, FiresInDeadlineOrderFifoAmongEquals)
{
    g_fired.clear();
    TimerQueue q;
    NamedTimer a("a"), b("b"), c("c"), d("d"), e("e");
    EXPECT_TRUE(q.next_deadline().is_never());
    q.arm(a, at(30));
    q.arm(b, at(10));
    q.arm(c, at(20));
    q.arm(d, at(10));  // same as b, armed later: fires after b
    q.arm(e, at(5));
    EXPECT_EQ(q.next_deadline(), at(5));
    EXPECT_EQ(q.expire(at(4)), 0u);
    EXPECT_EQ(q.expire(at(10)), 3u);
    EXPECT_EQ(g_fired, (std::vector<std::string>{"e", "b", "d"}));
    EXPECT_FALSE(b.armed());
    EXPECT_EQ(q.next_deadline(), at(20));
    EXPECT_EQ(q.expire(at(100)), 2u);
    EXPECT_EQ(g_fired, (std::vector<std::string>{"e", "b", "d", "c", "a"}));
    EXPECT_TRUE(q.empty());
}

TEST(UkTimerQueue, CancelAndRearm)
{
    g_fired.clear();
    TimerQueue q;
    NamedTimer a("a"), b("b");
    q.arm(a, at(10));
    q.arm(b, at(20));
    q.cancel(a);
    q.cancel(a);  // twice is harmless
    EXPECT_EQ(q.next_deadline(), at(20));
    q.arm(b, at(40));  // re-arming moves it
    q.arm(a, at(30));
    EXPECT_EQ(q.expire(at(35)), 1u);
    EXPECT_EQ(g_fired, (std::vector<std::string>{"a"}));
    EXPECT_EQ(q.next_deadline(), at(40));
}

TEST(UkTimerQueue, CallbackMayRearm)
{
    TimerQueue q;
    struct Periodic : Timer {
        TimerQueue* q = nullptr;
        int count = 0;
    } p;
    p.q = &q;
    p.context = &p;
    p.fire = [](Timer& t) {
        auto& self = *static_cast<Periodic*>(t.context);
        if (++self.count < 3) self.q->arm(self, t.deadline + keel::uk::milliseconds(10));
    };
    q.arm(p, at(10));
    EXPECT_EQ(q.expire(at(25)), 2u);  // 10 and 20; 30 is not due
    EXPECT_EQ(p.count, 2);
    EXPECT_EQ(q.next_deadline(), at(30));
    EXPECT_EQ(q.expire(at(30)), 1u);
    EXPECT_TRUE(q.empty());
}
