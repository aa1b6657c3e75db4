// Xen's 2-level event delivery (xen/common/event_2l.c) on one guest's
// shared_info and one vCPU's vcpu_info. Port numbers are < kTwoLevelPorts.
//
// The guest's side of the protocol: on the event interrupt it clears
// evtchn_upcall_pending, swaps evtchn_pending_sel to zero, and for each word
// named there handles evtchn_pending[w] & ~evtchn_mask[w], clearing each pending
// bit it takes. The functions that return bool say whether the vCPU's
// evtchn_upcall_pending went from 0 to 1: only then does Xen (and Keel) raise the
// event interrupt on that vCPU. They never call out: the caller does, after
// dropping its locks.
#pragma once

#include "evtchn/shared_layout.hpp"

namespace keel::evtchn::two_level {

// evtchn_2l_set_pending: mark the port pending; if it was not already pending and
// is not masked, flag its word in the selector and the vCPU for an upcall.
[[nodiscard]] bool set_pending(SharedInfo& shared, VcpuInfo& vcpu, unsigned port);

// evtchn_2l_clear_pending: a port being freed loses any pending event, so a
// later binding of the same number starts clean.
void clear_pending(SharedInfo& shared, unsigned port);

// evtchn_2l_unmask: clear the mask bit; if it was set and the port is pending,
// deliver it now as set_pending would have.
[[nodiscard]] bool unmask(SharedInfo& shared, VcpuInfo& vcpu, unsigned port);

// vcpu_mark_events_pending (xen/arch/arm/domain.c): set evtchn_upcall_pending.
[[nodiscard]] bool mark_events_pending(VcpuInfo& vcpu);

bool is_pending(const SharedInfo& shared, unsigned port);
bool is_masked(const SharedInfo& shared, unsigned port);

} // namespace keel::evtchn::two_level
