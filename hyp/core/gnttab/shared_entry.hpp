// One grant entry in a page the guest can write at any moment. The hypervisor
// never trusts a value it read earlier: flags and domid are read together as one
// 32-bit word and changed only by compare-and-swap on that word, as Xen does,
// so a granter revoking concurrently either sees GTF_reading/GTF_writing and
// fails its own swap, or wins and the hypervisor's swap fails.
#pragma once

#include "gnttab/abi.hpp"

#include <cstdint>

namespace keel::gnttab {

// Value of the first word of an entry: flags in the low half, domid in the high.
struct EntryWord {
    std::uint32_t raw;
    constexpr std::uint16_t flags() const { return static_cast<std::uint16_t>(raw); }
    constexpr std::uint16_t domid() const { return static_cast<std::uint16_t>(raw >> 16); }
    constexpr EntryWord with_flags(std::uint16_t f) const { return {(raw & 0xffff0000u) | f}; }
};

class SharedEntry {
public:
    explicit SharedEntry(std::uint32_t* words) : w_(words) {}

    EntryWord load() const { return {__atomic_load_n(&w_[0], __ATOMIC_ACQUIRE)}; }
    // The frame, read once; callers read it after a successful pin so the granter
    // has promised not to change it (it may anyway: the value read is what counts).
    std::uint32_t frame() const { return __atomic_load_n(&w_[1], __ATOMIC_ACQUIRE); }

    // Replaces `expected` by `desired`; on failure `expected` holds what is there now.
    // Full barrier: the pin is visible to the granter before the page is touched.
    bool swap(EntryWord& expected, EntryWord desired)
    {
        return __atomic_compare_exchange_n(&w_[0], &expected.raw, desired.raw, false, __ATOMIC_SEQ_CST,
                                           __ATOMIC_ACQUIRE);
    }

    // Drops GTF_reading/GTF_writing. Release: every access the hypervisor made to
    // the granted page is complete before the granter can see it is free again.
    void clear_flags(std::uint16_t mask)
    {
        __atomic_fetch_and(&w_[0], ~static_cast<std::uint32_t>(mask), __ATOMIC_RELEASE);
    }

    // Swaps two whole entries (GNTTABOP_swap_grant_ref). Only the owner asks for
    // this, of entries nobody holds; its own vCPUs racing it get what they get.
    void exchange(SharedEntry other)
    {
        for (int i = 0; i < 2; ++i) {
            const std::uint32_t mine = __atomic_load_n(&w_[i], __ATOMIC_RELAXED);
            __atomic_store_n(&w_[i], __atomic_exchange_n(&other.w_[i], mine, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
        }
    }

private:
    std::uint32_t* w_;
};

} // namespace keel::gnttab
