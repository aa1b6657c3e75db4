// The Xen guest ABI as an arm64 guest sees it: the public headers' hypercall
// structs, plus the two shared pages (shared_info, vcpu_info) spelled out in
// their Arm layout.
//
// Why the two pages are spelled out: the headers are C, and on Arm the empty
// struct arch_vcpu_info / arch_shared_info take no room in C but one byte in
// C++, which would move every later field (and on the x86 host the headers
// give x86's layout outright). tests/unit/sdk_abi_layout_test.cpp compares
// these views with the C headers compiled as C for Arm. The hypercall structs
// hold only fixed-width fields and guest handles, which C++ lays out as C does.
#pragma once

#include <cstddef>
#include <cstdint>

#include <xen/xen.h>

#include <xen/event_channel.h>
#include <xen/grant_table.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/memory.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include <xen/version.h>

namespace keel::guest {

// xen_ulong_t on Arm (32- and 64-bit alike): the unit of the event bitmaps.
using XenUlong = std::uint64_t;
inline constexpr unsigned kBitsPerWord = 64;
// The 2-level ABI's port space: 64 words of 64 ports, one selector bit per word.
inline constexpr unsigned kTwoLevelPorts = kBitsPerWord * kBitsPerWord;

struct VcpuInfo {
    // Set by the hypervisor when it flags this vCPU for an upcall; cleared by
    // the guest before it swaps evtchn_pending_sel to zero.
    std::uint8_t evtchn_upcall_pending;
    // evtchn_upcall_mask on x86 PV; padding on Arm, where a guest masks the
    // event interrupt at the GIC (or with DAIF) instead.
    std::uint8_t pad0;
    // Bit w: word w of SharedInfo::evtchn_pending may hold a port for this vCPU.
    XenUlong evtchn_pending_sel;
    // Xen's pvclock record. Xen on Arm (4.17) and Keel leave it all zero: Arm
    // guests read time from the generic timer (see clock.hpp).
    vcpu_time_info time;
};

struct SharedInfo {
    // Only vCPU 0 has a slot here on Arm (XEN_LEGACY_MAX_VCPUS is 1); the
    // others must register a vcpu_info of their own.
    VcpuInfo vcpu_info[1];
    XenUlong evtchn_pending[kBitsPerWord];
    XenUlong evtchn_mask[kBitsPerWord];
    // The time of day at system time zero, under a version counter (odd while
    // the hypervisor updates it). Seconds are wc_sec_hi:wc_sec.
    std::uint32_t wc_version;
    std::uint32_t wc_sec;
    std::uint32_t wc_nsec;
    std::uint32_t wc_sec_hi;
};

static_assert(sizeof(vcpu_time_info) == 32);
static_assert(offsetof(VcpuInfo, evtchn_pending_sel) == 8);
static_assert(offsetof(VcpuInfo, time) == 16);
static_assert(sizeof(VcpuInfo) == 48);
static_assert(offsetof(SharedInfo, evtchn_pending) == 48);
static_assert(offsetof(SharedInfo, evtchn_mask) == 560);
static_assert(offsetof(SharedInfo, wc_version) == 1072);
static_assert(sizeof(SharedInfo) == 1088);

// A v1 grant entry as the SDK touches it: two 32-bit words, flags | domid << 16
// and the frame. The hypervisor changes the first word with a 32-bit
// compare-and-swap, so the guest does too (never a 16-bit access to flags).
static_assert(sizeof(grant_entry_v1_t) == 8 && offsetof(grant_entry_v1_t, domid) == 2 &&
              offsetof(grant_entry_v1_t, frame) == 4);
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "flags are the low half of the first word");
inline constexpr unsigned kGrantEntriesPerFrame = 4096 / sizeof(grant_entry_v1_t);  // 512

// No GNTST_* value is positive: grant records are pre-set to this before a
// call, so a status the hypervisor never wrote is not mistaken for GNTST_okay.
inline constexpr std::int16_t kGrantStatusUnset = 1;

} // namespace keel::guest
