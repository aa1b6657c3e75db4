// The scheduler of one CPU: round-robin within priority levels, time slices
// enforced by the timer interrupt (preemption), sleeps and wait timeouts on a
// sorted timer queue, an idle thread that waits for the next interrupt.
//
// Tickless: the arch timer is programmed for the earliest of the next timer
// deadline and, when another thread of at least the current one's priority
// is runnable, the end of the current time slice.
//
// Locking: every operation runs under an IrqGuard (the single-CPU lock). A
// switch happens with the guard held; the thread switched to releases its
// own guard (or, new, unmasks in thread_main). SMP will give each CPU its own
// Scheduler and pair the mask with a spinlock per run queue; wait queues wake
// a thread through its own scheduler (Thread::scheduler_) already.
//
// Interrupt side (arch/aarch64/irq.cpp is the model):
//     handler: ... sched.on_timer_tick(); ...; end of interrupt; sched.preempt();
// on_timer_tick and wakes from handlers only mark a reschedule as needed;
// preempt(), called once the interrupt is completed, performs it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <keel/result.hpp>
#include <keel/uk/page_allocator.hpp>
#include <keel/uk/run_queue.hpp>
#include <keel/uk/scheduler_arch.hpp>
#include <keel/uk/thread.hpp>
#include <keel/uk/time.hpp>
#include <keel/uk/timer_queue.hpp>

namespace keel::uk {

class Scheduler {
public:
    static constexpr Duration kDefaultTimeSlice = milliseconds(10);

    struct Stats {
        std::uint64_t context_switches = 0;
        std::uint64_t preemptions = 0;  // switches forced by preempt() (slice over, priority)
        std::uint64_t timer_ticks = 0;  // on_timer_tick calls
        std::uint64_t idle_waits = 0;   // times the idle thread waited for an interrupt
    };

    // `stack_pages` supplies stacks for threads spawned without one (nullptr:
    // every spawn must bring its own stack).
    Scheduler(SchedulerArch& arch, PageAllocator* stack_pages, Duration time_slice = kDefaultTimeSlice);
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    // The calling context becomes `main` (running, default priority, its
    // current stack); `idle` is prepared on `idle_stack` to run idle_loop().
    Status start(Thread& main, const char* main_name, Thread& idle, void* idle_stack, std::size_t idle_stack_size);

    // Makes `t` (kNew) runnable at entry(arg). EBUSY if t is not kNew, EINVAL
    // for a bad priority or a stack too small, ENOMEM without stack pages.
    Status spawn(Thread& t, ThreadEntry entry, void* arg, const ThreadOptions& options = {});
    // Back of the current priority level's queue; returns when picked again.
    void yield();
    void sleep_until(Instant deadline);
    void sleep_for(Duration d) { sleep_until(now() + d); }
    // Waits for `t` to exit and returns its exit code; `t` is then kNew again
    // and its scheduler-supplied stack is freed. EDEADLK for the caller
    // itself, ESRCH for a thread not spawned (or already joined), EINVAL for
    // the idle thread.
    Result<int> join(Thread& t);
    // Ends the current thread. Never returns on a CPU; returns only under a
    // host test switcher, which lets the backing host thread finish.
    void exit_current(int code);

    Thread& current() { return *current_; }
    Thread& idle_thread() { return *idle_; }
    Instant now() { return arch_.now(); }
    Stats stats() const { return stats_; }
    std::size_t runnable() const { return run_queue_.size(); }

    // --- interrupt side -------------------------------------------------------
    // Timer interrupt: fires due timers (sleepers and timeouts wake), ends an
    // expired time slice, re-arms the arch timer. Returns whether a
    // reschedule is needed. Never switches.
    bool on_timer_tick();
    bool need_resched() const { return need_resched_; }
    // Switches away if a reschedule is needed; the end of every interrupt.
    void preempt();

    // --- idle ---------------------------------------------------------------------
    // One round of the idle thread: fires timers already due and, if anything
    // is runnable, switches to it. Returns the next timer deadline (never():
    // none), which the arch timer is already armed for.
    Instant idle_step();
    // The idle thread's body: idle_step, then wait for an interrupt, forever.
    [[noreturn]] void idle_loop();

    // Where every spawned thread starts (the arch trampoline calls it on the
    // thread's own stack): unmask interrupts, run the entry, exit with its result.
    void thread_main(Thread& t);

    // --- for wait queues ------------------------------------------------------------
    // Blocks the current thread (already queued where a waker will find it)
    // in state `why` until woken or `deadline`. Caller holds an IrqGuard.
    WakeReason block_current(ThreadState why, Instant deadline);
    // Blocked/sleeping -> runnable; false if t was not waiting. Caller holds an IrqGuard.
    bool wake(Thread& t, WakeReason why);
    // Switch now if a reschedule is due and the caller was preemptible.
    void reschedule_if_needed(bool preemptible);

private:
    static void on_thread_timer(Timer& timer);
    static int idle_entry(void* scheduler);
    void reschedule();
    void update_timer(bool force = false);
    bool slice_contended() const;

    SchedulerArch& arch_;
    PageAllocator* stack_pages_;
    Duration time_slice_;
    Thread* current_ = nullptr;
    Thread* idle_ = nullptr;
    RunQueue run_queue_;
    TimerQueue timers_;
    Instant slice_end_;
    Instant programmed_ = Instant::never();
    bool need_resched_ = false;
    std::uint64_t next_id_ = 1;
    Stats stats_;
};

// The scheduler the convenience functions below (and the libc glue, later)
// use: the boot CPU's, installed by the arch boot code (or a host test).
Scheduler& scheduler();
void set_scheduler(Scheduler* s);

namespace this_thread {
inline Thread& self() { return scheduler().current(); }
inline void yield() { scheduler().yield(); }
inline void sleep_for(Duration d) { scheduler().sleep_for(d); }
inline void sleep_until(Instant t) { scheduler().sleep_until(t); }
inline Instant now() { return scheduler().now(); }
} // namespace this_thread

} // namespace keel::uk
