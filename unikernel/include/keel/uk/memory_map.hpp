// Which RAM the unikernel may hand out: the banks the device tree reports,
// minus what is already spoken for (the image with its stack and page tables,
// the device tree itself, /memreserve/ and /reserved-memory entries, the
// hypervisor node's regions). Pure arithmetic on ranges, so the boot path
// feeds it from the device tree and host tests feed it by hand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <keel/result.hpp>

namespace keel::uk {

struct MemRange {
    std::uint64_t base = 0;
    std::uint64_t size = 0;
    std::uint64_t end() const { return base + size; }
};

// Writes the page-aligned parts of `banks` not covered by any of `reserved`
// (reserved ranges are rounded out to whole pages, banks in) to `out`, in
// ascending address order. E2BIG when more than `max_out` ranges result;
// EINVAL when a range wraps around the address space.
Result<std::size_t> usable_ranges(const MemRange* banks, std::size_t nr_banks, const MemRange* reserved,
                                  std::size_t nr_reserved, MemRange* out, std::size_t max_out);

} // namespace keel::uk
