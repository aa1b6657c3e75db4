// Deadlines kept sorted: the scheduler's sleepers and wait timeouts, and later
// anyone else's timers (a network stack's retransmissions, say). A Timer is
// embedded in its owner and fires by callback; the list is ordered by
// deadline, first-armed first among equal deadlines, so expiry order is
// deterministic. Arming is a walk from the back (new deadlines tend to be the
// latest); cancelling and the next deadline are O(1). Enough for tens of
// timers; a heap or wheel can replace it behind the same interface.
//
// Not locked itself: its owner (the scheduler) holds the IrqGuard.
#pragma once

#include <keel/uk/intrusive_list.hpp>
#include <keel/uk/time.hpp>

namespace keel::uk {

struct TimerLinkTag;

struct Timer : ListLink<TimerLinkTag> {
    using Callback = void (*)(Timer& timer);

    Timer() = default;
    Timer(Callback cb, void* ctx) : fire(cb), context(ctx) {}
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    bool armed() const { return linked(); }

    Instant deadline;
    Callback fire = nullptr;
    void* context = nullptr;  // for the callback: usually the owner
};

class TimerQueue {
public:
    // (Re)arms `t` for `deadline`.
    void arm(Timer& t, Instant deadline);
    void cancel(Timer& t) { t.unlink(); }
    bool empty() const { return list_.empty(); }
    // The earliest armed deadline, Instant::never() when none.
    Instant next_deadline() const;
    // Disarms and fires, in order, every timer due at `now`; a callback may arm
    // timers again (one due at once fires in this same call). Returns how many fired.
    unsigned expire(Instant now);

private:
    IntrusiveList<Timer, TimerLinkTag> list_;
};

} // namespace keel::uk
