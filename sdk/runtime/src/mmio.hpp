// 32-bit MMIO accessors. Plain single-register loads and stores on purpose:
// a hypervisor emulating the device decodes the access from the syndrome,
// which it only has for instructions without writeback (ESR ISV = 1).
#pragma once

#include <cstdint>

namespace keel::guest {

inline std::uint32_t mmio_read32(std::uintptr_t address)
{
    std::uint32_t v;
    asm volatile("ldr %w0, [%1]" : "=r"(v) : "r"(address) : "memory");
    return v;
}

inline void mmio_write32(std::uintptr_t address, std::uint32_t value)
{
    asm volatile("str %w0, [%1]" : : "r"(value), "r"(address) : "memory");
}

} // namespace keel::guest
