// What the checks share: facts from the device tree and the pages the memory
// checks set up for the later areas.
#pragma once

#include <cstdint>

namespace abi {

inline constexpr std::uint64_t kPage = 4096;
inline constexpr std::uint16_t kDomidSelf = 0x7ff0;  // DOMID_SELF

struct Env {
    const void* fdt = nullptr;
    unsigned event_intid = 0;      // the hypervisor node's PPI, as a GIC INTID
    std::uint64_t grant_base = 0;  // the hypervisor node's first region: where
    std::uint64_t grant_size = 0;  //   grant frames and foreign pages may go
    unsigned vcpus = 0;
    void* shared_info = nullptr;   // mapped by the memory checks
    void* grant_frame = nullptr;   // grant-table frame 0, mapped by the memory checks
    bool gic_ready = false;

    // Guest frame numbers inside the hypervisor's region.
    std::uint64_t region_gfn(unsigned index) const { return grant_base / kPage + index; }
};

// One function per area, run in this order by main.
void check_version_and_console(Env& env);
void check_memory(Env& env);
void check_event_channels(Env& env);
void check_grant_table(Env& env);
void check_sched(Env& env);
void check_vcpu(Env& env);
void check_hvm(Env& env);
void check_physdev_and_multicall(Env& env);
void check_domctl(Env& env);
void check_domctl_keel(Env& env);  // bootargs "abi keel" only
void check_memory_teardown(Env& env);

} // namespace abi
