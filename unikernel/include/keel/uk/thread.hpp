// A unikernel thread: its stack, its saved CPU state while off the CPU, and
// the scheduler's bookkeeping. The Thread object is the caller's (static, on
// a stack, or from the heap): spawning never allocates one. The stack is
// either the caller's or pages the scheduler takes from the page allocator
// (returned when the thread is joined).
//
// States:
//   kNew       not spawned yet, or joined (the object may be spawned again)
//   kRunnable  on the run queue
//   kRunning   on the CPU (Scheduler::current())
//   kBlocked   on a wait queue (woken by wake_one/wake_all, or its timeout)
//   kSleeping  until a deadline
//   kExited    finished; its exit code waits for join
#pragma once

#include <cstddef>
#include <cstdint>
#include <keel/uk/intrusive_list.hpp>
#include <keel/uk/timer_queue.hpp>
#include <keel/uk/wait_queue.hpp>

namespace keel::uk {

class Scheduler;

enum class ThreadState : std::uint8_t { kNew, kRunnable, kRunning, kBlocked, kSleeping, kExited };
const char* thread_state_name(ThreadState s);

// Why a blocked or sleeping thread became runnable.
enum class WakeReason : std::uint8_t { kNone, kWoken, kTimedOut };

using ThreadEntry = int (*)(void* arg);

inline constexpr unsigned kPriorityLevels = 4;  // 0 (lowest) .. 3; round-robin within a level
inline constexpr unsigned kDefaultPriority = 1;
inline constexpr std::size_t kDefaultStackSize = 16 * 1024;

struct ThreadOptions {
    const char* name = "thread";
    unsigned priority = kDefaultPriority;
    void* stack = nullptr;  // lowest address of a caller-supplied stack; nullptr: pages from the scheduler
    std::size_t stack_size = kDefaultStackSize;
};

// A switched-out thread's CPU state. The layout is the arch's own
// (arch/aarch64/context_switch.S: x19-x30, sp, d8-d15, fpcr, fpsr); the
// core only stores it, and host test switchers leave it alone.
struct alignas(16) ArchContext {
    std::uint64_t words[24];
};

class Thread : public ListLink<SchedLinkTag> {
public:
    Thread() = default;
    Thread(const Thread&) = delete;
    Thread& operator=(const Thread&) = delete;

    const char* name() const { return name_; }
    ThreadState state() const { return state_; }
    unsigned priority() const { return priority_; }
    std::uint64_t id() const { return id_; }
    // Bottom (lowest address) and size of the stack.
    void* stack() const { return stack_; }
    std::size_t stack_size() const { return stack_size_; }
    // Times this thread was switched to: a starvation check for tests and demos.
    std::uint64_t switches_in() const { return switches_in_; }

    ArchContext& context() { return context_; }

private:
    friend class Scheduler;
    friend class WaitQueue;

    ArchContext context_{};
    const char* name_ = "";
    ThreadEntry entry_ = nullptr;
    void* arg_ = nullptr;
    Scheduler* scheduler_ = nullptr;
    void* stack_ = nullptr;
    std::size_t stack_size_ = 0;
    bool stack_owned_ = false;  // pages from the scheduler's allocator, freed at join
    ThreadState state_ = ThreadState::kNew;
    WakeReason wake_reason_ = WakeReason::kNone;
    unsigned priority_ = kDefaultPriority;
    int exit_code_ = 0;
    std::uint64_t id_ = 0;
    std::uint64_t switches_in_ = 0;
    Timer timer_;          // sleep deadline or wait timeout
    WaitQueue joiners_;    // threads in join() on this one
};

} // namespace keel::uk
