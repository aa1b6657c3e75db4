// Every access Keel makes to event-channel memory it shares with a guest, in one
// place. The guest runs on other CPUs and changes the same words while we look
// at them (it clears pending bits, sets and clears mask bits, zeroes its upcall
// flag), so:
//  - a bit is only ever changed by an atomic read-modify-write of its whole
//    64-bit word (LDXR/STXR on ARMv8.0): a plain load-modify-store would undo a
//    guest's concurrent change to a neighbouring bit;
//  - everything is sequentially consistent. The 2-level protocol depends on
//    order: "set pending, then read mask" here against "clear mask, then read
//    pending" in the guest (and in unmask), and "set selector, then set the
//    upcall flag" against the guest's "clear flag, then swap selector to zero".
//    With full ordering on both sides at least one of them sees the other's
//    write, so an event is never stranded.
// Xen does the same with guest_test_and_set_bit() et al. (xen/arch/arm/
// guest_atomics.c), which additionally bound the LDXR/STXR retry loop so a
// guest hammering the line cannot stall the hypervisor (XSA-295); these do not.
#pragma once

#include "evtchn/shared_layout.hpp"

namespace keel::evtchn::guest {

inline XenUlong bit_mask(unsigned bit) { return XenUlong{1} << (bit % kBitsPerWord); }

// Bitmaps are indexed by bit number: word bit / 64, bit bit % 64, as on any
// little-endian Xen guest.
inline bool test_and_set_bit(XenUlong* bitmap, unsigned bit)
{
    return __atomic_fetch_or(&bitmap[bit / kBitsPerWord], bit_mask(bit), __ATOMIC_SEQ_CST) & bit_mask(bit);
}

inline bool test_and_clear_bit(XenUlong* bitmap, unsigned bit)
{
    return __atomic_fetch_and(&bitmap[bit / kBitsPerWord], ~bit_mask(bit), __ATOMIC_SEQ_CST) & bit_mask(bit);
}

inline void clear_bit(XenUlong* bitmap, unsigned bit)
{
    __atomic_fetch_and(&bitmap[bit / kBitsPerWord], ~bit_mask(bit), __ATOMIC_SEQ_CST);
}

inline bool test_bit(const XenUlong* bitmap, unsigned bit)
{
    return __atomic_load_n(&bitmap[bit / kBitsPerWord], __ATOMIC_SEQ_CST) & bit_mask(bit);
}

inline void store_word(XenUlong* word, XenUlong value) { __atomic_store_n(word, value, __ATOMIC_SEQ_CST); }

// The one-byte evtchn_upcall_pending flag: Xen sets bit 0 and reports whether it was already set.
inline bool test_and_set_flag(std::uint8_t* flag) { return __atomic_fetch_or(flag, 1, __ATOMIC_SEQ_CST) & 1; }

inline bool test_flag(const std::uint8_t* flag) { return __atomic_load_n(flag, __ATOMIC_SEQ_CST) & 1; }

// A whole vcpu_info copied while its guest may be writing it: byte by byte,
// each byte atomically, so the copy is a (possibly torn) snapshot but never a
// data race. Xen memcpy()s it; the guest gets a spurious event afterwards
// either way (see EventChannels::register_vcpu_info).
inline void copy_vcpu_info(VcpuInfo* dst, const VcpuInfo* src)
{
    auto* d = reinterpret_cast<unsigned char*>(dst);
    const auto* s = reinterpret_cast<const unsigned char*>(src);
    for (std::size_t i = 0; i < sizeof(VcpuInfo); ++i) __atomic_store_n(&d[i], __atomic_load_n(&s[i], __ATOMIC_RELAXED), __ATOMIC_RELAXED);
}

inline void zero_vcpu_info(VcpuInfo* dst)
{
    auto* d = reinterpret_cast<unsigned char*>(dst);
    for (std::size_t i = 0; i < sizeof(VcpuInfo); ++i) __atomic_store_n(&d[i], 0, __ATOMIC_RELAXED);
}

} // namespace keel::evtchn::guest
