// HYPERVISOR_event_channel_op(cmd, arg): Xen's do_event_channel_op(). Reads the
// command's struct from the guest (EFAULT if it cannot), runs it, and writes it
// back only on success (EFAULT if that fails; the operation stays done, as in
// Xen). Unknown commands are ENOSYS, and so are the FIFO ABI's init_control and
// expand_array: a guest (Linux) then falls back to the 2-level ABI.
#pragma once

#include "evtchn/event_channels.hpp"
#include "xen/guest_memory.hpp"

#include <keel/strong.hpp>

namespace keel::evtchn {

// Xen's internal continuation of EVTCHNOP_reset (__XEN__ only in the public
// header), which a guest can nevertheless issue: EBUSY unless a reset is running.
inline constexpr unsigned kEvtchnopResetCont = 14;

// `cmd` is the low 32 bits of x0 (Xen's handler takes an int); `arg` is x1.
// Returns the value for the guest's x0: 0 or a negative Xen errno.
long event_channel_op(EventChannels& channels, DomainId caller, unsigned cmd, IpAddr arg, xen::GuestMemory& mem);

} // namespace keel::evtchn
