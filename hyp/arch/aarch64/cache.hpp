// Cache maintenance for memory the hypervisor writes on a guest's behalf (its
// kernel, initrd, device tree): the guest starts with its MMU and caches off,
// so the data must reach the point of coherency, and stale instructions must go.
#pragma once

#include <cstdint>

namespace keel::arch {

inline void clean_dcache_to_poc(std::uint64_t va, std::uint64_t size)
{
    std::uint64_t ctr;
    asm volatile("mrs %0, ctr_el0" : "=r"(ctr));
    const std::uint64_t line = 4ull << ((ctr >> 16) & 0xf);
    for (std::uint64_t p = va & ~(line - 1); p < va + size; p += line) asm volatile("dc cvac, %0" ::"r"(p) : "memory");
    asm volatile("dsb sy" ::: "memory");
}

inline void invalidate_icache_all()
{
    asm volatile("ic ialluis\n dsb ish\n isb" ::: "memory");
}

// Zeroes whole blocks with DC ZVA where the CPU allows it (much faster than stores).
inline void zero_memory(std::uint64_t va, std::uint64_t size)
{
    std::uint64_t dczid;
    asm volatile("mrs %0, dczid_el0" : "=r"(dczid));
    std::uint64_t p = va;
    if ((dczid & 0x10) == 0) {
        const std::uint64_t block = 4ull << (dczid & 0xf);
        for (; (p & (block - 1)) && p < va + size; p += 8) *reinterpret_cast<volatile std::uint64_t*>(p) = 0;
        for (; p + block <= va + size; p += block) asm volatile("dc zva, %0" ::"r"(p) : "memory");
    }
    for (; p < va + size; p += 8) *reinterpret_cast<volatile std::uint64_t*>(p) = 0;
}

} // namespace keel::arch
