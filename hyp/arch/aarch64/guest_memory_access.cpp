#include "guest_memory_access.hpp"

#include "sysreg.hpp"

#include <keel/strong.hpp>

#include <cstring>

namespace keel::arch {

std::uint64_t guest_va_to_pa(std::uint64_t va, bool write)
{
    // PAR_EL1 is the guest's register: keep its value across our use of AT.
    const std::uint64_t saved_par = sysreg::par_el1::read();
    if (write) asm volatile("at s12e1w, %0" ::"r"(va) : "memory");
    else asm volatile("at s12e1r, %0" ::"r"(va) : "memory");
    isb();
    const std::uint64_t par = sysreg::par_el1::read();
    sysreg::par_el1::write(saved_par);
    if (par & 1) return 0;                    // fault at stage 1 or stage 2
    if (((par >> 56) & 0xf0) == 0) return 0;  // a Device memory type: never a hypercall buffer
    return (par & 0x0000fffffffff000ull) | (va & 0xfff);
}

namespace {
template <typename Copy>
Status for_each_page(std::uint64_t va, std::size_t n, bool write, Copy copy)
{
    if (va + n < va) return Err(Errno::XEN_EFAULT);
    std::size_t done = 0;
    while (done < n) {
        const std::size_t room = kPageSize - ((va + done) & (kPageSize - 1));
        const std::size_t len = room < n - done ? room : n - done;
        const std::uint64_t pa = guest_va_to_pa(va + done, write);
        if (!pa) return Err(Errno::XEN_EFAULT);
        copy(reinterpret_cast<std::uint8_t*>(pa), done, len);
        done += len;
    }
    return {};
}
} // namespace

Status CurrentGuestMemory::read(IpAddr src, void* dst, std::size_t n)
{
    auto* out = static_cast<std::uint8_t*>(dst);
    return for_each_page(src.raw(), n, false, [&](std::uint8_t* p, std::size_t off, std::size_t len) { std::memcpy(out + off, p, len); });
}

Status CurrentGuestMemory::write(IpAddr dst, const void* src, std::size_t n)
{
    // Check every page first, so a fault leaves the guest's memory untouched.
    if (Status s = for_each_page(dst.raw(), n, true, [](std::uint8_t*, std::size_t, std::size_t) {}); !s) return s;
    const auto* in = static_cast<const std::uint8_t*>(src);
    return for_each_page(dst.raw(), n, true, [&](std::uint8_t* p, std::size_t off, std::size_t len) { std::memcpy(p, in + off, len); });
}

} // namespace keel::arch
