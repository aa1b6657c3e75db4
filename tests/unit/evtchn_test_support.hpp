// Shared fixture for the event-channel tests: a few domains, each with a real
// shared_info page in host memory, behind an EventHost that records upcalls; a
// guest-side consumer that drains events the way Linux's 2-level handler does;
// and an invariant checker for the port tables.
#pragma once

#include "evtchn/event_channels.hpp"
#include "evtchn/event_domain.hpp"
#include "evtchn/guest_atomics.hpp"
#include "evtchn/shared_layout.hpp"

#include <gtest/gtest.h>

#include <xen/event_channel.h>
#include <xen/xen.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace keel::evtchn::test {

inline constexpr long kEINVAL = static_cast<long>(Errno::XEN_EINVAL);

// Xen errno of a Status, 0 for success: EXPECT_EQ(err(op()), EINVAL) reads well.
inline Errno err(const Status& s) { return s.error(); }

struct alignas(4096) Page {
    unsigned char bytes[4096];
};

class FakeHost final : public EventHost {
public:
    static constexpr unsigned kDomains = 4;
    std::size_t pollers_woken[kDomains] = {};

    EventDomain* lookup(DomainId id) override
    {
        for (unsigned i = 0; i < kDomains; ++i)
            if (present[i] && ids[i] == id) return &domains[i];
        return nullptr;
    }
    bool is_privileged(DomainId id) override { return id == DomainId{0}; }
    void upcall(DomainId id, unsigned vcpu) override
    {
        std::lock_guard<std::mutex> g(mu);
        upcalls.emplace_back(id.raw(), vcpu);
    }

    void wake_pollers(DomainId id) override
    {
        std::lock_guard<std::mutex> g(mu);
        ++pollers_woken[id.raw() % kDomains];
    }
    std::size_t pollers_woken_in(std::uint16_t dom)
    {
        std::lock_guard<std::mutex> g(mu);
        return pollers_woken[dom % kDomains];
    }

    std::size_t upcalls_to(std::uint16_t dom, unsigned vcpu)
    {
        std::lock_guard<std::mutex> g(mu);
        std::size_t n = 0;
        for (auto& u : upcalls)
            if (u.first == dom && u.second == vcpu) ++n;
        return n;
    }
    std::size_t upcall_count()
    {
        std::lock_guard<std::mutex> g(mu);
        return upcalls.size();
    }
    void clear_upcalls()
    {
        std::lock_guard<std::mutex> g(mu);
        upcalls.clear();
    }

    EventDomain domains[kDomains];
    DomainId ids[kDomains];
    bool present[kDomains] = {};
    std::mutex mu;
    std::vector<std::pair<std::uint16_t, unsigned>> upcalls;
};

// A domain as the tests see it: its id, its EventDomain and its shared_info page.
struct Dom {
    DomainId id;
    EventDomain* ed;
    SharedInfo* shared;
};

class EvtchnFixture : public ::testing::Test {
protected:
    // Slot i holds domain `id` with `vcpus` vCPUs and a zeroed shared_info page.
    Dom add_domain(unsigned slot, std::uint16_t id, unsigned vcpus, evtchn_port_t max_port = kPortCapacity - 1)
    {
        pages_[slot] = std::make_unique<Page>();
        auto* shared = reinterpret_cast<SharedInfo*>(pages_[slot]->bytes);
        EXPECT_TRUE(host.domains[slot].init(DomainId{id}, shared, vcpus, max_port).ok());
        host.ids[slot] = DomainId{id};
        host.present[slot] = true;
        return Dom{DomainId{id}, &host.domains[slot], shared};
    }

    // Operation shorthands: the port on success, -errno on failure.
    long alloc_unbound(DomainId caller, domid_t dom, domid_t remote)
    {
        evtchn_alloc_unbound op{};
        op.dom = dom;
        op.remote_dom = remote;
        auto s = ec.alloc_unbound(caller, op);
        return s.ok() ? long(op.port) : s.as_xen_ret();
    }
    long bind_interdomain(DomainId caller, domid_t remote, evtchn_port_t rport)
    {
        evtchn_bind_interdomain op{};
        op.remote_dom = remote;
        op.remote_port = rport;
        auto s = ec.bind_interdomain(caller, op);
        return s.ok() ? long(op.local_port) : s.as_xen_ret();
    }
    long bind_virq(DomainId caller, std::uint32_t virq, std::uint32_t vcpu)
    {
        evtchn_bind_virq op{};
        op.virq = virq;
        op.vcpu = vcpu;
        auto s = ec.bind_virq(caller, op);
        return s.ok() ? long(op.port) : s.as_xen_ret();
    }
    long bind_ipi(DomainId caller, std::uint32_t vcpu)
    {
        evtchn_bind_ipi op{};
        op.vcpu = vcpu;
        auto s = ec.bind_ipi(caller, op);
        return s.ok() ? long(op.port) : s.as_xen_ret();
    }
    long close(DomainId caller, evtchn_port_t port) { return ec.close(caller, evtchn_close{port}).as_xen_ret(); }
    long send(DomainId caller, evtchn_port_t port) { return ec.send(caller, evtchn_send{port}).as_xen_ret(); }
    long unmask(DomainId caller, evtchn_port_t port) { return ec.unmask(caller, evtchn_unmask{port}).as_xen_ret(); }
    long bind_vcpu(DomainId caller, evtchn_port_t port, std::uint32_t vcpu)
    {
        return ec.bind_vcpu(caller, evtchn_bind_vcpu{port, vcpu}).as_xen_ret();
    }
    // EVTCHNOP_status; the struct comes back only on success.
    std::pair<long, evtchn_status> status(DomainId caller, domid_t dom, evtchn_port_t port)
    {
        evtchn_status op{};
        op.dom = dom;
        op.port = port;
        auto s = ec.status(caller, op);
        return {s.as_xen_ret(), op};
    }

    static bool pending(const Dom& d, evtchn_port_t p) { return guest::test_bit(d.shared->evtchn_pending, p); }
    static bool masked(const Dom& d, evtchn_port_t p) { return guest::test_bit(d.shared->evtchn_mask, p); }
    static void mask(const Dom& d, evtchn_port_t p) { __atomic_fetch_or(&d.shared->evtchn_mask[p / 64], 1ull << (p % 64), __ATOMIC_SEQ_CST); }

    FakeHost host;
    EventChannels ec{host};

private:
    std::unique_ptr<Page> pages_[FakeHost::kDomains];
};

// The guest's half of 2-level delivery, as Linux's evtchn_2l_handle_events does
// it: clear the upcall flag, take the selector, and for each selected word take
// the pending-and-unmasked bits, clearing each pending bit before handling it.
inline std::vector<evtchn_port_t> guest_drain(SharedInfo& s, VcpuInfo& v)
{
    std::vector<evtchn_port_t> got;
    __atomic_store_n(&v.evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
    XenUlong sel = __atomic_exchange_n(&v.evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
    while (sel) {
        const unsigned w = __builtin_ctzll(sel);
        sel &= sel - 1;
        XenUlong bits = __atomic_load_n(&s.evtchn_pending[w], __ATOMIC_SEQ_CST) & ~__atomic_load_n(&s.evtchn_mask[w], __ATOMIC_SEQ_CST);
        while (bits) {
            const unsigned b = __builtin_ctzll(bits);
            bits &= bits - 1;
            const evtchn_port_t port = w * 64 + b;
            if (guest::test_and_clear_bit(s.evtchn_pending, port)) got.push_back(port);
        }
    }
    return got;
}

// Port-table invariants across all present domains. Returns "" or a description.
inline std::string check_invariants(FakeHost& host)
{
    for (unsigned i = 0; i < FakeHost::kDomains; ++i) {
        if (!host.present[i]) continue;
        EventDomain& d = host.domains[i];
        const evtchn_port_t valid = d.valid_ports();
        if (valid % kPortsPerBucket || valid > kPortCapacity) return "valid_ports not whole buckets";
        if (d.channel(0).state != ChannelState::Reserved) return "port 0 not reserved";
        unsigned virq_ports = 0, virq_refs = 0;
        for (evtchn_port_t p = 0; p < kPortCapacity; ++p) {
            const Channel c = d.channel(p);
            if (p >= valid && c.state != ChannelState::Free) return "port beyond valid in use";
            if (c.notify_vcpu >= d.nr_vcpus()) return "notify vcpu out of range";
            if (c.state == ChannelState::Free && d.shared_info() &&
                guest::test_bit(d.shared_info()->evtchn_pending, p))
                return "free port " + std::to_string(p) + " left pending";
            if (c.state == ChannelState::Virq) ++virq_ports;
            if (c.state != ChannelState::Interdomain) continue;
            // Peers agree, and the peer is one of the host's live domains.
            EventDomain* peer = c.peer;
            bool known = false;
            for (unsigned j = 0; j < FakeHost::kDomains; ++j)
                if (host.present[j] && &host.domains[j] == peer) known = true;
            if (!known) return "interdomain peer is not a live domain";
            if (peer->id() != c.remote_dom) return "peer id mismatch";
            const Channel r = peer->channel(c.remote_port);
            if (r.state != ChannelState::Interdomain || r.peer != &d || r.remote_port != p)
                return "peers disagree at dom " + std::to_string(d.id().raw()) + " port " + std::to_string(p);
        }
        for (unsigned v = 0; v < kMaxVcpus; ++v)
            for (unsigned x = 0; x < kNrVirqs; ++x) {
                const evtchn_port_t p = d.virq_port(v, x);
                if (!p) continue;
                ++virq_refs;
                if (v >= d.nr_vcpus()) return "virq bound on missing vcpu";
                const Channel c = d.channel(p);
                if (c.state != ChannelState::Virq || c.virq != x) return "virq table points at wrong port";
                if (virq_is_global(x) ? v != 0 : c.notify_vcpu != v) return "virq on wrong vcpu";
            }
        if (virq_ports != virq_refs) return "virq ports and table disagree";
    }
    return "";
}

} // namespace keel::evtchn::test
