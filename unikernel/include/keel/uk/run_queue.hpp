// Runnable threads, one FIFO per priority level: pop takes the front of the
// highest non-empty level, push appends, so equal priorities round-robin.
#pragma once

#include <cstddef>
#include <keel/uk/intrusive_list.hpp>
#include <keel/uk/thread.hpp>

namespace keel::uk {

class RunQueue {
public:
    void push(Thread& t);
    Thread* pop();
    void remove(Thread& t);
    bool empty() const { return count_ == 0; }
    std::size_t size() const { return count_; }
    // Highest level with a thread, or -1 when empty.
    int highest() const;

private:
    IntrusiveList<Thread, SchedLinkTag> levels_[kPriorityLevels];
    std::size_t count_ = 0;
};

} // namespace keel::uk
