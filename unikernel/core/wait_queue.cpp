#include <keel/uk/wait_queue.hpp>

#include <keel/uk/irq_guard.hpp>
#include <keel/uk/scheduler.hpp>
#include <keel/uk/thread.hpp>

namespace keel::uk {

WaitQueue::Ticket WaitQueue::ticket() const
{
    IrqGuard guard;
    return generation_;
}

bool WaitQueue::empty() const
{
    IrqGuard guard;
    return waiters_.empty();
}

Status WaitQueue::wait(Scheduler& sched, Ticket ticket, Instant deadline)
{
    IrqGuard guard;
    // A wake since the ticket was taken: the condition may hold now, so don't sleep.
    if (generation_ != ticket) return {};
    waiters_.push_back(sched.current());
    if (sched.block_current(ThreadState::kBlocked, deadline) == WakeReason::kTimedOut)
        return Err(Errno::XEN_ETIMEDOUT);
    return {};
}

unsigned WaitQueue::wake_one()
{
    IrqGuard guard;
    ++generation_;
    Thread* t = waiters_.pop_front();
    if (t == nullptr) return 0;
    Scheduler& s = *t->scheduler_;
    s.wake(*t, WakeReason::kWoken);
    s.reschedule_if_needed(guard.preemptible());
    return 1;
}

unsigned WaitQueue::wake_all()
{
    IrqGuard guard;
    ++generation_;
    unsigned woken = 0;
    Scheduler* s = nullptr;
    while (Thread* t = waiters_.pop_front()) {
        s = t->scheduler_;
        s->wake(*t, WakeReason::kWoken);
        ++woken;
    }
    if (s != nullptr) s->reschedule_if_needed(guard.preemptible());
    return woken;
}

} // namespace keel::uk
