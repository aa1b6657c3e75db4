// Host stand-ins for the CPU under the unikernel scheduler.
//
// RecordingSwitcher: switch_to only records "from->to" and returns, so a test
// drives the scheduler's decisions step by step, playing whichever thread is
// current (no stacks, nothing runs by itself).
//
// HostThreadSwitcher: every unikernel thread is backed by a host thread, and
// exactly one of them holds the (simulated) CPU at a time; switch_to hands it
// over and parks the caller until it is switched back to. Time is a
// simulated clock: it moves when the idle thread waits (to the programmed
// timer deadline) or when a thread "computes" with run_for(); the timer
// interrupt is delivered through the fake CPU (arch/fake), so preemption
// happens exactly where it would on hardware. Deterministic.
#pragma once

#include <gtest/gtest.h>

#include <keel/uk/irq_guard.hpp>
#include <keel/uk/scheduler.hpp>
#include <keel/uk/scheduler_arch.hpp>

#include "fake_cpu.hpp"

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace uk_test {

using keel::uk::Duration;
using keel::uk::Instant;
using keel::uk::Scheduler;
using keel::uk::Thread;

class RecordingSwitcher final : public keel::uk::SchedulerArch {
public:
    void prepare(Thread& t) override { prepared.push_back(&t); }
    void switch_to(Thread& from, Thread& to) override
    {
        EXPECT_TRUE(keel::uk::arch::irqs_masked()) << "switch without the guard";
        switches.push_back(std::string(from.name()) + "->" + to.name());
    }
    Instant now() override { return clock; }
    void set_timer(Instant deadline) override
    {
        timer = deadline;
        ++timer_writes;
    }
    void wait_for_interrupt() override { ++waits; }

    std::string last_switch() const { return switches.empty() ? "" : switches.back(); }

    std::vector<Thread*> prepared;
    std::vector<std::string> switches;
    Instant clock;
    Instant timer = Instant::never();
    int timer_writes = 0;
    int waits = 0;
};

class HostThreadSwitcher final : public keel::uk::SchedulerArch {
public:
    HostThreadSwitcher() { keel::uk::arch::fake::reset(); }
    ~HostThreadSwitcher() { shutdown(); }

    // The scheduler whose interrupts this CPU delivers: the timer interrupt
    // runs on_timer_tick, then preempt, as arch/aarch64/irq.cpp does.
    void attach(Scheduler& s)
    {
        sched_ = &s;
        keel::uk::arch::fake::set_irq_handler(
            [](void* ctx) {
                auto* sch = static_cast<Scheduler*>(ctx);
                sch->on_timer_tick();
                sch->preempt();
            },
            &s);
    }

    void prepare(Thread& t) override
    {
        auto it = hosts_.find(&t);
        if (it != hosts_.end() && it->second.joinable()) it->second.join();  // respawned after join
        hosts_[&t] = std::thread([this, &t] { body(t); });
    }

    void switch_to(Thread& from, Thread& to) override
    {
        EXPECT_TRUE(keel::uk::arch::irqs_masked()) << "switch without the guard";
        switches.push_back(std::string(from.name()) + "->" + to.name());
        std::unique_lock<std::mutex> lock(mutex_);
        running_ = &to;
        cv_.notify_all();
        if (from.state() == keel::uk::ThreadState::kExited) return;  // its host thread ends
        park(lock, from);
    }

    Instant now() override { return clock_; }
    void set_timer(Instant deadline) override { timer_ = deadline; }
    void wait_for_interrupt() override
    {
        if (timer_.is_never()) {
            std::fprintf(stderr, "uk test: idle with no timer armed and nothing runnable: deadlock\n");
            std::abort();
        }
        if (timer_ > clock_) clock_ = timer_;
        keel::uk::arch::fake::raise_irq();  // taken when the idle thread unmasks
    }

    // The running thread computes for `d`: the clock moves, and a timer
    // interrupt that falls due is taken right here (interrupts unmasked).
    void run_for(Duration d)
    {
        clock_ = clock_ + d;
        if (clock_ >= timer_) keel::uk::arch::fake::raise_irq();
    }

    Instant clock() const { return clock_; }
    Instant timer() const { return timer_; }

    // Ends every host thread still parked (unwinding it out of the scheduler),
    // one at a time. Call from the test's main thread once the test is done.
    void shutdown()
    {
        keel::uk::arch::fake::set_irq_handler(nullptr, nullptr);
        for (auto& [t, host] : hosts_) {
            if (!host.joinable()) continue;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                unwinding_ = t;
                cv_.notify_all();
            }
            host.join();
        }
        hosts_.clear();
        keel::uk::arch::fake::reset();
    }

    std::vector<std::string> switches;

private:
    struct Unwind {};

    void park(std::unique_lock<std::mutex>& lock, Thread& self)
    {
        cv_.wait(lock, [&] { return running_ == &self || unwinding_ == &self; });
        if (unwinding_ == &self) throw Unwind{};
    }

    void body(Thread& t)
    {
        try {
            {
                std::unique_lock<std::mutex> lock(mutex_);
                park(lock, t);
            }
            sched_->thread_main(t);
        } catch (const Unwind&) {
        }
    }

    Scheduler* sched_ = nullptr;
    std::mutex mutex_;
    std::condition_variable cv_;
    Thread* running_ = nullptr;
    Thread* unwinding_ = nullptr;
    std::map<Thread*, std::thread> hosts_;
    Instant clock_;
    Instant timer_ = Instant::never();
};

} // namespace uk_test
