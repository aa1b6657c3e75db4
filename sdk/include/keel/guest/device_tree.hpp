// Small device-tree questions every guest asks, answered with libfdt from the
// tree the hypervisor handed over in x0 (main's argument).
#pragma once

#include <cstddef>
#include <cstdint>
#include <keel/result.hpp>

namespace keel::guest::dt {

struct Region {
    std::uint64_t base;
    std::uint64_t size;
};

// /chosen/bootargs, or "" when absent.
const char* bootargs(const void* fdt);

// The RAM banks of every `device_type = "memory"` node: fills up to `max`
// entries of `out` and returns how many banks there are (possibly more than max).
std::size_t memory_banks(const void* fdt, Region* out, std::size_t max);

// Sum of all RAM banks, in bytes.
std::uint64_t memory_size(const void* fdt);

// Number of /cpus children with `device_type = "cpu"`.
unsigned cpu_count(const void* fdt);

// First node compatible with `compatible` whose status is okay; ENOENT if none.
keel::Result<int> find_compatible(const void* fdt, const char* compatible);

// Entry `index` of a node's `reg`, decoded with its parent's #address-cells/#size-cells.
// (No `ranges` translation: nodes of interest to a guest sit at the root.)
keel::Result<Region> reg(const void* fdt, int node, int index = 0);

} // namespace keel::guest::dt
