#include "stage2_guest_memory.hpp"

#include <cstring>

namespace keel::arch {

namespace {
// Pointer to `ipa` in the hypervisor's map, checked for a normal-memory mapping
// with the access the copy needs; nullptr if the guest may not be touched there.
std::uint8_t* resolve(Domain& d, IpAddr ipa, bool write)
{
    auto t = d.s2.translate(ipa);
    if (!t || t->type != mm::MemType::Normal || !t->access.read || (write && !t->access.write)) return nullptr;
    return reinterpret_cast<std::uint8_t*>(t->pa.raw());
}
} // namespace

Status Stage2GuestMemory::read(IpAddr src, void* dst, std::size_t n)
{
    if (src.raw() + n < src.raw()) return Err(Errno::XEN_EFAULT);
    auto* out = static_cast<std::uint8_t*>(dst);
    while (n > 0) {
        const std::size_t chunk = kPageSize - (src.raw() & (kPageSize - 1));
        const std::size_t len = chunk < n ? chunk : n;
        const std::uint8_t* p = resolve(d_, src, false);
        if (!p) return Err(Errno::XEN_EFAULT);
        std::memcpy(out, p, len);
        out += len;
        src = src + len;
        n -= len;
    }
    return {};
}

Status Stage2GuestMemory::write(IpAddr dst, const void* src, std::size_t n)
{
    if (dst.raw() + n < dst.raw()) return Err(Errno::XEN_EFAULT);
    const auto* in = static_cast<const std::uint8_t*>(src);
    // Check the whole range first, so a fault leaves the guest's memory untouched.
    for (IpAddr a = dst.align_down(kPageSize); a < dst + n; a = a + kPageSize)
        if (!resolve(d_, a, true)) return Err(Errno::XEN_EFAULT);
    while (n > 0) {
        const std::size_t chunk = kPageSize - (dst.raw() & (kPageSize - 1));
        const std::size_t len = chunk < n ? chunk : n;
        std::memcpy(resolve(d_, dst, true), in, len);
        in += len;
        dst = dst + len;
        n -= len;
    }
    return {};
}

} // namespace keel::arch
