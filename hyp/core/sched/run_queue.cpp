#include "sched/run_queue.hpp"

namespace keel::sched {

Status RunQueue::add(Entity* e)
{
    if (count_ == kCapacity) return Err(Errno::XEN_ENOSPC);
    entities_[count_++] = e;
    return {};
}

void RunQueue::remove(Entity* e)
{
    for (unsigned i = 0; i < count_; ++i) {
        if (entities_[i] == e) {
            for (unsigned j = i + 1; j < count_; ++j) entities_[j - 1] = entities_[j];
            entities_[--count_] = nullptr;
            return;
        }
    }
}

Entity* RunQueue::pick_next(Entity* current, bool slice_expired)
{
    const bool current_wants = current != nullptr && wants_cpu(*current);
    if (current_wants && !slice_expired) return current;
    // Start looking just after `current` so everyone gets a turn.
    unsigned start = 0;
    for (unsigned i = 0; i < count_; ++i)
        if (entities_[i] == current) start = i + 1;
    for (unsigned k = 0; k < count_; ++k) {
        Entity* e = entities_[(start + k) % count_];
        if (e != current && e->state == State::Runnable && !e->paused) return e;
    }
    return current_wants ? current : nullptr;
}

bool RunQueue::wake_expired(std::uint64_t now)
{
    bool any = false;
    for (unsigned i = 0; i < count_; ++i) {
        Entity* e = entities_[i];
        if (e->state == State::Blocked && e->wake_at != 0 && e->wake_at <= now) {
            e->state = State::Runnable;
            any = true;
        }
    }
    return any;
}

std::uint64_t RunQueue::next_deadline() const
{
    std::uint64_t d = kNoDeadline;
    for (unsigned i = 0; i < count_; ++i) {
        const Entity* e = entities_[i];
        if (e->state == State::Blocked && e->wake_at != 0 && e->wake_at < d) d = e->wake_at;
    }
    return d;
}

unsigned RunQueue::nr_wanting() const
{
    unsigned n = 0;
    for (unsigned i = 0; i < count_; ++i)
        n += wants_cpu(*entities_[i]);
    return n;
}

bool RunQueue::wake(Entity* e)
{
    if (e->state != State::Blocked) return false;
    e->state = State::Runnable;
    return true;
}

} // namespace keel::sched
