// Facts about the machine, read from the host device tree the way Xen reads it,
// so one tree (QEMU's, plus Xen's /chosen bindings) boots Keel and Xen alike.
#pragma once

#include <keel/result.hpp>
#include <keel/strong.hpp>

#include <cstddef>
#include <cstdint>

namespace keel::dt {

inline constexpr unsigned kMaxMemBanks = 8;
inline constexpr unsigned kMaxCpus = 8;
inline constexpr unsigned kMaxReserved = 16;
inline constexpr std::size_t kMaxCmdline = 1024;  // Xen's limit for any command line

struct PhysRegion {
    PhysAddr base;
    std::uint64_t size;
};

struct HostGic {
    std::uint8_t version;                  // 2 or 3
    PhysAddr gicd, gicr, gicc, gich, gicv; // a region the tree does not give is 0
    std::uint64_t gicr_size;               // the first redistributor region
    unsigned maintenance_intid;            // 0 if the tree names none
};

// The generic timer's interrupts (INTIDs). The hypervisor runs on the EL2
// timer and gives guests the virtual one.
struct HostTimer {
    unsigned phys_intid;             // non-secure EL1 physical
    unsigned virt_intid;
    unsigned hyp_intid;              // EL2 physical
    std::uint32_t clock_frequency;   // 0 unless the tree overrides CNTFRQ
};

struct HostPlatform {
    PhysRegion memory[kMaxMemBanks];     // RAM, sorted by address
    unsigned nr_memory;
    std::uint64_t cpu_mpidr[kMaxCpus];   // in tree order; CPUs past kMaxCpus stay offline
    unsigned nr_cpus;
    char cpu_compatible[64];             // first CPU's compatible list, NULs included
    std::size_t cpu_compatible_len;      // bytes of it, the last NUL counted
    std::uint32_t cpu_clock_frequency;   // 0 if absent
    HostGic gic;
    HostTimer timer;
    PhysAddr uart;                       // the console PL011; 0 when there is none
    unsigned uart_intid;
    bool psci_smc;                       // /psci method is "smc" (false: "hvc")
    PhysRegion reserved[kMaxReserved];   // /memreserve/, /reserved-memory, boot modules, the DTB
    unsigned nr_reserved;
    char hyp_bootargs[kMaxCmdline];      // the hypervisor's own command line
};

// Reads `fdt`, which the bootloader left at `fdt_paddr`. Follows Xen:
// - RAM from depth-1 `memory`/`memory@…` nodes, empty banks dropped;
// - the GIC is the first interrupt controller compatible with a GICv2 or v3;
// - the console is `dtuart=` from the command line, else /chosen stdout-path
//   (path or alias, `:options` ignored), used when `console=` names dtuart
//   (the default). A console that is not a PL011/SBSA UART is left unset;
// - the hypervisor's command line is xen,xen-bootargs; without it /chosen
//   bootargs, but only when dom0 has its own (xen,dom0-bootargs or a kernel
//   module's bootargs).
// Errors: EINVAL for a malformed tree or property, ENOENT/ENODEV for missing
// memory, CPUs, GIC, timer or PSCI, ENXIO for a console the CPU cannot reach
// (a bus without `ranges`, an interrupt routed elsewhere than the GIC), ENOSPC
// when a fixed table overflows, E2BIG for a string that does not fit.
Status parse_host_platform(const void* fdt, PhysAddr fdt_paddr, HostPlatform& out);

} // namespace keel::dt
