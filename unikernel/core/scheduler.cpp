#include <keel/uk/scheduler.hpp>

#include <keel/uk/irq_guard.hpp>

namespace keel::uk {
namespace {

Scheduler* g_scheduler = nullptr;

// Room for the entry frame and a few calls: anything smaller is a mistake.
constexpr std::size_t kMinStackSize = 1024;

} // namespace

Scheduler& scheduler() { return *g_scheduler; }
void set_scheduler(Scheduler* s) { g_scheduler = s; }

Scheduler::Scheduler(SchedulerArch& arch, PageAllocator* stack_pages, Duration time_slice)
    : arch_(arch), stack_pages_(stack_pages), time_slice_(time_slice)
{
}

Status Scheduler::start(Thread& main, const char* main_name, Thread& idle, void* idle_stack,
                        std::size_t idle_stack_size)
{
    if (current_ != nullptr) return Err(Errno::XEN_EBUSY);
    if (idle_stack == nullptr || idle_stack_size < kMinStackSize) return Err(Errno::XEN_EINVAL);
    IrqGuard guard;
    main.name_ = main_name;
    main.scheduler_ = this;
    main.state_ = ThreadState::kRunning;
    main.id_ = next_id_++;
    main.timer_.fire = on_thread_timer;
    main.timer_.context = &main;
    current_ = &main;
    slice_end_ = arch_.now() + time_slice_;

    idle.name_ = "idle";
    idle.scheduler_ = this;
    idle.priority_ = 0;
    idle.entry_ = idle_entry;
    idle.arg_ = this;
    idle.stack_ = idle_stack;
    idle.stack_size_ = idle_stack_size;
    idle.state_ = ThreadState::kRunnable;  // never queued: picked when the queue is empty
    idle.id_ = 0;
    idle_ = &idle;
    arch_.prepare(idle);
    update_timer(true);
    return {};
}

Status Scheduler::spawn(Thread& t, ThreadEntry entry, void* arg, const ThreadOptions& options)
{
    if (entry == nullptr || options.priority >= kPriorityLevels) return Err(Errno::XEN_EINVAL);
    if (options.stack_size < kMinStackSize) return Err(Errno::XEN_EINVAL);
    IrqGuard guard;
    if (t.state_ != ThreadState::kNew || &t == current_ || &t == idle_) return Err(Errno::XEN_EBUSY);
    void* stack = options.stack;
    bool owned = false;
    if (stack == nullptr) {
        if (stack_pages_ == nullptr) return Err(Errno::XEN_EINVAL);
        auto pages = stack_pages_->alloc((options.stack_size + kPageSize - 1) / kPageSize);
        if (!pages) return Err(pages.error());
        stack = *pages;
        owned = true;
    }
    t.name_ = options.name;
    t.entry_ = entry;
    t.arg_ = arg;
    t.scheduler_ = this;
    t.stack_ = stack;
    t.stack_size_ = owned ? (options.stack_size + kPageSize - 1) / kPageSize * kPageSize : options.stack_size;
    t.stack_owned_ = owned;
    t.priority_ = options.priority;
    t.exit_code_ = 0;
    t.wake_reason_ = WakeReason::kNone;
    t.id_ = next_id_++;
    t.switches_in_ = 0;
    t.timer_.fire = on_thread_timer;
    t.timer_.context = &t;
    arch_.prepare(t);
    t.state_ = ThreadState::kRunnable;
    run_queue_.push(t);
    if (current_ == idle_ || t.priority_ > current_->priority_) need_resched_ = true;
    update_timer();
    reschedule_if_needed(guard.preemptible());
    return {};
}

void Scheduler::yield()
{
    IrqGuard guard;
    reschedule();
}

void Scheduler::sleep_until(Instant deadline)
{
    IrqGuard guard;
    (void)block_current(ThreadState::kSleeping, deadline);
}

Result<int> Scheduler::join(Thread& t)
{
    if (&t == idle_) return Err(Errno::XEN_EINVAL);
    if (&t == current_) return Err(Errno::XEN_EDEADLK);
    IrqGuard guard;
    if (t.scheduler_ != this || t.state_ == ThreadState::kNew) return Err(Errno::XEN_ESRCH);
    while (t.state_ != ThreadState::kExited) {
        // The guard is held from the state check to the block, so the exit
        // cannot slip in between; the ticket covers a wait that races anyway.
        (void)t.joiners_.wait(*this, t.joiners_.ticket());
        if (t.state_ == ThreadState::kNew) return Err(Errno::XEN_ESRCH);  // another joiner reaped it
    }
    if (t.stack_owned_ && stack_pages_ != nullptr)
        (void)stack_pages_->free(t.stack_, t.stack_size_ / kPageSize);
    t.stack_ = nullptr;
    t.stack_owned_ = false;
    t.state_ = ThreadState::kNew;
    return t.exit_code_;
}

void Scheduler::exit_current(int code)
{
    IrqGuard guard;
    Thread& t = *current_;
    t.exit_code_ = code;
    t.state_ = ThreadState::kExited;
    timers_.cancel(t.timer_);
    t.joiners_.wake_all();  // nested guard: only marks them runnable
    reschedule();
}

// --- blocking and waking ------------------------------------------------------------

WakeReason Scheduler::block_current(ThreadState why, Instant deadline)
{
    Thread& t = *current_;
    if (!deadline.is_never() && deadline <= arch_.now()) {
        t.unlink();  // off whatever wait queue the caller put it on
        return WakeReason::kTimedOut;
    }
    t.state_ = why;
    t.wake_reason_ = WakeReason::kNone;
    if (!deadline.is_never()) timers_.arm(t.timer_, deadline);
    reschedule();
    // Whoever made us runnable recorded why (wake() or the timer): nothing
    // left to undo here, which keeps the waker and the woken from racing.
    return t.wake_reason_;
}

bool Scheduler::wake(Thread& t, WakeReason why)
{
    if (t.state_ != ThreadState::kBlocked && t.state_ != ThreadState::kSleeping) return false;
    t.unlink();
    timers_.cancel(t.timer_);
    t.wake_reason_ = why;
    t.state_ = ThreadState::kRunnable;
    run_queue_.push(t);
    if (current_ == idle_ || t.priority_ > current_->priority_) need_resched_ = true;
    update_timer();
    return true;
}

void Scheduler::on_thread_timer(Timer& timer)
{
    Thread& t = *static_cast<Thread*>(timer.context);
    (void)t.scheduler_->wake(t, WakeReason::kTimedOut);
}

void Scheduler::reschedule_if_needed(bool preemptible)
{
    if (preemptible && need_resched_) reschedule();
}

// --- picking the next thread ----------------------------------------------------------

// Another thread is entitled to the CPU when the current slice ends.
bool Scheduler::slice_contended() const
{
    return current_ != idle_ && run_queue_.highest() >= static_cast<int>(current_->priority_);
}

void Scheduler::reschedule()
{
    Thread* prev = current_;
    if (prev->state_ == ThreadState::kRunning) {
        prev->state_ = ThreadState::kRunnable;
        if (prev != idle_) run_queue_.push(*prev);
    }
    Thread* next = run_queue_.pop();
    if (next == nullptr) next = idle_;
    need_resched_ = false;
    next->state_ = ThreadState::kRunning;
    current_ = next;
    slice_end_ = arch_.now() + time_slice_;
    update_timer();
    if (next == prev) return;
    ++stats_.context_switches;
    ++next->switches_in_;
    arch_.switch_to(*prev, *next);
}

void Scheduler::update_timer(bool force)
{
    Instant deadline = timers_.next_deadline();
    if (slice_contended()) deadline = earliest(deadline, slice_end_);
    if (force || deadline != programmed_) {
        programmed_ = deadline;
        arch_.set_timer(deadline);
    }
}

// --- interrupt side --------------------------------------------------------------------

bool Scheduler::on_timer_tick()
{
    IrqGuard guard;
    ++stats_.timer_ticks;
    const Instant now = arch_.now();
    timers_.expire(now);
    if (slice_contended() && now >= slice_end_) need_resched_ = true;
    // The interrupt consumed the programmed deadline: always arm again.
    update_timer(true);
    return need_resched_;
}

void Scheduler::preempt()
{
    IrqGuard guard;
    if (!need_resched_) return;
    ++stats_.preemptions;
    reschedule();
}

// --- idle and thread start ----------------------------------------------------------------

Instant Scheduler::idle_step()
{
    IrqGuard guard;
    timers_.expire(arch_.now());
    if (!run_queue_.empty()) reschedule();
    update_timer();
    return timers_.next_deadline();
}

void Scheduler::idle_loop()
{
    for (;;) {
        (void)idle_step();
        IrqGuard guard;
        // Masked from the check to the wait: an interrupt arriving in between
        // stays pending and ends the wait at once instead of being slept through.
        if (!run_queue_.empty()) continue;
        ++stats_.idle_waits;
        arch_.wait_for_interrupt();
    }
}

int Scheduler::idle_entry(void* scheduler)
{
    static_cast<Scheduler*>(scheduler)->idle_loop();
}

void Scheduler::thread_main(Thread& t)
{
    // The switch that got us here was made under the switching thread's guard.
    arch::irq_enable();
    const int code = t.entry_(t.arg_);
    exit_current(code);
}

} // namespace keel::uk
