#include <keel/uk/thread.hpp>

namespace keel::uk {

const char* thread_state_name(ThreadState s)
{
    switch (s) {
    case ThreadState::kNew: return "new";
    case ThreadState::kRunnable: return "runnable";
    case ThreadState::kRunning: return "running";
    case ThreadState::kBlocked: return "blocked";
    case ThreadState::kSleeping: return "sleeping";
    case ThreadState::kExited: return "exited";
    }
    return "?";
}

} // namespace keel::uk
