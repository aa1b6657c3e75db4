// Every barrier and atomic the SDK uses on memory shared with the hypervisor
// or another domain lives in this one header, so the ordering story can be
// audited in one place.
//
// The peer is another CPU (a vCPU of another domain, or the hypervisor on
// another pCPU) in the same inner-shareable domain, so AArch64 needs the
// `ish` variants of DMB; nothing here orders against devices. On the host
// (unit tests) the same functions are plain C++ fences, which are at least as
// strong.
//
// Naming follows the Linux/Xen `virt_*` barriers that io/ring.h and the
// event-channel protocol are written against:
//   full_barrier()  orders earlier loads and stores before later loads and stores;
//   read_barrier()  orders earlier loads before later loads  ("rmb");
//   write_barrier() orders earlier stores before later stores ("wmb").
#pragma once

#include <cstdint>
#include <type_traits>

namespace keel::guest::shm {

inline void full_barrier()
{
#if defined(__aarch64__)
    asm volatile("dmb ish" ::: "memory");
#else
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

inline void read_barrier()
{
#if defined(__aarch64__)
    asm volatile("dmb ishld" ::: "memory");
#else
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

inline void write_barrier()
{
#if defined(__aarch64__)
    asm volatile("dmb ishst" ::: "memory");
#else
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

// A single load or store of a shared field, never torn, never merged or
// repeated by the compiler: the peer may change the field at any time, so
// every use reads it exactly once into a local and validates the local.
template <typename T>
inline T read_once(const T& field)
{
    static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8);
    return __atomic_load_n(&field, __ATOMIC_RELAXED);
}

template <typename T>
inline void write_once(T& field, T value)
{
    static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8);
    __atomic_store_n(&field, value, __ATOMIC_RELAXED);
}

// A whole record (a ring request or response) copied between shared memory
// and a local. copy_from_shared is the snapshot a consumer validates and then
// uses: the compiler barrier after the copy forbids the compiler from reading
// `shared` again later in place of the local (a double fetch, which would let
// the peer change a field between its check and its use). No ordering against
// the peer is implied; pair it with read_barrier()/write_barrier() as needed.
template <typename T>
inline void copy_from_shared(T& local, const T& shared)
{
    static_assert(std::is_trivially_copyable_v<T>);
    __builtin_memcpy(&local, &shared, sizeof(T));
    asm volatile("" ::: "memory");
}

template <typename T>
inline void copy_to_shared(T& shared, const T& local)
{
    static_assert(std::is_trivially_copyable_v<T>);
    __builtin_memcpy(&shared, &local, sizeof(T));
}

// Atomic read-modify-write on shared words (event-channel bitmaps, grant
// flags). Sequentially consistent: each is also a full barrier, which the
// event-channel protocol relies on (clear pending, then scan).
template <typename T>
inline T exchange(T& field, T value)
{
    return __atomic_exchange_n(&field, value, __ATOMIC_SEQ_CST);
}

template <typename T>
inline T fetch_or(T& field, T bits)
{
    return __atomic_fetch_or(&field, bits, __ATOMIC_SEQ_CST);
}

template <typename T>
inline T fetch_and(T& field, T bits)
{
    return __atomic_fetch_and(&field, bits, __ATOMIC_SEQ_CST);
}

template <typename T>
inline bool compare_exchange(T& field, T& expected, T desired)
{
    return __atomic_compare_exchange_n(&field, &expected, desired, false, __ATOMIC_SEQ_CST,
                                       __ATOMIC_SEQ_CST);
}

// Bit `n` of a bitmap of unsigned longs (xen_ulong_t is 64-bit on arm64).
inline bool test_and_set_bit(unsigned n, std::uint64_t* bitmap)
{
    const std::uint64_t mask = std::uint64_t{1} << (n % 64);
    return fetch_or(bitmap[n / 64], mask) & mask;
}

inline bool test_and_clear_bit(unsigned n, std::uint64_t* bitmap)
{
    const std::uint64_t mask = std::uint64_t{1} << (n % 64);
    return fetch_and(bitmap[n / 64], ~mask) & mask;
}

inline bool test_bit(unsigned n, const std::uint64_t* bitmap)
{
    return (read_once(bitmap[n / 64]) >> (n % 64)) & 1;
}

// Publication of a value another CPU reads with load_acquire: everything this
// CPU wrote before the store_release is visible to a reader that sees the value.
template <typename T>
inline void store_release(T& field, T value)
{
    static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8);
    __atomic_store_n(&field, value, __ATOMIC_RELEASE);
}

// The reader's half of store_release (and of the sequentially consistent
// read-modify-writes above): later loads and stores stay after this load.
template <typename T>
inline T load_acquire(const T& field)
{
    static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8);
    return __atomic_load_n(&field, __ATOMIC_ACQUIRE);
}

// Counters shared between vCPUs (event generations, dispatches in flight);
// sequentially consistent, like the read-modify-writes above.
template <typename T>
inline T fetch_add(T& field, T value)
{
    return __atomic_fetch_add(&field, value, __ATOMIC_SEQ_CST);
}

template <typename T>
inline T fetch_sub(T& field, T value)
{
    return __atomic_fetch_sub(&field, value, __ATOMIC_SEQ_CST);
}

} // namespace keel::guest::shm
