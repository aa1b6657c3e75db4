// One physical CPU's run queue: the vCPUs pinned to it, picked round-robin.
// vCPUs never migrate (placement is decided when a domain is built), so each
// queue is touched by its own CPU plus wake-ups from others, under its lock.
#pragma once

#include <keel/result.hpp>
#include <keel/spinlock.hpp>

#include <cstdint>

namespace keel::sched {

enum class State : std::uint8_t {
    Offline,   // not started (PSCI CPU_ON pending) or stopped
    Runnable,
    Running,
    Blocked,   // in WFI: waits for an interrupt or its timer deadline
};

// Embedded in each vCPU: the scheduler's view of it.
struct Entity {
    State state = State::Offline;
    std::uint64_t wake_at = 0;   // counter value that ends a Blocked wait; 0 = none
    bool kick_pending = false;   // woken while running: re-evaluate before re-entering
    // Held off the CPU by the control domain (XEN_DOMCTL_pausedomain) whatever its
    // state: a paused Runnable entity stays Runnable and runs again once unpaused.
    bool paused = false;
};

// An entity that would run if it were picked.
inline bool wants_cpu(const Entity& e)
{
    return !e.paused && (e.state == State::Runnable || e.state == State::Running);
}

inline constexpr std::uint64_t kNoDeadline = ~0ull;

class RunQueue {
public:
    static constexpr unsigned kCapacity = 16;

    Status add(Entity* e);
    void remove(Entity* e);
    // Next entity to run after `current` (which may be nullptr or no longer runnable).
    // Round-robin among Runnable entities; `current` keeps the CPU while its slice
    // lasts. nullptr means nothing is runnable: idle.
    Entity* pick_next(Entity* current, bool slice_expired);
    // Blocked entities whose deadline has passed become Runnable; true if any did.
    bool wake_expired(std::uint64_t now);
    // The earliest deadline among Blocked entities, kNoDeadline if none.
    std::uint64_t next_deadline() const;
    // Number of entities that want the CPU (Runnable or Running).
    unsigned nr_wanting() const;
    // Blocked -> Runnable (an interrupt arrived). True if the state changed.
    static bool wake(Entity* e);

    Spinlock lock;

private:
    Entity* entities_[kCapacity] = {};
    unsigned count_ = 0;
};

} // namespace keel::sched
