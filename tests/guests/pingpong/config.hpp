// What a pingpong domain learns before it starts: its role and peer from the
// bootargs, the hypervisor node's regions from the device tree.
//
// Bootargs (space-separated words):
//   role=a peer=2       the side that allocates the port and grants pages
//   role=b peer=1       the side that binds to it and maps / copies
//   bench=N             (both sides) only time N event-channel round trips
//   wait=yield          wait for events by SCHEDOP_yield until the pending bit
//                       is set, instead of the default SCHEDOP_poll
//   role=solo hypercalls=N   time N xen_version(0) hypercalls, nothing else
#pragma once

#include <cstdint>

namespace pingpong {

enum class Role { kA, kB, kSolo, kUnknown };

// How a side waits for the other's event.
enum class WaitBy {
    kPoll,   // SCHEDOP_poll on the port: the vCPU blocks in the hypervisor
    kYield,  // SCHEDOP_yield until the pending bit shows: never blocks
};

struct Config {
    Role role = Role::kUnknown;
    std::uint16_t peer = 0;           // the other domain's id
    WaitBy wait_by = WaitBy::kPoll;
    unsigned bench_round_trips = 0;   // 0: run the checks instead
    unsigned bench_hypercalls = 0;
    std::uint64_t grant_region = 0;   // hypervisor node reg[0]: our grant-table frames go here
    std::uint64_t extended_region = 0;  // reg[1]: a hole in our IPA space, for the peer's pages
};

// Parses the bootargs; false if a word is missing or malformed.
bool parse_bootargs(const char* args, Config& out);

// Reads the `xen,xen` node; false if it or its regions are missing.
bool read_hypervisor_node(const void* fdt, Config& out);

} // namespace pingpong
