// What the scheduler needs from the CPU under it, injected so the same
// scheduler runs on AArch64 (arch/aarch64: real stacks and registers, the
// virtual timer) and in host tests (a switcher that only records decisions,
// or one that backs each thread with a host thread and a simulated clock).
//
// Every call is made with interrupts masked (IrqGuard held).
#pragma once

#include <keel/uk/time.hpp>

namespace keel::uk {

class Thread;

class SchedulerArch {
public:
    // Sets up t's context so that the first switch to t runs
    // Scheduler::thread_main(t) on t's stack.
    virtual void prepare(Thread& t) = 0;
    // Saves the CPU state into from.context() and resumes `to`. Returns when
    // `from` is switched back to, with interrupts still masked; never returns
    // for an exited `from` on a real CPU.
    virtual void switch_to(Thread& from, Thread& to) = 0;
    // Monotonic time since boot.
    virtual Instant now() = 0;
    // One timer interrupt at `deadline` (or as soon as possible if it has
    // passed), replacing any earlier request; Instant::never(): none.
    virtual void set_timer(Instant deadline) = 0;
    // The idle thread's wait: returns once an interrupt is pending (it is
    // taken when the caller unmasks). AArch64: WFI.
    virtual void wait_for_interrupt() = 0;

protected:
    ~SchedulerArch() = default;
};

} // namespace keel::uk
