// XENVER_*: what Keel tells a guest about "the Xen" it runs on. The numbers
// are Xen 4.17's, because guests (Linux) check them; the strings say Keel.
#pragma once

#include "xen/guest_memory.hpp"

#include <cstdint>

namespace keel::xen {

inline constexpr unsigned kXenMajor = 4, kXenMinor = 17;

struct VersionCaller {
    bool privileged;
    std::uint8_t handle[16];   // the domain's UUID (xen_domain_handle_t)
};

// HYPERVISOR_xen_version(cmd, arg): the value for the guest's x0.
long xen_version(unsigned cmd, IpAddr arg, const VersionCaller& caller, GuestMemory& mem);

// XENVER_get_features submap 0 for an arm guest (auto-translated physmap et al.).
std::uint32_t feature_submap(unsigned idx, bool privileged);

} // namespace keel::xen
