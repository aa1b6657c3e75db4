// Ticket spinlock, fair between CPUs. On AArch64 the waiter sleeps in WFE and
// the unlocking store (a release to the watched line) wakes it; elsewhere it spins.
#pragma once

#include <cstdint>

namespace keel {

class Spinlock {
public:
    void lock()
    {
        const std::uint16_t me = __atomic_fetch_add(&next_, 1, __ATOMIC_RELAXED);
        while (__atomic_load_n(&owner_, __ATOMIC_ACQUIRE) != me) relax();
    }
    void unlock()
    {
        __atomic_store_n(&owner_, static_cast<std::uint16_t>(owner_ + 1), __ATOMIC_RELEASE);
#if defined(__aarch64__)
        asm volatile("sev" ::: "memory");
#endif
    }
    bool held() const { return __atomic_load_n(&owner_, __ATOMIC_RELAXED) != __atomic_load_n(&next_, __ATOMIC_RELAXED); }

private:
    static void relax()
    {
#if defined(__aarch64__)
        asm volatile("wfe" ::: "memory");
#endif
    }
    std::uint16_t owner_ = 0;
    std::uint16_t next_ = 0;
};

// Scoped holder: the lock is released on every path out of the scope.
class LockGuard {
public:
    explicit LockGuard(Spinlock& l) : l_(l) { l_.lock(); }
    ~LockGuard() { l_.unlock(); }
    LockGuard(const LockGuard&) = delete;
    LockGuard& operator=(const LockGuard&) = delete;

private:
    Spinlock& l_;
};

} // namespace keel
