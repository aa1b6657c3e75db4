// Checked reads from a flattened device tree. libfdt finds nodes and properties;
// these helpers interpret values, and each one checks a property's length before
// touching its bytes, so a malformed tree gives an errno, never a wild read.
#pragma once

#include "dt/text.hpp"

#include <keel/result.hpp>

#include <cstdint>

namespace keel::dt {

// The #address-cells / #size-cells a node's children use.
struct Cells {
    unsigned address;
    unsigned size;
};

// One (address, size) pair of a `reg` property.
struct RegEntry {
    std::uint64_t base;
    std::uint64_t size;
};

// A property's raw bytes.
struct PropBytes {
    const void* data;
    std::size_t size;
};

// A well-formed tree: header, structure block and strings all consistent, so the
// walks that follow cannot run off its end. EINVAL otherwise.
Status check_tree(const void* fdt);

// Big-endian cells as one number (1 or 2 cells; callers check the count).
std::uint64_t read_cells(const void* p, unsigned cells);

// The property, or ENOENT when absent.
Result<PropBytes> prop_bytes(const void* fdt, int node, const char* name);
// A string property: present (ENOENT) and NUL-terminated within its length (EINVAL).
Result<TextView> prop_string(const void* fdt, int node, const char* name);
// A one-cell property; EINVAL unless exactly 4 bytes.
Result<std::uint32_t> prop_u32(const void* fdt, int node, const char* name);
// True if the node's `compatible` list holds `compat`.
bool is_compatible(const void* fdt, int node, const char* compat);
// A node is usable unless its `status` says otherwise ("ok"/"okay" or absent).
bool is_available(const void* fdt, int node);
// Node names match "name" and "name@unit", not "name-foo".
bool name_matches(const void* fdt, int node, const char* name);

// Cells for the children of `node`. Like Xen's early scan, a node without the
// properties inherits its parent's values; the root defaults to 2 and 1.
Result<Cells> child_cells(const void* fdt, int node);

// Number of (address, size) entries in `node`'s reg, read with its parent's
// cells; EINVAL if the length is not a whole number of entries or the cells
// are wider than 64 bits.
Result<unsigned> reg_count(const void* fdt, int node);
// Entry `index` of `node`'s reg, as the node's parent sees it (no translation).
Result<RegEntry> reg_entry(const void* fdt, int node, unsigned index);
// Entry `index` of reg, translated through each ancestor's `ranges` to a CPU
// physical address. ENXIO if a bus on the way is not memory-mapped.
Result<RegEntry> reg_cpu_address(const void* fdt, int node, unsigned index);

// The phandle of the interrupt controller that serves `node` (its own or an
// ancestor's `interrupt-parent`); ENOENT if none is named.
Result<std::uint32_t> interrupt_parent(const void* fdt, int node);
// Interrupt `index` of `node` as a GIC INTID (SPI n -> 32+n, PPI n -> 16+n).
// The node's interrupt parent must be `gic` (a node offset), whose
// #interrupt-cells must be at least 3; otherwise ENXIO / EINVAL.
Result<unsigned> gic_interrupt(const void* fdt, int node, unsigned index, int gic);

} // namespace keel::dt
