// HYPERVISOR_grant_table_op(cmd, uop, count) as Xen 4.17 handles it for an arm
// guest: argument checks, the loop over `count` records, which fields are
// copied back to the guest for each command, and when the call is cut short
// and continued. The records themselves are handled by ops.hpp.
#pragma once

#include "gnttab/abi.hpp"
#include "gnttab/grant_domain.hpp"
#include "gnttab/grant_host.hpp"

#include <keel/result.hpp>

#include <cstddef>
#include <cstdint>

namespace keel::gnttab {

// The calling vCPU's memory as the hypercall reaches it. On Xen/arm a guest
// handle is a guest *virtual* address, translated with the vCPU's own stage-1
// (copy_guest with COPY_linear in xen/arch/arm/guestcopy.c); an address that
// does not translate to the caller's RAM fails, and the hypercall returns EFAULT.
class GuestBuffer {
public:
    virtual bool read(std::uint64_t guest_addr, void* dst, std::size_t n) = 0;
    virtual bool write(std::uint64_t guest_addr, const void* src, std::size_t n) = 0;

protected:
    ~GuestBuffer() = default;
};

// When a call with many records is cut short, the hypervisor re-executes the
// guest's HVC with these arguments (x0 = cmd unchanged, x1 = uop, x2 = count),
// as Xen's hypercall_create_continuation does on arm; the guest never sees it.
struct Continuation {
    bool needed = false;
    std::uint64_t uop = 0;
    std::uint32_t count = 0;
};

// Records handled per entry into the hypervisor before continuing (Xen checks
// for pending work between records; Keel bounds the batch instead).
inline constexpr unsigned kRecordsPerCall = 128;

// The value for the guest's x0, unless `cont.needed`.
long grant_table_op(GrantHost& host, GrantDomain& caller, GuestBuffer& mem, std::uint32_t cmd, std::uint64_t uop,
                    std::uint32_t count, Continuation& cont, unsigned budget = kRecordsPerCall);

} // namespace keel::gnttab
