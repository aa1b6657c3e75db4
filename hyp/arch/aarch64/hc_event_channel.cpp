// Event channels: the arch-neutral core (core/evtchn) wired to Keel's domains.
// An upcall is the event PPI, injected through the vGIC like any interrupt.
#include "hypercall_context.hpp"
#include "scheduler.hpp"

#include "evtchn/event_channel_op.hpp"
#include "evtchn/event_channels.hpp"

namespace keel::arch {

namespace {

class DomainEvents final : public evtchn::EventHost {
public:
    evtchn::EventDomain* lookup(DomainId id) override
    {
        Domain* d = domain_by_id(id, true);
        return d ? &d->events : nullptr;
    }
    bool is_privileged(DomainId id) override
    {
        Domain* d = domain_by_id(id, true);
        return d && d->privileged;
    }
    void wake_pollers(DomainId id) override
    {
        Domain* d = domain_by_id(id, false);
        if (!d) return;
        for (unsigned i = 0; i < d->nr_vcpus; ++i) {
            Vcpu& v = d->vcpus[i];
            if (__atomic_exchange_n(&v.polling, false, __ATOMIC_SEQ_CST)) vcpu_kick(v);
        }
    }
    void upcall(DomainId id, unsigned vcpu) override
    {
        Domain* d = domain_by_id(id, true);
        if (d && d->state == DomainState::Running && vcpu < d->nr_vcpus) d->vgic.inject_edge(vcpu, guest_layout::kEventPpi);
    }
};

DomainEvents host;
evtchn::EventChannels channels(host);
} // namespace

evtchn::EventChannels& event_channels() { return channels; }

long hc_event_channel_op(HypercallContext& c, std::uint64_t cmd, IpAddr arg)
{
    return evtchn::event_channel_op(channels, DomainId(c.dom.id), static_cast<unsigned>(cmd), arg, c.mem);
}

} // namespace keel::arch
