#include <keel/guest/shared_info.hpp>

namespace keel::guest {

Result<SharedInfo*> map_shared_info(GuestFrame frame)
{
    if (frame.va == nullptr || reinterpret_cast<std::uintptr_t>(frame.va) % kPageSize != 0)
        return Err(Errno::XEN_EINVAL);
    KEEL_TRY(xenmem_add_to_physmap(XENMAPSPACE_shared_info, 0, frame.gfn));
    return static_cast<SharedInfo*>(frame.va);
}

Result<VcpuInfo*> register_vcpu_info(unsigned vcpu, GuestFrame frame, std::uint32_t offset)
{
    constexpr std::uint32_t kAlign = 64;
    if (frame.va == nullptr || offset % kAlign != 0 || offset > kPageSize - sizeof(VcpuInfo))
        return Err(Errno::XEN_EINVAL);
    KEEL_TRY(vcpuop_register_vcpu_info(vcpu, frame.gfn, offset));
    return reinterpret_cast<VcpuInfo*>(static_cast<unsigned char*>(frame.va) + offset);
}

} // namespace keel::guest
