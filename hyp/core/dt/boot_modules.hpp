// The boot modules the bootloader left in RAM, as the host tree describes them:
// `multiboot,module` nodes under /chosen (dom0's) and under each
// `xen,domain` node in /chosen (dom0less domUs'), classified the way Xen does.
#pragma once

#include "dt/text.hpp"

#include <keel/result.hpp>
#include <keel/strong.hpp>

#include <cstdint>

namespace keel::dt {

inline constexpr unsigned kMaxBootModules = 32;

enum class ModuleKind : std::uint8_t { Kernel, Ramdisk, DeviceTree, XsmPolicy, Unknown };

struct BootModuleNode {
    int node;              // the module's node offset
    int parent;            // /chosen, or the xen,domain node that owns it
    bool domu;             // parent is a xen,domain node
    ModuleKind kind;
    PhysAddr base;
    std::uint64_t size;
    TextView bootargs;     // empty view if the node has none
    bool has_bootargs;
};

struct BootModules {
    BootModuleNode mod[kMaxBootModules];
    unsigned count;
};

// All modules in tree order. Like Xen, a module whose compatible names only
// "multiboot,module" is guessed: the first such is a kernel, the second a ramdisk.
// (Xen also sniffs the second for an XSM policy's magic; Keel has no XSM policy
// and never reads module memory here.) Errors: EINVAL for a missing or short
// `reg` or unterminated `bootargs`, ENOSPC past kMaxBootModules.
Status collect_boot_modules(const void* fdt, BootModules& out);

} // namespace keel::dt
