#include <keel/uk/run_queue.hpp>

namespace keel::uk {

void RunQueue::push(Thread& t)
{
    levels_[t.priority()].push_back(t);
    ++count_;
}

Thread* RunQueue::pop()
{
    const int level = highest();
    if (level < 0) return nullptr;
    --count_;
    return levels_[level].pop_front();
}

void RunQueue::remove(Thread& t)
{
    if (!t.linked()) return;
    IntrusiveList<Thread, SchedLinkTag>::remove(t);
    --count_;
}

int RunQueue::highest() const
{
    for (int level = kPriorityLevels - 1; level >= 0; --level)
        if (!levels_[level].empty()) return level;
    return -1;
}

} // namespace keel::uk
