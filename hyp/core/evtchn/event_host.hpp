// What the event-channel core needs from the rest of the hypervisor.
#pragma once

#include <keel/strong.hpp>

namespace keel::evtchn {

class EventDomain;

class EventHost {
public:
    // The domain's event state, or nullptr if there is no such domain (ESRCH). A
    // dying domain may still be returned until its teardown is complete.
    virtual EventDomain* lookup(DomainId id) = 0;
    // The control domain: may allocate ports for, query and reset other domains.
    virtual bool is_privileged(DomainId id) = 0;
    // Raise the event-channel PPI on that vCPU. Called with no event lock held;
    // the domain may have died meanwhile, so an unknown domain or vCPU is ignored.
    virtual void upcall(DomainId id, unsigned vcpu) = 0;
    // A port of the domain became pending: wake its vCPUs blocked in SCHEDOP_poll so
    // they re-check their ports (spurious wake-ups are allowed). No event lock held.
    virtual void wake_pollers(DomainId) {}

protected:
    ~EventHost() = default;
};

} // namespace keel::evtchn
