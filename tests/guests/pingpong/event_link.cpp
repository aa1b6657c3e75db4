#include "event_link.hpp"

#include "xen_calls.hpp"
#include "xen_layout.h"  // tests/abi: shared_info bit access compiled as C

namespace pingpong {

EventLink::EventLink(void* shared_info, evtchn_port_t port, WaitBy wait_by)
    : shared_info_(shared_info), port_(port), wait_by_(wait_by)
{
    abi_port_set_mask(shared_info_, port_);
}

bool EventLink::pending() const { return abi_port_pending(shared_info_, port_) != 0; }
void EventLink::clear() const { abi_port_clear_pending(shared_info_, port_); }

long EventLink::notify() const
{
    // What we wrote to shared pages (ours or the peer's) before the doorbell.
    asm volatile("dmb ish" ::: "memory");
    return send(port_);
}

long EventLink::wait() const
{
    while (!abi_port_pending(shared_info_, port_)) {
        const long r = wait_by_ == WaitBy::kPoll ? poll(port_) : yield();
        if (r != 0) return r;
    }
    abi_port_clear_pending(shared_info_, port_);
    // The peer's writes to shared pages after the event that announced them.
    asm volatile("dmb ish" ::: "memory");
    return 0;
}

} // namespace pingpong
