#include <keel/uk/timer_queue.hpp>

namespace keel::uk {

void TimerQueue::arm(Timer& t, Instant deadline)
{
    t.unlink();
    t.deadline = deadline;
    // After the last timer due no later than this one: FIFO among equals.
    for (Timer* at = list_.back(); at != nullptr; at = list_.prev(*at)) {
        if (at->deadline <= deadline) {
            if (Timer* after = list_.next(*at)) list_.insert_before(*after, t);
            else list_.push_back(t);
            return;
        }
    }
    list_.push_front(t);
}

Instant TimerQueue::next_deadline() const
{
    const Timer* first = list_.front();
    return first != nullptr ? first->deadline : Instant::never();
}

unsigned TimerQueue::expire(Instant now)
{
    unsigned fired = 0;
    while (Timer* t = list_.front()) {
        if (t->deadline > now) break;
        t->unlink();
        ++fired;
        if (t->fire != nullptr) t->fire(*t);
    }
    return fired;
}

} // namespace keel::uk
