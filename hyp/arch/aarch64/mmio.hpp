// Device register access for the hypervisor's own drivers (not guest-facing).
#pragma once

#include <cstdint>

namespace keel::arch {

inline std::uint32_t mmio_read32(std::uint64_t addr)
{
    std::uint32_t v;
    asm volatile("ldr %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
    return v;
}
inline void mmio_write32(std::uint64_t addr, std::uint32_t v)
{
    asm volatile("str %w0, [%1]" ::"rZ"(v), "r"(addr) : "memory");
}
inline std::uint64_t mmio_read64(std::uint64_t addr)
{
    std::uint64_t v;
    asm volatile("ldr %0, [%1]" : "=r"(v) : "r"(addr) : "memory");
    return v;
}
inline void mmio_write64(std::uint64_t addr, std::uint64_t v)
{
    asm volatile("str %0, [%1]" ::"rZ"(v), "r"(addr) : "memory");
}

} // namespace keel::arch
