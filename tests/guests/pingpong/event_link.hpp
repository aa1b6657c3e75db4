// One interdomain event channel used as a doorbell between the two pingpong
// domains, waited on with SCHEDOP_poll (or, with wait=yield, by yielding until
// the pending bit shows). The port stays masked: poll wakes on the pending bit
// whatever the mask (Xen's 2-level ABI checks pollers after setting it), so
// no upcall is ever raised and the GIC is not involved -- the same code runs
// under GICv2 and GICv3.
#pragma once

#include <cstdint>

#include "config.hpp"

#include <xen/event_channel.h>

namespace pingpong {

class EventLink {
public:
    EventLink(void* shared_info, evtchn_port_t port, WaitBy wait_by);

    evtchn_port_t port() const { return port_; }

    // Whether our end is pending right now; clears it.
    bool pending() const;
    void clear() const;

    // Rings the peer's end. Returns the hypercall's answer.
    long notify() const;

    // Returns once our end is pending, and clears it. Each side clears before
    // it answers, so the next event can only arrive after the clear: no
    // wake-up is lost. Returns 0 or the first poll error.
    long wait() const;

private:
    void* shared_info_;
    evtchn_port_t port_;
    WaitBy wait_by_;
};

} // namespace pingpong
