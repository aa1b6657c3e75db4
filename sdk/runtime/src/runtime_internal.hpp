// Runtime pieces boot.cpp calls in order; not part of the SDK's API.
#pragma once

#include <cstdint>
#include <keel/result.hpp>

// Linker-script symbols (guest.ld).
extern "C" char _start[], _end[];

namespace keel::guest::detail {

// MMU on with the safe initial window: the image and the device tree normal
// memory, every other address Device-nGnRE. Runs with the MMU off.
void mmu_enable_window(const void* fdt);

// Switch to the final identity map: every RAM bank the device tree lists
// normal memory, every other address Device-nGnRE.
keel::Status mmu_map_ram(const void* fdt);

void console_init(const void* fdt);
void psci_init(const void* fdt);

} // namespace keel::guest::detail
