// The two sides of the pingpong conversation and the benchmarks. Each prints
// one line per check, "pingpong: <what> -> <answer>", with answers that any
// correct implementation of the Xen ABI gives alike (Xen 4.17 and Keel).
#pragma once

#include <cstdint>

#include "config.hpp"

#include <xen/event_channel.h>
#include <xen/grant_table.h>

namespace pingpong {

// The convention both sides follow instead of asking xenstore.
inline constexpr unsigned kRoundTrips = 100;
inline constexpr evtchn_port_t kFirstPort = 1;  // A's first alloc_unbound: hypervisors hand out the lowest free port
inline constexpr grant_ref_t kMapRef = 8;       // refs 0-7 are reserved for the toolstack by convention
inline constexpr grant_ref_t kCopyRef = 9;
inline constexpr char kMessage[] = "ping from a, through a granted page";
inline constexpr char kReply[] = "pong from b";
inline constexpr unsigned kReplyOffset = 2048;
inline constexpr unsigned kCopyOffset = 256;
inline constexpr unsigned kCopyLength = 64;

void line(const char* what, const char* answer, ...) __attribute__((format(printf, 2, 3)));

// Each returns the status main exits with: 0 when every step could run.
int run_a(const Config& cfg, void* shared_info);
int run_b(const Config& cfg, void* shared_info);
int run_hypercall_bench(unsigned count);

class EventLink;
int bench_round_trips_a(const EventLink& link, unsigned count);
int bench_round_trips_b(const EventLink& link, unsigned count);

} // namespace pingpong
