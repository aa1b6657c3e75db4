// Host harness for the xenstore tests: a Store in a heap arena, and domains
// that each have a real xenstore_domain_interface page in host memory, a
// StoreConnection serving it and a Client using it. The clients' wait hook
// runs every server once (as if the other side had been scheduled), so a
// blocking client call and the fake xenstored share one thread.
#pragma once

#include <keel/guest/xenstore/client.hpp>
#include <keel/guest/xenstore/server.hpp>
#include <keel/guest/xenstore/store.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace keel::guest::xenstore::test {

inline Errno err(const Status& s) { return s.error(); }
template <typename T>
Errno err(const Result<T>& r)
{
    return r.error();
}

// Tests spell errors XEN_ENOENT etc. (bare ENOENT is the host's macro).
using enum keel::Errno;

struct alignas(4096) RingPage {
    xenstore_domain_interface intf{};
};

// A Store with its arena.
class StoreBox {
public:
    explicit StoreBox(const StoreConfig& config = {})
        : words_(Store::arena_bytes(config) / 8 + 1),
          store_(std::as_writable_bytes(std::span<std::uint64_t>(words_)), config)
    {
    }
    Store& operator*() { return store_; }
    Store* operator->() { return &store_; }

private:
    std::vector<std::uint64_t> words_;
    Store store_;
};

// A store-side connection whose output is recorded instead of put on a
// ring: for testing the store alone.
struct Recorder {
    struct Msg {
        Header h;
        std::string payload;
    };
    std::vector<Msg> msgs;
    bool refuse = false;

    StoreOutput output()
    {
        return StoreOutput{[](void* ctx, std::span<const char> m) {
                               auto& self = *static_cast<Recorder*>(ctx);
                               if (self.refuse) return false;
                               auto h = decode_header(m.first<kHeaderSize>());
                               self.msgs.push_back({*h, std::string(m.data() + kHeaderSize, h->len)});
                               return true;
                           },
                           this};
    }
    // "path|token" of every watch event so far, then forgotten.
    std::vector<std::string> take_events()
    {
        std::vector<std::string> out;
        for (auto& m : msgs) {
            if (m.h.type != XS_WATCH_EVENT) continue;
            auto ev = decode_watch_event(std::span<const char>(m.payload.data(), m.payload.size()));
            out.push_back(std::string(ev->path) + "|" + std::string(ev->token));
        }
        msgs.clear();
        return out;
    }
};

// Store + domains on rings.
class XsWorld {
public:
    struct Domain {
        DomainId id;
        XsWorld* world = nullptr;
        std::unique_ptr<RingPage> page = std::make_unique<RingPage>();
        std::unique_ptr<StoreConnection> server;
        std::unique_ptr<Client> client;
        int client_notifies = 0;  // client -> xenstored kicks
        int server_notifies = 0;  // xenstored -> client kicks
    };

    explicit XsWorld(const StoreConfig& config = {}) : store_(config) {}

    Store& store() { return *store_; }

    Domain& add(std::uint16_t domid)
    {
        auto d = std::make_unique<Domain>();
        d->id = DomainId(domid);
        d->world = this;
        d->server = std::make_unique<StoreConnection>(
            *store_, &d->page->intf, d->id,
            ServerHooks{[](void* ctx) { ++static_cast<Domain*>(ctx)->server_notifies; }, d.get()});
        EXPECT_TRUE(d->server->start().ok());
        d->client = std::make_unique<Client>(
            &d->page->intf,
            ClientHooks{[](void* ctx) { ++static_cast<Domain*>(ctx)->client_notifies; },
                        [](void* ctx) { static_cast<Domain*>(ctx)->world->run_servers(); }, d.get()});
        domains_.push_back(std::move(d));
        return *domains_.back();
    }

    // What the other side does when it gets the CPU: first whatever the test
    // wants to happen meanwhile (another writer), then every server.
    void run_servers()
    {
        ++server_runs;
        if (meanwhile) meanwhile();
        for (auto& d : domains_) d->server->poll();
    }

    int server_runs = 0;
    std::function<void()> meanwhile;

private:
    StoreBox store_;
    std::vector<std::unique_ptr<Domain>> domains_;
};

// Gives domain `d` a home, /local/domain/<d>, owned by it (as a toolstack
// does), through dom0's client.
inline void make_home(Client& dom0, std::uint16_t d)
{
    const std::string home = "/local/domain/" + std::to_string(d);
    ASSERT_TRUE(dom0.mkdir(home).ok());
    const Permission perms[] = {{DomainId(d), Access::none}};
    ASSERT_TRUE(dom0.set_perms(home, perms).ok());
}

} // namespace keel::guest::xenstore::test
