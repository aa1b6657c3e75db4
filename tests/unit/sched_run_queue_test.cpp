#include "sched/run_queue.hpp"

#include <gtest/gtest.h>

using namespace keel::sched;

TEST(SchedRunQueue, RoundRobinAmongRunnable)
{
    RunQueue q;
    Entity a, b, c;
    for (Entity* e : {&a, &b, &c}) {
        e->state = State::Runnable;
        ASSERT_TRUE(q.add(e).ok());
    }
    Entity* cur = q.pick_next(nullptr, true);
    EXPECT_EQ(cur, &a);
    cur->state = State::Running;
    EXPECT_EQ(q.pick_next(cur, false), &a) << "slice not over: keep running";
    cur->state = State::Runnable;
    cur = q.pick_next(cur, true);
    EXPECT_EQ(cur, &b);
    cur = q.pick_next(cur, true);
    EXPECT_EQ(cur, &c);
    cur = q.pick_next(cur, true);
    EXPECT_EQ(cur, &a);
}

TEST(SchedRunQueue, BlockedAndOfflineAreSkippedAndIdleWhenNoneRunnable)
{
    RunQueue q;
    Entity a, b;
    ASSERT_TRUE(q.add(&a).ok());
    ASSERT_TRUE(q.add(&b).ok());
    a.state = State::Blocked;
    b.state = State::Offline;
    EXPECT_EQ(q.pick_next(&a, true), nullptr);
    EXPECT_TRUE(RunQueue::wake(&a));
    EXPECT_FALSE(RunQueue::wake(&a)) << "waking a runnable vCPU is a no-op";
    EXPECT_FALSE(RunQueue::wake(&b)) << "an offline vCPU is not woken by interrupts";
    EXPECT_EQ(q.pick_next(nullptr, true), &a);
}

TEST(SchedRunQueue, CurrentKeepsCpuIfAloneEvenWhenSliceExpires)
{
    RunQueue q;
    Entity a, b;
    ASSERT_TRUE(q.add(&a).ok());
    ASSERT_TRUE(q.add(&b).ok());
    a.state = State::Running;
    b.state = State::Blocked;
    EXPECT_EQ(q.pick_next(&a, true), &a);
    EXPECT_EQ(q.nr_wanting(), 1u);
}

TEST(SchedRunQueue, DeadlinesWakeBlockedEntities)
{
    RunQueue q;
    Entity a, b, c;
    for (Entity* e : {&a, &b, &c}) ASSERT_TRUE(q.add(e).ok());
    a.state = State::Blocked;
    a.wake_at = 500;
    b.state = State::Blocked;
    b.wake_at = 300;
    c.state = State::Blocked;  // no deadline: waits for an interrupt only
    EXPECT_EQ(q.next_deadline(), 300u);
    EXPECT_FALSE(q.wake_expired(299));
    EXPECT_TRUE(q.wake_expired(300));
    EXPECT_EQ(b.state, State::Runnable);
    EXPECT_EQ(a.state, State::Blocked);
    EXPECT_EQ(q.next_deadline(), 500u);
    EXPECT_TRUE(q.wake_expired(10000));
    EXPECT_EQ(c.state, State::Blocked);
    EXPECT_EQ(q.next_deadline(), kNoDeadline);
}

TEST(SchedRunQueue, CapacityAndRemove)
{
    RunQueue q;
    Entity es[RunQueue::kCapacity + 1];
    for (unsigned i = 0; i < RunQueue::kCapacity; ++i) ASSERT_TRUE(q.add(&es[i]).ok());
    EXPECT_EQ(q.add(&es[RunQueue::kCapacity]).error(), keel::Errno::XEN_ENOSPC);
    es[3].state = State::Runnable;
    q.remove(&es[3]);
    EXPECT_EQ(q.pick_next(nullptr, true), nullptr);
}

TEST(SchedRunQueue, PausedEntitiesKeepTheirStateButNeverRun)
{
    RunQueue q;
    Entity a, b;
    ASSERT_TRUE(q.add(&a).ok());
    ASSERT_TRUE(q.add(&b).ok());
    a.state = State::Running;
    b.state = State::Runnable;
    a.paused = true;
    EXPECT_EQ(q.pick_next(&a, false), &b) << "a paused current vCPU gives up the CPU before its slice ends";
    EXPECT_EQ(q.nr_wanting(), 1u);
    b.paused = true;
    EXPECT_EQ(q.pick_next(&b, false), nullptr) << "all paused: idle";
    EXPECT_EQ(a.state, State::Running) << "pausing does not change the run state";
    b.state = State::Blocked;
    EXPECT_TRUE(RunQueue::wake(&b)) << "a paused vCPU can still be woken";
    EXPECT_EQ(q.pick_next(nullptr, true), nullptr) << "...but does not run";
    a.paused = false;
    b.paused = false;
    EXPECT_EQ(q.nr_wanting(), 2u);
    EXPECT_NE(q.pick_next(nullptr, true), nullptr);
}
