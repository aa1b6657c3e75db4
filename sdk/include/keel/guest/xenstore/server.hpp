// One domain's xenstore ring, served from a Store: what xenstored does for
// each connected domain. Arch-neutral; whoever owns the event channel calls
// poll() when the domain kicks it (or periodically) and supplies notify.
//
// The guest is hostile: a bad ring index or an oversized message ends the
// connection (the page's `error` field says why, as xenstored's does) and
// the store forgets its watches and transactions. Requests are taken only
// while there is room for their reply; watch events that find the output
// full are refired later with the watch's own path (see StoreOutput).
#pragma once

#include <cstddef>
#include <cstdint>
#include <keel/guest/types.hpp>
#include <keel/guest/xenstore/ring.hpp>
#include <keel/guest/xenstore/store.hpp>
#include <keel/guest/xenstore/wire.hpp>

namespace keel::guest::xenstore {

struct ServerHooks {
    // Send on the domain's xenstore event channel.
    void (*notify)(void* ctx) = nullptr;
    void* ctx = nullptr;
};

class StoreConnection {
public:
    StoreConnection(Store& store, xenstore_domain_interface* page, DomainId domain, ServerHooks hooks);
    ~StoreConnection();
    StoreConnection(const StoreConnection&) = delete;
    StoreConnection& operator=(const StoreConnection&) = delete;

    // Joins the store (EEXIST if the domain already has a connection).
    Status start();
    // Serves what the ring holds and sends what is queued. Never blocks.
    void poll();
    bool broken() const { return broken_; }
    ConnId id() const { return conn_; }

private:
    static constexpr std::size_t kOutQueue = 4 * kMessageMax;

    static bool deliver(void* ctx, std::span<const char> message);
    bool flush();
    void fail(std::uint32_t xenstore_error);
    std::size_t out_free() const { return kOutQueue - (out_tail_ - out_head_); }

    Store& store_;
    ServerRing ring_;
    ServerHooks hooks_;
    DomainId domain_;
    ConnId conn_{0};
    bool connected_ = false;
    bool broken_ = false;
    bool in_poll_ = false;
    bool events_dropped_ = false;

    char in_[kMessageMax];
    std::size_t in_len_ = 0;
    Header in_header_;

    char out_[kOutQueue];
    std::size_t out_head_ = 0, out_tail_ = 0;
};

} // namespace keel::guest::xenstore
