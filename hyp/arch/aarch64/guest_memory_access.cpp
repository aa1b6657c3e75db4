#include "guest_memory_access.hpp"

#include "domain.hpp"
#include "pcpu.hpp"
#include "sysreg.hpp"

#include <keel/strong.hpp>

#include <cstring>

namespace keel::arch {

// Stage 1 by the hardware (AT, through the guest's own tables, or the identity
// while its MMU is off), stage 2 by Keel's table: the IPA must be normal memory
// of the caller's (RAM, shared_info, grant frames, pages mapped from others),
// writable for a write. Never a device region, whatever the guest's stage 1 says.
std::uint64_t guest_va_to_pa(std::uint64_t va, bool write)
{
    // PAR_EL1 is the guest's register: keep its value across our use of AT.
    const std::uint64_t saved_par = sysreg::par_el1::read();
    if (write) asm volatile("at s1e1w, %0" ::"r"(va) : "memory");
    else asm volatile("at s1e1r, %0" ::"r"(va) : "memory");
    isb();
    const std::uint64_t par = sysreg::par_el1::read();
    sysreg::par_el1::write(saved_par);
    if (par & 1) return 0;  // stage-1 fault
    const IpAddr ipa((par & 0x0000fffffffff000ull) | (va & 0xfff));
    const Vcpu* v = this_cpu().current;
    if (!v) return 0;
    // Lock-free: the caller's own table, whose intermediate tables are only freed
    // when its RAM is torn down; a racing unmap of this very page is the guest's race.
    auto t = v->domain->s2.translate(ipa);
    if (!t || t->type != mm::MemType::Normal || (write && !t->access.write)) return 0;
    return t->pa.raw();
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
