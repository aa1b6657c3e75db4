// A xenstore client over the shared ring, for bare guests and the unikernel.
//
// Design:
//  - No allocation. Requests and watches are objects the caller owns (on its
//    stack, in a driver struct); the client links them into lists while they
//    are live. Replies land in caller-provided buffers.
//  - Non-blocking core: submit() queues a request, poll() moves bytes both
//    ways, completes requests (matched by req_id, in whatever order replies
//    come) and runs watch callbacks. Any number of requests may be
//    outstanding.
//  - Blocking calls (read, write, ...) are submit() + wait(): wait() polls,
//    and while the request is unfinished calls the user's wait hook. A bare
//    guest's hook polls its event channel, the unikernel's blocks the thread,
//    and a host test's runs the fake xenstored in the same thread.
//  - Watch callbacks run from poll(), never from inside another callback: a
//    callback may make blocking calls (their replies are processed; events
//    arriving meanwhile are queued for after it returns). If the event queue
//    overflows, each affected watch fires once more with its own path, which
//    xenstore allows ("watches may be triggered spuriously") and loses no
//    wake-up.
//  - A protocol violation by the peer (bad ring index, oversized message)
//    breaks the client: everything outstanding and everything later fails
//    with XEN_EIO.
//
// Error values: the server's (by errno name, see wire.hpp), plus XEN_ERANGE
// when a reply does not fit the caller's buffer, XEN_EBUSY from submit() when
// the send queue is full, XEN_EIO when broken.
#pragma once

#include <cstddef>
#include <cstdint>
#include <keel/guest/types.hpp>
#include <keel/guest/xenstore/ring.hpp>
#include <keel/guest/xenstore/wire.hpp>
#include <span>
#include <string_view>

namespace keel::guest::xenstore {

class Client;

// How the client reaches the outside world: plain functions and a context.
struct ClientHooks {
    // Send on the xenstore event channel. Called after the client produced
    // requests or consumed replies (the server may be waiting for space).
    void (*notify)(void* ctx) = nullptr;
    // Block until the xenstore event channel has fired since this hook last
    // returned (an event that came while the client was polling must make
    // it return at once: test-and-clear a pending flag, don't wait for an
    // edge). Null means spin.
    void (*wait)(void* ctx) = nullptr;
    void* ctx = nullptr;
};

// One request. Owned by the caller, who must keep it (and its reply buffer)
// alive while it is pending; destroying a pending request abandons it (its
// reply is dropped when it comes).
class Request {
public:
    // The reply payload is copied into `reply`; a longer one fails the
    // request with XEN_ERANGE and needed() tells how long it was.
    explicit Request(std::span<char> reply = {}) : buf_(reply) {}
    // The reply payload is given to `sink` while it sits in the client's
    // receive buffer (decode in place); the sink's errno is the result.
    using Sink = Errno (*)(void* ctx, std::span<const char> payload);
    Request(Sink sink, void* ctx) : sink_(sink), sink_ctx_(ctx) {}
    ~Request();
    Request(const Request&) = delete;
    Request& operator=(const Request&) = delete;

    bool pending() const { return state_ == State::pending; }
    bool done() const { return state_ == State::done; }
    // The reply's payload length, or the error (XEN_EBUSY until done).
    Result<std::size_t> result() const;
    std::span<const char> reply() const { return {buf_.data(), len_ <= buf_.size() ? len_ : 0}; }
    std::size_t needed() const { return len_; }

private:
    friend class Client;
    enum class State : std::uint8_t { idle, pending, done };

    std::span<char> buf_;
    Sink sink_ = nullptr;
    void* sink_ctx_ = nullptr;
    Client* client_ = nullptr;
    Request* next_ = nullptr;
    std::uint32_t req_id_ = 0;
    std::uint32_t type_ = XS_INVALID;
    State state_ = State::idle;
    Errno error_ = Errno::OK;
    std::size_t len_ = 0;
};

// A watch. Owned by the caller; the path it was registered with must stay
// valid while it is registered (the client needs it for UNWATCH). Call
// Client::unwatch before destroying it: the destructor only forgets it
// locally (xenstored would keep it until the connection resets).
class Watch {
public:
    // `path` is the event's path (relative if the watch's path was).
    using Callback = void (*)(void* ctx, std::string_view path);
    Watch(Callback cb, void* ctx) : cb_(cb), ctx_(ctx) {}
    ~Watch();
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;

    bool registered() const { return client_ != nullptr; }
    std::string_view path() const { return path_; }

private:
    friend class Client;
    Callback cb_;
    void* ctx_;
    std::string_view path_;
    Client* client_ = nullptr;
    Watch* next_ = nullptr;
    std::uint32_t id_ = 0;
    bool overflowed_ = false;
};

class Client {
public:
    // `page` is the xenstore ring page (its indices as found are taken as
    // the starting point). The client is ~16 KiB: fixed send, receive and
    // event buffers.
    Client(xenstore_domain_interface* page, ClientHooks hooks);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // --- Non-blocking core ---------------------------------------------------
    // Queues one request: `args` each nul-terminated, then `raw` as is (the
    // value of a WRITE). XEN_EBUSY if the send queue is full (poll, retry),
    // XEN_E2BIG beyond XENSTORE_PAYLOAD_MAX, XEN_EINVAL if req is in use.
    Status submit(Request& req, std::uint32_t type, TxId tx, std::span<const std::string_view> args,
                  std::string_view raw = {});
    // Moves bytes, completes requests, runs watch callbacks. Never blocks.
    void poll();
    // poll() and the wait hook until `req` is done; its status.
    Status wait(Request& req);
    bool broken() const { return broken_; }

    // --- Blocking calls ------------------------------------------------------
    // The value's length; it is copied into `value` (not nul-terminated).
    Result<std::size_t> read(std::string_view path, std::span<char> value, TxId tx = kNoTransaction);
    Status write(std::string_view path, std::string_view value, TxId tx = kNoTransaction);
    Status mkdir(std::string_view path, TxId tx = kNoTransaction);
    Status rm(std::string_view path, TxId tx = kNoTransaction);
    // The children's names, stored in `buffer`.
    Result<StringList> directory(std::string_view path, std::span<char> buffer,
                                 TxId tx = kNoTransaction);
    // How many entries were stored in `out` (owner first).
    Result<std::size_t> get_perms(std::string_view path, std::span<Permission> out,
                                  TxId tx = kNoTransaction);
    Status set_perms(std::string_view path, std::span<const Permission> perms,
                     TxId tx = kNoTransaction);

    // Registers `w` on `path` (an absolute path, a path relative to
    // /local/domain/<self>, or @introduceDomain / @releaseDomain). xenstored
    // fires every new watch once straight away.
    Status watch(Watch& w, std::string_view path);
    Status unwatch(Watch& w);

    Result<TxId> transaction_start();
    Status transaction_end(TxId tx, bool commit);

    // Runs `fn(TxId) -> Status` in a transaction and commits it, starting
    // over while the commit (or fn) answers XEN_EAGAIN, i.e. while another
    // writer got in between. Any other error from fn aborts the transaction
    // and is returned. max_attempts = 0: no limit.
    template <typename Fn>
    Status transaction(Fn&& fn, unsigned max_attempts = 0);

private:
    friend class Request;
    friend class Watch;
    static constexpr std::size_t kSendQueue = 2 * kMessageMax;
    static constexpr std::size_t kEventQueue = kPayloadMax + 16;

    template <typename Build>
    Status queue(Request& req, std::uint32_t type, TxId tx, Build&& build);
    template <typename Build>
    Status call(Request& req, std::uint32_t type, TxId tx, Build&& build);
    void pump();
    void deliver(const Header& h, std::span<const char> payload);
    void queue_event(std::span<const char> payload);
    void run_callbacks();
    void fail();
    void unlink(Request& r);
    void unlink(Watch& w);
    Watch* find_watch(std::uint32_t id);
    std::uint32_t next_req_id();

    ClientRing ring_;
    ClientHooks hooks_;
    Request* requests_ = nullptr;
    Watch* watches_ = nullptr;
    std::uint32_t last_req_id_ = 0;
    std::uint32_t last_watch_id_ = 0;
    bool broken_ = false;
    bool in_callbacks_ = false;

    char send_[kSendQueue];
    std::size_t send_head_ = 0, send_tail_ = 0;

    char recv_[kMessageMax];
    std::size_t recv_len_ = 0;
    Header recv_header_;

    // Watch events waiting for their callback: [u32 watch id][u32 len][path].
    char events_[kEventQueue];
    std::size_t events_head_ = 0, events_tail_ = 0;
};

template <typename Fn>
Status Client::transaction(Fn&& fn, unsigned max_attempts)
{
    for (unsigned attempt = 1;; ++attempt) {
        auto tx = transaction_start();
        if (!tx) return Err(tx.error());
        const Status body = fn(*tx);
        const Status end = transaction_end(*tx, body.ok());
        const Errno e = body.ok() ? end.error() : body.error();
        if (e != Errno::XEN_EAGAIN) return e == Errno::OK ? Status{} : Status(Err(e));
        if (max_attempts != 0 && attempt >= max_attempts) return Err(Errno::XEN_EAGAIN);
    }
}

} // namespace keel::guest::xenstore
