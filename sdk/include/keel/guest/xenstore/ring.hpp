// The xenstore shared page (`struct xenstore_domain_interface`): two byte
// rings of XENSTORE_RING_SIZE, `req` (guest -> xenstored) and `rsp`
// (xenstored -> guest: replies and watch events), each with a free-running
// producer and consumer index. A message may be split across any number of
// reads and writes; the transport moves bytes, message framing is above it.
//
// The page is shared with a peer we do not trust. Each side keeps its own
// index privately and only publishes it; the peer's index is read once per
// call and checked (prod - cons must not exceed the ring size). A bad index
// is a protocol error (XEN_EIO): the connection is dead from then on.
//
// Event-channel notification is the caller's job (it knows when a batch is
// done); every call reports how many bytes moved so it can decide.
#pragma once

#include <cstddef>
#include <cstdint>
#include <keel/guest/types.hpp>
#include <keel/guest/xenstore/wire.hpp>
#include <span>

namespace keel::guest::xenstore {

inline constexpr std::size_t kRingSize = XENSTORE_RING_SIZE;

// The writing end of one ring.
class RingProducer {
public:
    RingProducer(char* ring, XENSTORE_RING_IDX* cons, XENSTORE_RING_IDX* prod);
    // Copies as much of `data` as fits; returns the count (0 if full).
    Result<std::size_t> write(std::span<const char> data);
    Result<std::size_t> space() const;

private:
    char* ring_;
    XENSTORE_RING_IDX* cons_;  // the peer's
    XENSTORE_RING_IDX* prod_;  // ours, published
    XENSTORE_RING_IDX my_prod_;
};

// The reading end of one ring.
class RingConsumer {
public:
    RingConsumer(const char* ring, XENSTORE_RING_IDX* cons, XENSTORE_RING_IDX* prod);
    // Copies up to out.size() available bytes; returns the count (0 if empty).
    Result<std::size_t> read(std::span<char> out);
    Result<std::size_t> available() const;

private:
    const char* ring_;
    XENSTORE_RING_IDX* cons_;  // ours, published
    XENSTORE_RING_IDX* prod_;  // the peer's
    XENSTORE_RING_IDX my_cons_;
};

// The guest's side: requests out, replies and events in. Starts from the
// indices found in the page (zero on a fresh page).
class ClientRing {
public:
    explicit ClientRing(xenstore_domain_interface* page);
    Result<std::size_t> send(std::span<const char> data) { return req_.write(data); }
    Result<std::size_t> receive(std::span<char> out) { return rsp_.read(out); }

private:
    RingProducer req_;
    RingConsumer rsp_;
};

// xenstored's side of the same page: requests in, replies and events out.
// Advertises XENSTORE_SERVER_FEATURE_ERROR and reports a dead connection in
// the page's `error` field, as xenstored does.
class ServerRing {
public:
    explicit ServerRing(xenstore_domain_interface* page);
    Result<std::size_t> receive(std::span<char> out) { return req_.read(out); }
    Result<std::size_t> send(std::span<const char> data) { return rsp_.write(data); }
    void report_error(std::uint32_t xenstore_error);  // XENSTORE_ERROR_*

private:
    xenstore_domain_interface* page_;
    RingConsumer req_;
    RingProducer rsp_;
};

} // namespace keel::guest::xenstore
