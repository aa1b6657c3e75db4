// A guest's SDK objects on the fake hypervisor, set up the way a guest's boot
// code would: shared_info placed at the first frame of the hypervisor window,
// an EventChannels whose handle_upcall is the domain's event-interrupt
// handler, and (on request) a grant table in the following frames.
#pragma once

#include "sdk_fake_hypervisor.hpp"

#include <keel/guest/events.hpp>
#include <keel/guest/grants.hpp>
#include <keel/guest/shared_info.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <utility>
#include <vector>

namespace keel::sdk_test {

// Frames of the hypervisor window, by use.
inline constexpr unsigned kSharedInfoHole = 0;
inline constexpr unsigned kGrantHoles = 1;    // grant-table frames 1..8
inline constexpr unsigned kMappingHoles = 16;  // where tests map peers' grants

inline Errno err(const Status& s) { return s.error(); }
template <typename T>
Errno err(const Result<T>& r)
{
    return r.error();
}

struct SdkGuest {
    SdkGuest(FakeHypervisor& hv_, std::uint16_t id_, unsigned nr_slots = 256,
             guest::WaitHooks hooks = guest::poll_wait_hooks())
        : hv(hv_), id(id_), slots(nr_slots)
    {
        FakeHypervisor::As as(hv, id);
        auto s = guest::map_shared_info(hv.hole_frame(id, kSharedInfoHole));
        EXPECT_TRUE(s.ok()) << errno_name(s.error());
        shared = s.value_or(nullptr);
        events = std::make_unique<guest::EventChannels>(*shared, slots, hooks);
        hv.set_irq_handler(id, &SdkGuest::on_interrupt, events.get());
    }
    ~SdkGuest() { hv.set_irq_handler(id, nullptr, nullptr); }

    Status setup_grants(unsigned frames = 1, unsigned nr_slots = 1024)
    {
        FakeHypervisor::As as(hv, id);
        std::vector<guest::GuestFrame> f;
        for (unsigned i = 0; i < frames; ++i) f.push_back(hv.hole_frame(id, kGrantHoles + i));
        grant_slots.resize(nr_slots);
        return grants.setup(f, grant_slots);
    }

    static void on_interrupt(void* events, unsigned vcpu)
    {
        static_cast<guest::EventChannels*>(events)->handle_upcall(vcpu);
    }

    FakeHypervisor& hv;
    std::uint16_t id;
    guest::SharedInfo* shared = nullptr;
    std::vector<guest::PortSlot> slots;
    std::unique_ptr<guest::EventChannels> events;
    std::vector<guest::GrantSlot> grant_slots;
    guest::GrantTable grants;
};

// An SDK object (EventPort, Grant, ForeignMapping) destroyed as the domain
// that made it, whichever domain the thread is acting as at the time, so a
// test can hold two domains' objects side by side (and fail an assertion
// without a stray close under the wrong domain).
template <typename T>
struct Held {
    Held(FakeHypervisor& hv_, std::uint16_t dom_) : hv(&hv_), dom(dom_) {}
    ~Held()
    {
        FakeHypervisor::As as(*hv, dom);
        T gone = std::move(obj);
    }
    Held(const Held&) = delete;
    Held& operator=(const Held&) = delete;
    T& operator*() { return obj; }
    T* operator->() { return &obj; }

    FakeHypervisor* hv;
    std::uint16_t dom;
    T obj;
};

// A handler that records (port, vCPU it ran on).
struct Recorder {
    std::vector<std::pair<unsigned, unsigned>> got;

    static void on(void* self, guest::Port port)
    {
        static_cast<Recorder*>(self)->got.emplace_back(port.raw(), FakeHypervisor::current().vcpu);
    }
    guest::EventHandler handler() { return {&Recorder::on, this}; }
    std::vector<unsigned> ports() const
    {
        std::vector<unsigned> p;
        for (auto& g : got) p.push_back(g.first);
        return p;
    }
    std::size_t count(unsigned port) const
    {
        std::size_t n = 0;
        for (auto& g : got) n += g.first == port;
        return n;
    }
};

} // namespace keel::sdk_test
