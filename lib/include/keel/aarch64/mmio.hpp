// Device register access on AArch64, for the hypervisor's drivers and for guests.
// Plain single-register loads and stores on purpose: a hypervisor emulating the
// device decodes the access from the syndrome, which it only gets for
// instructions without writeback (ESR ISV = 1).
#pragma once

#include <cstdint>

namespace keel {

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

} // namespace keel
