// The state of one virtual interrupt, for one vCPU (SGIs, PPIs) or for the
// domain (SPIs), as the distributor sees it between a vCPU's exits and entries.
#pragma once

#include <cstdint>

namespace keel::vgic {

inline constexpr std::uint8_t kNoVcpu = 0xFF;

struct IrqState {
    std::uint8_t priority = 0;
    bool enabled = false;
    bool edge = false;        // ICFGR: edge-triggered, else level-sensitive
    // Pending has two sources, as in the architecture: a latch (set by an edge, a
    // write to ISPENDR or an SGI; cleared when the guest acknowledges it or writes
    // ICPENDR) and, for a level-sensitive interrupt, the input line itself.
    bool latch = false;
    bool line = false;
    bool active = false;
    std::uint8_t active_vcpu = 0;   // SPIs: the vCPU that acknowledged it
    std::uint8_t sgi_sources = 0;   // GICv2 SGIs: one pending bit per sending vCPU
    std::uint8_t active_source = 0; // GICv2 SGIs: the source of the active instance
    std::uint8_t targets = 0;       // GICv2 SPIs: ITARGETSR
    std::uint64_t irouter = 0;      // GICv3 SPIs: IROUTER
    // The vCPU whose list registers hold this interrupt between fill() and sync(),
    // or kNoVcpu. While held, the list register owns the pending state it was given.
    std::uint8_t lr_owner = kNoVcpu;
};

} // namespace keel::vgic
