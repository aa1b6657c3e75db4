// The two pages a 2-level event-channel guest shares with the hypervisor, as an
// arm64 guest lays them out: struct vcpu_info and struct shared_info from
// <xen/xen.h> with <xen/arch-arm.h>.
//
// Why not use the header's structs directly: they are C. On Arm,
// struct arch_vcpu_info and struct arch_shared_info are empty, which is zero
// bytes in C but one byte in C++; compiled as C++, vcpu_info grows from 48 to 56
// bytes and every shared_info field after vcpu_info[] moves. (On the x86 host the
// header gives x86's layout instead.) So Keel spells the Arm layout out once,
// here, and tests/unit/evtchn_abi_layout_test.cpp checks it against a C
// translation unit that includes the real header.
#pragma once

#include <cstddef>
#include <cstdint>

#include <xen/xen.h>

namespace keel::evtchn {

// xen_ulong_t on Arm, 32- and 64-bit alike: the unit of every bitmap below.
using XenUlong = std::uint64_t;
inline constexpr unsigned kBitsPerWord = 64;

// XEN_LEGACY_MAX_VCPUS on Arm: only vCPU 0 has a vcpu_info inside shared_info.
// (The host's <xen/xen.h> says 32, which is x86's value.)
inline constexpr unsigned kLegacyVcpus = 1;

// The 2-level ABI's port space: one selector word of word-sized groups.
inline constexpr unsigned kTwoLevelPorts = kBitsPerWord * kBitsPerWord;  // EVTCHN_2L_NR_CHANNELS

struct VcpuInfo {
    // Set by the hypervisor when it selects this vCPU for an upcall; the guest
    // clears it before scanning evtchn_pending_sel.
    std::uint8_t evtchn_upcall_pending;
    // evtchn_upcall_mask on x86 PV; Arm has no XEN_HAVE_PV_UPCALL_MASK (a guest
    // masks the event PPI instead), so the header calls this byte pad0.
    std::uint8_t pad0;
    // Bit w set: word w of shared_info.evtchn_pending may have a pending, unmasked port.
    XenUlong evtchn_pending_sel;
    // struct arch_vcpu_info is empty on Arm: it takes no room here.
    vcpu_time_info time;
};

struct SharedInfo {
    VcpuInfo vcpu_info[kLegacyVcpus];
    XenUlong evtchn_pending[kBitsPerWord];
    XenUlong evtchn_mask[kBitsPerWord];
    std::uint32_t wc_version;
    std::uint32_t wc_sec;
    std::uint32_t wc_nsec;
    std::uint32_t wc_sec_hi;
    // struct arch_shared_info is empty on Arm.
};

// The offsets an arm64 guest compiled from the C header uses (measured with
// aarch64-linux-gnu-gcc; re-checked against C by evtchn_abi_layout_test).
static_assert(sizeof(vcpu_time_info) == 32);
static_assert(offsetof(VcpuInfo, evtchn_upcall_pending) == 0);
static_assert(offsetof(VcpuInfo, pad0) == 1);
static_assert(offsetof(VcpuInfo, evtchn_pending_sel) == 8);
static_assert(offsetof(VcpuInfo, time) == 16);
static_assert(sizeof(VcpuInfo) == 48);
static_assert(offsetof(SharedInfo, evtchn_pending) == 48);
static_assert(offsetof(SharedInfo, evtchn_mask) == 560);
static_assert(offsetof(SharedInfo, wc_version) == 1072);
static_assert(offsetof(SharedInfo, wc_sec_hi) == 1084);
static_assert(sizeof(SharedInfo) == 1088);

} // namespace keel::evtchn
