#include "evtchn/two_level.hpp"

#include "evtchn/guest_atomics.hpp"

namespace keel::evtchn::two_level {

bool mark_events_pending(VcpuInfo& vcpu)
{
    return !guest::test_and_set_flag(&vcpu.evtchn_upcall_pending);
}

bool set_pending(SharedInfo& shared, VcpuInfo& vcpu, unsigned port)
{
    // Already pending: the guest has not taken the last one yet, and whoever
    // set the bit then also did the selector and upcall work below.
    if (guest::test_and_set_bit(shared.evtchn_pending, port)) return false;
    // Masked: stays pending until unmask() (ours or the guest's own) delivers it.
    if (guest::test_bit(shared.evtchn_mask, port)) return false;
    // Word already selected: the guest will scan it anyway.
    if (guest::test_and_set_bit(&vcpu.evtchn_pending_sel, port / kBitsPerWord)) return false;
    return mark_events_pending(vcpu);
}

void clear_pending(SharedInfo& shared, unsigned port)
{
    guest::clear_bit(shared.evtchn_pending, port);
}

bool unmask(SharedInfo& shared, VcpuInfo& vcpu, unsigned port)
{
    // Same order as set_pending, mirrored: whichever of the two runs second sees
    // the other's bit (see guest_atomics.hpp).
    if (!guest::test_and_clear_bit(shared.evtchn_mask, port)) return false;
    if (!guest::test_bit(shared.evtchn_pending, port)) return false;
    if (guest::test_and_set_bit(&vcpu.evtchn_pending_sel, port / kBitsPerWord)) return false;
    return mark_events_pending(vcpu);
}

bool is_pending(const SharedInfo& shared, unsigned port)
{
    return guest::test_bit(shared.evtchn_pending, port);
}

bool is_masked(const SharedInfo& shared, unsigned port)
{
    return guest::test_bit(shared.evtchn_mask, port);
}

} // namespace keel::evtchn::two_level
