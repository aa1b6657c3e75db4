// The scheduler's decisions, driven step by step with a switcher that only
// records: the test plays whichever thread is current. Round robin, sleeps
// waking in deadline order, idle returning the next deadline, time slices,
// priorities, and the no-lost-wakeup rule.
#include <gtest/gtest.h>

#include <keel/uk/scheduler.hpp>
#include <keel/uk/wait_queue.hpp>

#include "uk_sched_test_support.hpp"

using keel::Errno;
using keel::uk::Instant;
using keel::uk::IrqGuard;
using keel::uk::milliseconds;
using keel::uk::Scheduler;
using keel::uk::Thread;
using keel::uk::ThreadOptions;
using keel::uk::ThreadState;
using keel::uk::WaitQueue;

namespace {

Instant at(std::uint64_t ms) { return Instant::from_ns(ms * 1000000); }
int never_runs(void*) { return 0; }

struct UkSchedDecisions : ::testing::Test {
    uk_test::RecordingSwitcher cpu;
    Scheduler sched{cpu, nullptr};
    Thread main_thread, idle, a, b, c, hi;
    alignas(16) unsigned char stacks[5][4096];

    void SetUp() override
    {
        keel::uk::arch::fake::reset();
        ASSERT_TRUE(sched.start(main_thread, "main", idle, stacks[0], sizeof stacks[0]).ok());
    }
    void spawn(Thread& t, const char* name, int slot, unsigned priority = keel::uk::kDefaultPriority)
    {
        ThreadOptions o;
        o.name = name;
        o.priority = priority;
        o.stack = stacks[slot];
        o.stack_size = sizeof stacks[slot];
        ASSERT_TRUE(sched.spawn(t, never_runs, nullptr, o).ok());
    }
    std::string current() { return sched.current().name(); }
};

} // namespace

TEST_F(UkSchedDecisions, YieldIsRoundRobin)
{
    spawn(a, "a", 1);
    spawn(b, "b", 2);
    spawn(c, "c", 3);
    EXPECT_TRUE(cpu.switches.empty());  // same priority as main: no preemption on spawn
    EXPECT_EQ(a.state(), ThreadState::kRunnable);
    const char* order[] = {"a", "b", "c", "main", "a"};
    for (const char* want : order) {
        sched.yield();  // as whoever is current
        EXPECT_EQ(current(), want);
    }
    EXPECT_EQ(cpu.switches, (std::vector<std::string>{"main->a", "a->b", "b->c", "c->main", "main->a"}));
    EXPECT_EQ(main_thread.state(), ThreadState::kRunnable);
    EXPECT_EQ(a.state(), ThreadState::kRunning);
}

TEST_F(UkSchedDecisions, YieldAloneKeepsTheCpu)
{
    sched.yield();
    EXPECT_EQ(current(), "main");
    EXPECT_TRUE(cpu.switches.empty());
}

TEST_F(UkSchedDecisions, IdleWhenNothingRunnableReturnsTheNextDeadline)
{
    cpu.clock = at(5);
    sched.sleep_until(at(30));
    EXPECT_EQ(current(), "idle");
    EXPECT_EQ(main_thread.state(), ThreadState::kSleeping);
    EXPECT_EQ(sched.idle_step(), at(30));
    EXPECT_EQ(cpu.timer, at(30));  // tickless: the timer is armed for the sleeper only
    cpu.clock = at(30);
    EXPECT_TRUE(sched.on_timer_tick());
    EXPECT_EQ(current(), "idle");  // the tick only marks; the interrupt's exit switches
    sched.preempt();
    EXPECT_EQ(current(), "main");
    EXPECT_EQ(cpu.last_switch(), "idle->main");
    EXPECT_TRUE(cpu.timer.is_never());
    EXPECT_TRUE(sched.idle_step().is_never() || current() == "main");
}

TEST_F(UkSchedDecisions, SleepersWakeInDeadlineOrder)
{
    spawn(a, "a", 1);
    spawn(b, "b", 2);
    spawn(c, "c", 3);
    sched.sleep_until(at(100));  // main: out of the way
    ASSERT_EQ(current(), "a");
    sched.sleep_until(at(30));
    ASSERT_EQ(current(), "b");
    sched.sleep_until(at(10));
    ASSERT_EQ(current(), "c");
    sched.sleep_until(at(20));
    ASSERT_EQ(current(), "idle");
    std::vector<std::string> woke;
    while (woke.size() < 4) {
        const Instant next = sched.idle_step();
        ASSERT_FALSE(next.is_never());
        ASSERT_EQ(cpu.timer, next);
        cpu.clock = next;
        sched.on_timer_tick();
        sched.preempt();
        woke.push_back(current());
        sched.sleep_until(at(1000));  // as the woken thread: done
    }
    EXPECT_EQ(woke, (std::vector<std::string>{"b", "c", "a", "main"}));
}

TEST_F(UkSchedDecisions, SameDeadlineWakesInSleepOrder)
{
    spawn(a, "a", 1);
    sched.sleep_until(at(10));  // main first
    sched.sleep_until(at(10));  // then a
    cpu.clock = at(10);
    sched.on_timer_tick();
    sched.preempt();
    EXPECT_EQ(current(), "main");
    sched.yield();
    EXPECT_EQ(current(), "a");
}

TEST_F(UkSchedDecisions, TimeSliceOnlyWhenContended)
{
    EXPECT_TRUE(cpu.timer.is_never());  // alone: no timer at all
    spawn(a, "a", 1);
    EXPECT_EQ(cpu.timer, at(10));  // a waits: main's slice now ends at 10 ms
    cpu.clock = at(9);
    EXPECT_FALSE(sched.on_timer_tick());  // early interrupt: no switch
    cpu.clock = at(10);
    EXPECT_TRUE(sched.on_timer_tick());
    sched.preempt();
    EXPECT_EQ(current(), "a");
    EXPECT_EQ(sched.stats().preemptions, 1u);
    EXPECT_EQ(cpu.timer, at(20));  // a's slice
    sched.sleep_until(at(50));     // a leaves: main alone again
    EXPECT_EQ(current(), "main");
    EXPECT_EQ(cpu.timer, at(50));
}

TEST_F(UkSchedDecisions, LowerPriorityDoesNotContendTheSlice)
{
    spawn(a, "a", 1, 0);
    EXPECT_TRUE(cpu.timer.is_never());
    sched.yield();  // a is lower: main keeps the CPU
    EXPECT_EQ(current(), "main");
    sched.sleep_until(at(10));
    EXPECT_EQ(current(), "a");  // only when main waits
}

TEST_F(UkSchedDecisions, HigherPriorityWokenByAnInterruptRunsAtItsExit)
{
    WaitQueue wq;
    spawn(hi, "hi", 1, 3);
    EXPECT_EQ(current(), "hi");  // spawned from thread context: runs at once
    (void)wq.wait(sched, wq.ticket());
    EXPECT_EQ(current(), "main");
    EXPECT_EQ(hi.state(), ThreadState::kBlocked);
    {
        IrqGuard in_interrupt;  // what an exception entry does
        EXPECT_EQ(wq.wake_one(), 1u);
        EXPECT_EQ(current(), "main");  // no switch inside the handler
        EXPECT_TRUE(sched.need_resched());
        sched.preempt();  // its exit
        EXPECT_EQ(current(), "hi");
    }
}

TEST_F(UkSchedDecisions, HigherPriorityWokenFromThreadContextRunsAtOnce)
{
    WaitQueue wq;
    spawn(hi, "hi", 1, 3);
    (void)wq.wait(sched, wq.ticket());
    ASSERT_EQ(current(), "main");
    EXPECT_EQ(wq.wake_one(), 1u);
    EXPECT_EQ(current(), "hi");
}

TEST_F(UkSchedDecisions, WakeBeforeBlockIsNotLost)
{
    WaitQueue wq;
    spawn(a, "a", 1);
    const auto ticket = wq.ticket();
    // ... the condition is checked and found false; meanwhile the event fires:
    EXPECT_EQ(wq.wake_one(), 0u);  // nobody waiting yet
    EXPECT_TRUE(wq.wait(sched, ticket).ok());
    EXPECT_EQ(current(), "main");  // returned at once, never blocked
    EXPECT_TRUE(cpu.switches.empty());
    // A fresh ticket blocks.
    (void)wq.wait(sched, wq.ticket());
    EXPECT_EQ(current(), "a");
    EXPECT_EQ(main_thread.state(), ThreadState::kBlocked);
}

TEST_F(UkSchedDecisions, WaitTimeoutWakesAndLeavesTheQueue)
{
    WaitQueue wq;
    cpu.clock = at(1);
    (void)wq.wait(sched, wq.ticket(), at(40));
    EXPECT_EQ(current(), "idle");
    EXPECT_EQ(sched.idle_step(), at(40));
    cpu.clock = at(40);
    sched.on_timer_tick();
    sched.preempt();
    EXPECT_EQ(current(), "main");
    EXPECT_TRUE(wq.empty());  // the timeout took it off the queue
    EXPECT_EQ(wq.wake_one(), 0u);
}

TEST_F(UkSchedDecisions, WaitWithPastDeadlineTimesOutAtOnce)
{
    WaitQueue wq;
    cpu.clock = at(50);
    EXPECT_EQ(wq.wait(sched, wq.ticket(), at(50)).error(), Errno::XEN_ETIMEDOUT);
    EXPECT_TRUE(wq.empty());
    EXPECT_TRUE(cpu.switches.empty());
}

TEST_F(UkSchedDecisions, WakeAllWakesInArrivalOrder)
{
    WaitQueue wq;
    spawn(a, "a", 1);
    spawn(b, "b", 2);
    (void)wq.wait(sched, wq.ticket());  // main
    (void)wq.wait(sched, wq.ticket());  // a
    ASSERT_EQ(current(), "b");
    EXPECT_EQ(wq.wake_all(), 2u);
    EXPECT_EQ(current(), "b");  // same priority: no preemption
    sched.yield();
    EXPECT_EQ(current(), "main");
    sched.yield();
    EXPECT_EQ(current(), "a");
}

TEST_F(UkSchedDecisions, SpawnErrors)
{
    ThreadOptions o;
    EXPECT_EQ(sched.spawn(a, never_runs, nullptr, o).error(), Errno::XEN_EINVAL);  // no stack, no allocator
    o.stack = stacks[1];
    o.stack_size = 64;
    EXPECT_EQ(sched.spawn(a, never_runs, nullptr, o).error(), Errno::XEN_EINVAL);  // too small
    o.stack_size = sizeof stacks[1];
    o.priority = keel::uk::kPriorityLevels;
    EXPECT_EQ(sched.spawn(a, never_runs, nullptr, o).error(), Errno::XEN_EINVAL);
    o.priority = 1;
    EXPECT_EQ(sched.spawn(main_thread, never_runs, nullptr, o).error(), Errno::XEN_EBUSY);
    EXPECT_TRUE(sched.spawn(a, never_runs, nullptr, o).ok());
    EXPECT_EQ(sched.spawn(a, never_runs, nullptr, o).error(), Errno::XEN_EBUSY);
    EXPECT_EQ(sched.join(main_thread).error(), Errno::XEN_EDEADLK);
    EXPECT_EQ(sched.join(b).error(), Errno::XEN_ESRCH);
    EXPECT_EQ(sched.join(idle).error(), Errno::XEN_EINVAL);
}
