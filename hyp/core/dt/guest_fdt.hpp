// The device tree a domain boots with, written node for node as Xen 4.17 writes
// a dom0less domU's (prepare_dtb_domU), so a guest sees the same tree on Keel
// and on Xen.
#pragma once

#include <keel/result.hpp>
#include <keel/strong.hpp>

#include <cstddef>
#include <cstdint>

namespace keel::dt {

inline constexpr std::uint32_t kGuestGicPhandle = 65000;    // Xen's GUEST_PHANDLE_GIC (0xfde8)
inline constexpr std::uint64_t kGuestVpl011Size = 0x1000;   // GUEST_PL011_SIZE
inline constexpr unsigned kGuestMaxVcpus = 128;             // GUEST_MAX_VCPUS

struct IpRegion {
    IpAddr base;
    std::uint64_t size;
};

struct GuestFdtParams {
    IpRegion memory[2];                 // RAM banks, lowest first
    unsigned nr_memory;
    unsigned vcpus;
    const char* cpu_compatible;         // copied from the host's first CPU
    std::size_t cpu_compatible_len;     // bytes of a NUL-separated list; 0: one C string
    std::uint32_t cpu_clock_frequency;  // written on each CPU when non-zero, as Xen copies it
    std::uint32_t timer_clock_frequency;// written on the timer when non-zero
    std::uint8_t gic_version;           // 2 or 3
    IpRegion gicd;
    IpRegion gicr_or_gicc;              // v3: the redistributor region; v2: the CPU interface
    bool vpl011;
    IpAddr vpl011_base;                 // Xen: 0x22000000
    unsigned vpl011_intid;              // Xen: 32 (an SPI)
    const char* bootargs;               // nullptr or "" writes no bootargs
    IpRegion initrd;                    // size 0: no initrd
    bool xen_node;                      // the hypervisor node (xen,enhanced)
    IpRegion xen_regions[4];            // grant table first, then extended regions
    unsigned nr_xen_regions;
    unsigned evtchn_ppi;                // the event-channel upcall INTID (Xen: 31)
};

// Builds the tree into buf[size] and returns its totalsize. EINVAL for
// inconsistent parameters, ENOSPC if the buffer is too small (Xen uses 4 KiB).
//
// /chosen always carries linux,initrd-start and linux,initrd-end: Xen 4.17
// writes them whenever the domain has a kernel, and leaves both 0 when there
// is no initrd (its placeholder is keyed on the kernel module). Keel keeps
// that so guests see what they will see under Xen; a guest must read
// start == end as "no initrd", which Linux does.
Result<std::size_t> build_guest_fdt(void* buf, std::size_t size, const GuestFdtParams& p);

// The extended regions Xen advertises in a domU's hypervisor node after the
// grant table: what is left of each guest RAM window above the domain's RAM,
// 2 MiB aligned, cut at the IPA size, kept if at least 64 MiB. `used` holds the
// RAM size in each of Xen's two windows (0x40000000/3 GiB, 0x200000000/1016 GiB).
// Returns how many regions were written to out[max].
unsigned xen_extended_regions(const std::uint64_t used[2], unsigned ipa_bits, IpRegion* out, unsigned max);

} // namespace keel::dt
