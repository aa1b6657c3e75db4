// The hypervisor's private shadow of one grant entry while someone uses it
// (Xen's active_grant_entry): who holds it, how many read-only and read-write
// uses, and which page the granter named when it was first pinned. While any
// pin is held, GTF_reading (and GTF_writing for writers) stay set in the
// guest's entry, so the granter sees the grant is busy and cannot revoke it.
#pragma once

#include "gnttab/grant_host.hpp"

#include <cstdint>

namespace keel::gnttab {

struct ActiveEntry {
    // Xen keeps each count in a byte and refuses a new pin once any count has
    // its top bit set; Keel keeps the same limit.
    static constexpr std::uint16_t kMaxPins = 0x80;

    std::uint16_t read_pins;
    std::uint16_t write_pins;
    std::uint16_t domid;      // the domain holding the pins (the grant's grantee)
    std::uint16_t reserved;
    std::uint32_t gfn;        // the granter's frame as read at the first pin
    std::uint32_t reserved2;
    HostPage page;            // that frame's page: every later use goes here

    bool pinned() const { return read_pins != 0 || write_pins != 0; }
    bool saturated() const { return read_pins >= kMaxPins || write_pins >= kMaxPins; }
};
static_assert(sizeof(ActiveEntry) == 32, "a power of two, so entries never straddle a page");

} // namespace keel::gnttab
