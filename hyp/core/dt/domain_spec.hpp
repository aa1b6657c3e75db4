// The domains to build at boot, from Xen's bindings in the host tree's /chosen:
// dom0 from its multiboot modules, and one dom0less domU per `xen,domain` node.
#pragma once

#include "dt/host_platform.hpp"

#include <keel/result.hpp>
#include <keel/strong.hpp>

#include <cstdint>

namespace keel::dt {

inline constexpr unsigned kMaxDomains = 8;
inline constexpr unsigned kMaxGuestVcpus = 128;                    // Xen's GUEST_MAX_VCPUS
inline constexpr std::uint64_t kDefaultDom0Mem = 512ull << 20;     // Xen's fallback without dom0_mem=

struct BootModule {
    PhysAddr base;
    std::uint64_t size;
    bool present;
};

// `xen,enhanced`: whether the domain gets the hypervisor node (Xen PV interfaces)
// and, in full mode, xenstore.
enum class Enhanced : std::uint8_t {
    None,        // property absent, or a value Xen does not know
    NoXenstore,  // "no-xenstore"
    Full,        // empty, "enabled" (needs dom0, which runs xenstore)
};

struct DomainSpec {
    char name[32];            // node name ("domU1"); "dom0" for dom0
    bool is_dom0;
    unsigned vcpus;           // `cpus`; dom0: dom0_max_vcpus= or one per host CPU
    std::uint64_t mem_bytes;  // `memory` in KiB; dom0: dom0_mem= (default 512 MiB)
    bool vpl011;
    Enhanced enhanced;        // dom0 always None: its tree is built differently
    BootModule kernel, ramdisk;
    char bootargs[kMaxCmdline];
};

// Reads the boot-time domains, dom0 first when there is one. Booting with only
// xen,domain nodes and no dom0 is valid. Follows Xen 4.17:
// - dom0's kernel is the first kernel module outside the xen,domain nodes (an
//   untyped module counts, see boot_modules.hpp), its ramdisk /chosen
//   linux,initrd-start/end or else the first such ramdisk module;
//   its command line is xen,dom0-bootargs, else its kernel module's bootargs,
//   else /chosen bootargs;
// - a domU's kernel and ramdisk are its multiboot,kernel / multiboot,ramdisk
//   child nodes; its command line is the first of its modules' bootargs.
// Where Keel differs from Xen: `memory` may also be one cell (Xen wants two);
// `memory` must be a whole number of pages; a command line that does not fit is
// an error (Xen truncates); and what Keel cannot honour (xen,static-mem,
// direct-map, multiboot,device-tree passthrough) is EOPNOTSUPP, not ignored.
// Errors: EINVAL for malformed or missing properties, ENOENT for a domain
// without a kernel (or no domain at all), ENOSPC past `max` or kMaxDomains,
// E2BIG / ENAMETOOLONG for a command line or name that does not fit.
Status parse_domains(const void* fdt, const HostPlatform& host, DomainSpec* out, unsigned max, unsigned& count);

} // namespace keel::dt
