// xen::GuestMemory for the vCPU running on this CPU. Hypercall buffers on Arm
// are guest *virtual* addresses (Xen's copy_from_guest): each page is
// translated by the hardware through the guest's own stage 1 and then its
// stage 2 (AT S12E1R/W), so the guest can only name memory it could access
// itself, and the result must be normal memory - never a device, never a hole.
// Valid only while that vCPU's state is loaded, which is true in a hypercall.
#pragma once

#include "xen/guest_memory.hpp"

#include <cstdint>

namespace keel::arch {

// Host physical address of guest virtual `va`, or 0 if the guest could not
// access it that way or it is not normal memory.
std::uint64_t guest_va_to_pa(std::uint64_t va, bool write);

class CurrentGuestMemory final : public xen::GuestMemory {
public:
    Status read(IpAddr src, void* dst, std::size_t n) override;
    Status write(IpAddr dst, const void* src, std::size_t n) override;
};

} // namespace keel::arch
