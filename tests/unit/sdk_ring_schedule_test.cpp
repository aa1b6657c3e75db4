// Randomised single-threaded schedules of a front end and a back end that
// sleep on events (sdk_ring_sim.hpp), with fixed seeds: nothing lost,
// duplicated, reordered or torn, and no notification missed, for small and
// multi-page rings, with indices that wrap at 2^32, and with one end replaced
// by ring.h's own macros on the same page.
#include "sdk_ring_sim.hpp"

#include <cstdint>

using namespace keel::guest;
using namespace keel::guest::ring_test;

namespace {

struct Schedule {
    std::uint32_t seed;
    RingIdx start;
    unsigned order;
    unsigned max_batch;
};

const Schedule kSchedules[] = {
    {1, 0, 0, 1},           {2, 0, 0, 3},           {3, 0, 0, 9},
    {4, 0xfffffff0u, 0, 2}, {5, 0xffffff00u, 0, 5}, {6, 0x7ffffffcu, 0, 4},
    {7, 0, 2, 8},           {8, 0xffffffe0u, 2, 40}, {9, 0xfffffffeu, 1, 3},
};

constexpr std::uint64_t kMessages = 3000;

std::string describe(const Schedule& s)
{
    return "seed " + std::to_string(s.seed) + " start " + std::to_string(s.start) + " order " +
           std::to_string(s.order) + " batch " + std::to_string(s.max_batch);
}

} // namespace

TEST(RingSchedule, CppFrontCppBack)
{
    for (const Schedule& sc : kSchedules) {
        SCOPED_TRACE(describe(sc));
        RingMemory mem(sc.order);
        init_shared_at(mem.ring(), sc.start);
        TestFront front = front_at(mem.ring(), sc.start, sc.order);
        TestBack back = back_at(mem.ring(), sc.start, sc.order);
        const SimResult r = simulate(CppFront{front}, CppBack{back}, kMessages, sc.seed, sc.max_batch);
        EXPECT_EQ(r.failure, "");
        EXPECT_LE(r.notifications, r.pushes);
        EXPECT_EQ(front.error(), keel::Errno::OK);
        EXPECT_EQ(back.error(), keel::Errno::OK);
        EXPECT_EQ(front.free_requests(), front.size());
    }
}

TEST(RingSchedule, BatchingSuppressesNotifications)
{
    // With batches of several messages, most pushes find the peer awake.
    RingMemory mem(2);
    init_shared_at(mem.ring(), 0);
    TestFront front = front_at(mem.ring(), 0, 2);
    TestBack back = back_at(mem.ring(), 0, 2);
    const SimResult r = simulate(CppFront{front}, CppBack{back}, 20000, 42, 16);
    ASSERT_EQ(r.failure, "");
    EXPECT_LT(r.notifications, r.pushes / 2);
    EXPECT_LT(r.notifications, 20000u);
}

TEST(RingSchedule, CFrontCppBack)
{
    for (const Schedule& sc : kSchedules) {
        SCOPED_TRACE(describe(sc));
        RingMemory mem(sc.order);
        keel_ring_c* c = keel_ring_c_new(mem.data(), mem.bytes(), sc.start, 1);
        ASSERT_NE(c, nullptr);
        TestBack back = back_at(mem.ring(), sc.start, sc.order);
        const SimResult r = simulate(CFront{c}, CppBack{back}, kMessages, sc.seed, sc.max_batch);
        EXPECT_EQ(r.failure, "");
        EXPECT_EQ(back.error(), keel::Errno::OK);
        keel_ring_c_delete(c);
    }
}

TEST(RingSchedule, CppFrontCBack)
{
    for (const Schedule& sc : kSchedules) {
        SCOPED_TRACE(describe(sc));
        RingMemory mem(sc.order);
        init_shared_at(mem.ring(), sc.start);
        TestFront front = front_at(mem.ring(), sc.start, sc.order);
        keel_ring_c* c = keel_ring_c_new(mem.data(), mem.bytes(), sc.start, 0);
        ASSERT_NE(c, nullptr);
        const SimResult r = simulate(CppFront{front}, CBack{c}, kMessages, sc.seed, sc.max_batch);
        EXPECT_EQ(r.failure, "");
        EXPECT_EQ(front.error(), keel::Errno::OK);
        keel_ring_c_delete(c);
    }
}

TEST(RingSchedule, FrontRingInitThenCBack)
{
    // The usual start: the front end initialises the page, the C back end attaches.
    RingMemory mem;
    auto fr = TestFront::init(mem.ring());
    ASSERT_TRUE(fr.ok());
    TestFront front = static_cast<TestFront&&>(*fr);
    keel_ring_c* c = keel_ring_c_new(mem.data(), mem.bytes(), 0, 0);
    const SimResult r = simulate(CppFront{front}, CBack{c}, kMessages, 77, 4);
    EXPECT_EQ(r.failure, "");
    keel_ring_c_delete(c);
}
