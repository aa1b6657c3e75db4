// The typed values of the guest SDK. A port is not a grant reference is not a
// frame number, even though each is an integer on the wire; the Xen structures
// take `.raw()` at the boundary and nowhere else.
#pragma once

#include <cstdint>
#include <keel/errno.hpp>
#include <keel/result.hpp>
#include <keel/strong.hpp>

namespace keel::guest {

using keel::DomainId;
using keel::Err;
using keel::Errno;
using keel::Result;
using keel::Status;

struct PortTag;
struct GrantRefTag;
struct GfnTag;
struct MfnTag;
using Port = Strong<PortTag, std::uint32_t>;          // evtchn_port_t
using GrantRef = Strong<GrantRefTag, std::uint32_t>;  // grant_ref_t
using Gfn = Strong<GfnTag, std::uint64_t>;            // a guest frame number (IPA >> 12)
using GuestPhysAddr = keel::IpAddr;                   // a guest "physical" address (an IPA)

inline constexpr DomainId kDomidSelf{0x7ff0};  // DOMID_SELF

// One guest frame seen both ways: the frame number the hypervisor is told
// (an IPA >> 12), and the address at which this guest reaches that IPA through
// its own stage-1 mapping. The SDK never derives one from the other: a bare
// guest maps IPAs 1:1, a unikernel may not, and the unit tests' fake
// hypervisor puts each domain's IPA space elsewhere in the host's memory.
struct GuestFrame {
    Gfn gfn;
    void* va = nullptr;
};

constexpr Gfn gfn_of(GuestPhysAddr a) { return Gfn(a.raw() >> keel::kPageShift); }
constexpr GuestPhysAddr address_of(Gfn f) { return GuestPhysAddr(f.raw() << keel::kPageShift); }

} // namespace keel::guest
