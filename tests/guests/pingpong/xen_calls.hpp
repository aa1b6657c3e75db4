// The few hypercalls pingpong makes, as typed calls. Each returns what the
// hypervisor answered (a Xen errno as a negative number, or a GNTST_* status)
// so the caller can print it: these lines must read the same on Xen and Keel.
#pragma once

#include <cstdint>

#include <xen/event_channel.h>
#include <xen/grant_table.h>
#include <xen/xen.h>

namespace pingpong {

inline constexpr std::uint64_t kPage = 4096;
inline constexpr domid_t kDomidSelf = DOMID_SELF;

inline std::uint64_t gfn_of(const void* p) { return reinterpret_cast<std::uintptr_t>(p) / kPage; }

long xen_version();

// memory_op(XENMEM_add_to_physmap): shared_info, grant-table frame 0.
long map_shared_info(void* page);
long map_grant_frame(std::uint64_t gfn);

// event_channel_op.
long alloc_unbound(domid_t remote, evtchn_port_t& port);
long bind_interdomain(domid_t remote, evtchn_port_t remote_port, evtchn_port_t& local);
long send(evtchn_port_t port);
long close(evtchn_port_t port);

// sched_op: poll one port (no timeout), yield, power off.
long poll(evtchn_port_t port);
long yield();
long shutdown_poweroff();

// grant_table_op, one operation each; the status is the answer.
struct Mapping {
    std::int16_t status;
    grant_handle_t handle;
};
Mapping map_grant(domid_t granter, grant_ref_t ref, std::uint64_t host_addr, bool readonly);
std::int16_t unmap_grant(std::uint64_t host_addr, grant_handle_t handle);
// Copies `len` bytes between one of our own pages and a page `granter` granted us.
std::int16_t copy_to_grant(const void* src, domid_t granter, grant_ref_t ref, std::uint16_t offset,
                           std::uint16_t len);
std::int16_t copy_from_grant(domid_t granter, grant_ref_t ref, std::uint16_t offset, void* dst,
                             std::uint16_t len);

// Printable answers: "ok" / "-EINVAL" / a number; "GNTST_okay" / ...
const char* rc_name(long value);
const char* gntst_name(std::int16_t status);

} // namespace pingpong
