// Wait queues: where threads block until something happens, with a
// generation counter so no wake-up is lost (the discipline MirageOS's
// shared-memory rings use).
//
// A waiter takes a ticket *before* looking at its condition, and waits with
// it:
//
//     for (;;) {
//         auto ticket = wq.ticket();
//         if (condition()) break;
//         if (!wq.wait(sched, ticket, deadline)) break;   // ETIMEDOUT
//     }
//
// Every wake_one/wake_all advances the generation, so a wake that lands after
// the ticket but before wait() makes wait() return at once instead of
// sleeping through it. Waits may therefore return spuriously: re-check the
// condition. This is also how an interrupt handler (an event-channel upcall,
// later) will wake a thread: set the condition, then wake.
//
// Wakes are safe from interrupt handlers and critical sections; there they
// only make threads runnable, and the switch waits for the interrupt's exit
// (or the next scheduling point). From plain thread context a woken thread of
// higher priority runs at once.
#pragma once

#include <cstdint>
#include <keel/result.hpp>
#include <keel/uk/intrusive_list.hpp>
#include <keel/uk/time.hpp>

namespace keel::uk {

class Scheduler;
class Thread;
struct SchedLinkTag;  // a thread is on one run queue or one wait queue at a time

class WaitQueue {
public:
    using Ticket = std::uint64_t;

    WaitQueue() = default;
    WaitQueue(const WaitQueue&) = delete;
    WaitQueue& operator=(const WaitQueue&) = delete;

    Ticket ticket() const;
    // Blocks the current thread of `sched` unless a wake happened since
    // `ticket`. OK when woken (or already woken), ETIMEDOUT when `deadline`
    // passed first. Thread context only.
    Status wait(Scheduler& sched, Ticket ticket, Instant deadline = Instant::never());
    // Wakes the longest waiter / every waiter; returns how many were woken.
    unsigned wake_one();
    unsigned wake_all();
    bool empty() const;

private:
    friend class Scheduler;
    IntrusiveList<Thread, SchedLinkTag> waiters_;
    Ticket generation_ = 0;
};

} // namespace keel::uk
