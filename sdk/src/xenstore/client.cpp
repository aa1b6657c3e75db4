#include <cstring>
#include <keel/guest/xenstore/client.hpp>

#include "slice.hpp"

namespace keel::guest::xenstore {

namespace {

// Tokens are ours: "keel/<id>", unique per registration, so an event for a
// watch that was since removed (and maybe re-added) cannot be misrouted.
constexpr std::string_view kTokenPrefix = "keel/";

std::size_t format_token(std::uint32_t id, std::span<char, 16> out)
{
    std::memcpy(out.data(), kTokenPrefix.data(), kTokenPrefix.size());
    return kTokenPrefix.size() + format_decimal(id, out.subspan(kTokenPrefix.size()));
}

std::uint32_t parse_token(std::string_view token)
{
    if (slice(token, 0, kTokenPrefix.size()) != kTokenPrefix) return 0;
    auto id = parse_decimal(slice(token, kTokenPrefix.size()));
    return id ? *id : 0;
}

// Replies whose payload says nothing beyond success ("OK").
Errno accept_reply(void*, std::span<const char>) { return Errno::OK; }

Status status_of(Errno e)
{
    if (e == Errno::OK) return {};
    return Err(e);
}

} // namespace

Request::~Request()
{
    if (client_) client_->unlink(*this);
}

Result<std::size_t> Request::result() const
{
    if (state_ != State::done) return Err(Errno::XEN_EBUSY);
    if (error_ != Errno::OK) return Err(error_);
    return len_;
}

Watch::~Watch()
{
    if (client_) client_->unlink(*this);
}

Client::Client(xenstore_domain_interface* page, ClientHooks hooks) : ring_(page), hooks_(hooks) {}

Client::~Client()
{
    fail();
    while (watches_) unlink(*watches_);
}

void Client::unlink(Request& r)
{
    for (Request** p = &requests_; *p; p = &(*p)->next_) {
        if (*p == &r) {
            *p = r.next_;
            break;
        }
    }
    r.next_ = nullptr;
    r.client_ = nullptr;
}

void Client::unlink(Watch& w)
{
    for (Watch** p = &watches_; *p; p = &(*p)->next_) {
        if (*p == &w) {
            *p = w.next_;
            break;
        }
    }
    w.next_ = nullptr;
    w.client_ = nullptr;
    w.overflowed_ = false;
}

Watch* Client::find_watch(std::uint32_t id)
{
    for (Watch* w = watches_; w; w = w->next_)
        if (w->id_ == id) return w;
    return nullptr;
}

std::uint32_t Client::next_req_id()
{
    // Unique among outstanding requests, even after the counter wraps.
    for (;;) {
        const std::uint32_t id = ++last_req_id_;
        bool used = false;
        for (Request* r = requests_; r; r = r->next_) used |= r->req_id_ == id;
        if (!used) return id;
    }
}

void Client::fail()
{
    broken_ = true;
    while (Request* r = requests_) {
        unlink(*r);
        r->error_ = Errno::XEN_EIO;
        r->state_ = Request::State::done;
    }
}

template <typename Build>
Status Client::queue(Request& req, std::uint32_t type, TxId tx, Build&& build)
{
    if (broken_) return Err(Errno::XEN_EIO);
    if (req.state_ == Request::State::pending) return Err(Errno::XEN_EINVAL);
    // Room for one whole message at the tail: compact first.
    if (send_head_ != 0) {
        std::memmove(send_, send_ + send_head_, send_tail_ - send_head_);
        send_tail_ -= send_head_;
        send_head_ = 0;
    }
    if (kSendQueue - send_tail_ < kMessageMax) return Err(Errno::XEN_EBUSY);

    const std::uint32_t id = next_req_id();
    MessageWriter w(std::span<char>(send_ + send_tail_, kSendQueue - send_tail_), type, id, tx);
    build(w);
    auto len = w.finish();
    if (!len) return Err(len.error());
    send_tail_ += *len;

    req.client_ = this;
    req.req_id_ = id;
    req.type_ = type;
    req.state_ = Request::State::pending;
    req.error_ = Errno::OK;
    req.len_ = 0;
    req.next_ = requests_;
    requests_ = &req;
    pump();
    return {};
}

template <typename Build>
Status Client::call(Request& req, std::uint32_t type, TxId tx, Build&& build)
{
    for (;;) {
        const Status s = queue(req, type, tx, build);
        if (s.error() != Errno::XEN_EBUSY) {
            if (!s) return s;
            break;
        }
        poll();
        if (hooks_.wait) hooks_.wait(hooks_.ctx);
    }
    return wait(req);
}

Status Client::submit(Request& req, std::uint32_t type, TxId tx,
                      std::span<const std::string_view> args, std::string_view raw)
{
    return queue(req, type, tx, [&](MessageWriter& w) {
        for (std::string_view a : args) w.arg(a);
        w.raw(raw);
    });
}

void Client::pump()
{
    bool moved = false;
    while (!broken_) {
        bool progress = false;

        if (send_head_ < send_tail_) {
            auto n = ring_.send(std::span<const char>(send_ + send_head_, send_tail_ - send_head_));
            if (!n) {
                fail();
                break;
            }
            send_head_ += *n;
            if (send_head_ == send_tail_) send_head_ = send_tail_ = 0;
            progress |= *n != 0;
        }

        // Read only up to the end of the current message: the rest of the
        // ring stays where it is until this one is handled.
        const bool have_header = recv_len_ >= kHeaderSize;
        const std::size_t want =
            have_header ? kHeaderSize + recv_header_.len - recv_len_ : kHeaderSize - recv_len_;
        if (want) {
            auto n = ring_.receive(std::span<char>(recv_ + recv_len_, want));
            if (!n) {
                fail();
                break;
            }
            recv_len_ += *n;
            progress |= *n != 0;
        }
        if (!have_header && recv_len_ == kHeaderSize) {
            auto h = decode_header(std::span<const char, kHeaderSize>(recv_, kHeaderSize));
            if (!h) {  // oversized: the stream cannot be resynchronised
                fail();
                break;
            }
            recv_header_ = *h;
        }
        if (recv_len_ >= kHeaderSize && recv_len_ == kHeaderSize + recv_header_.len) {
            recv_len_ = 0;
            deliver(recv_header_, std::span<const char>(recv_ + kHeaderSize, recv_header_.len));
            progress = true;
        }
        moved |= progress;
        if (!progress) break;
    }
    if (moved && hooks_.notify) hooks_.notify(hooks_.ctx);
}

void Client::deliver(const Header& h, std::span<const char> payload)
{
    if (h.type == XS_WATCH_EVENT) {
        queue_event(payload);
        return;
    }
    Request* r = requests_;
    while (r && r->req_id_ != h.req_id) r = r->next_;
    if (!r) return;  // abandoned (or never ours): drop it
    unlink(*r);
    if (h.type == XS_ERROR) {
        r->error_ = decode_error(payload);
    } else if (h.type != r->type_) {
        r->error_ = Errno::XEN_EIO;
    } else if (r->sink_) {
        r->error_ = r->sink_(r->sink_ctx_, payload);
        r->len_ = payload.size();
    } else {
        r->len_ = payload.size();
        if (payload.size() > r->buf_.size()) {
            r->error_ = Errno::XEN_ERANGE;
        } else if (!payload.empty()) {
            std::memcpy(r->buf_.data(), payload.data(), payload.size());
        }
    }
    r->state_ = Request::State::done;
}

void Client::queue_event(std::span<const char> payload)
{
    auto ev = decode_watch_event(payload);
    if (!ev) return;
    Watch* w = find_watch(parse_token(ev->token));
    if (!w) return;  // unwatched meanwhile, or not ours
    if (w->overflowed_) return;  // it will fire with its own path anyway

    // Compact only outside callbacks: a running callback holds a view into
    // the entry at the head.
    if (!in_callbacks_ && events_head_ != 0) {
        std::memmove(events_, events_ + events_head_, events_tail_ - events_head_);
        events_tail_ -= events_head_;
        events_head_ = 0;
    }
    const std::uint32_t len = static_cast<std::uint32_t>(ev->path.size());
    if (kEventQueue - events_tail_ < 8 + len) {
        w->overflowed_ = true;
        return;
    }
    std::memcpy(events_ + events_tail_, &w->id_, 4);
    std::memcpy(events_ + events_tail_ + 4, &len, 4);
    std::memcpy(events_ + events_tail_ + 8, ev->path.data(), len);
    events_tail_ += 8 + len;
}

void Client::run_callbacks()
{
    if (in_callbacks_) return;  // we are inside one: the outer loop continues
    in_callbacks_ = true;
    for (;;) {
        if (events_head_ < events_tail_) {
            std::uint32_t id, len;
            std::memcpy(&id, events_ + events_head_, 4);
            std::memcpy(&len, events_ + events_head_ + 4, 4);
            const std::string_view path(events_ + events_head_ + 8, len);
            Watch* w = find_watch(id);
            if (w && w->cb_) w->cb_(w->ctx_, path);
            events_head_ += 8 + len;
            if (events_head_ == events_tail_) events_head_ = events_tail_ = 0;
            continue;
        }
        Watch* w = watches_;
        while (w && !w->overflowed_) w = w->next_;
        if (!w) break;
        w->overflowed_ = false;
        if (w->cb_) w->cb_(w->ctx_, w->path_);
    }
    in_callbacks_ = false;
}

void Client::poll()
{
    pump();
    run_callbacks();
}

Status Client::wait(Request& req)
{
    if (req.state_ == Request::State::idle) return Err(Errno::XEN_EINVAL);
    for (;;) {
        poll();
        if (req.state_ == Request::State::done) break;
        if (hooks_.wait) hooks_.wait(hooks_.ctx);
    }
    return status_of(req.error_);
}

Result<std::size_t> Client::read(std::string_view path, std::span<char> value, TxId tx)
{
    Request r(value);
    KEEL_TRY(call(r, XS_READ, tx, [&](MessageWriter& w) { w.arg(path); }));
    return r.len_;
}

Status Client::write(std::string_view path, std::string_view value, TxId tx)
{
    Request r(accept_reply, nullptr);
    return call(r, XS_WRITE, tx, [&](MessageWriter& w) { w.arg(path).raw(value); });
}

Status Client::mkdir(std::string_view path, TxId tx)
{
    Request r(accept_reply, nullptr);
    return call(r, XS_MKDIR, tx, [&](MessageWriter& w) { w.arg(path); });
}

Status Client::rm(std::string_view path, TxId tx)
{
    Request r(accept_reply, nullptr);
    return call(r, XS_RM, tx, [&](MessageWriter& w) { w.arg(path); });
}

Result<StringList> Client::directory(std::string_view path, std::span<char> buffer, TxId tx)
{
    Request r(buffer);
    KEEL_TRY(call(r, XS_DIRECTORY, tx, [&](MessageWriter& w) { w.arg(path); }));
    return StringList(buffer.first(r.len_));
}

Result<std::size_t> Client::get_perms(std::string_view path, std::span<Permission> out, TxId tx)
{
    struct Decode {
        std::span<Permission> out;
        std::size_t count = 0;
    } d{out};
    Request r(
        [](void* ctx, std::span<const char> payload) {
            auto& d = *static_cast<Decode*>(ctx);
            StringList list(payload);
            if (!list.valid()) return Errno::XEN_EIO;
            for (std::string_view s : list) {
                auto p = parse_permission(s);
                if (!p) return Errno::XEN_EIO;
                if (d.count == d.out.size()) return Errno::XEN_ERANGE;
                d.out[d.count++] = *p;
            }
            return d.count ? Errno::OK : Errno::XEN_EIO;  // an owner is always there
        },
        &d);
    KEEL_TRY(call(r, XS_GET_PERMS, tx, [&](MessageWriter& w) { w.arg(path); }));
    return d.count;
}

Status Client::set_perms(std::string_view path, std::span<const Permission> perms, TxId tx)
{
    if (perms.empty()) return Err(Errno::XEN_EINVAL);
    Request r(accept_reply, nullptr);
    return call(r, XS_SET_PERMS, tx, [&](MessageWriter& w) {
        w.arg(path);
        for (const Permission& p : perms) {
            char text[kPermissionTextMax];
            w.arg(std::string_view(text, format_permission(p, text)));
        }
    });
}

Status Client::watch(Watch& w, std::string_view path)
{
    if (w.client_) return Err(Errno::XEN_EEXIST);
    if (broken_) return Err(Errno::XEN_EIO);
    do {
        w.id_ = ++last_watch_id_;
    } while (w.id_ == 0 || find_watch(w.id_));
    w.path_ = path;
    w.overflowed_ = false;
    // Linked before the request goes out: the first event may overtake the
    // reply.
    w.client_ = this;
    w.next_ = watches_;
    watches_ = &w;

    char token[16];
    const std::size_t token_len = format_token(w.id_, token);
    Request r(accept_reply, nullptr);
    const Status s = call(r, XS_WATCH, kNoTransaction, [&](MessageWriter& m) {
        m.arg(path).arg(std::string_view(token, token_len));
    });
    if (!s && w.client_ == this) unlink(w);
    return s;
}

Status Client::unwatch(Watch& w)
{
    if (w.client_ != this) return Err(Errno::XEN_EINVAL);
    // Forgotten first: no callback runs for it once this call starts.
    unlink(w);
    char token[16];
    const std::size_t token_len = format_token(w.id_, token);
    Request r(accept_reply, nullptr);
    return call(r, XS_UNWATCH, kNoTransaction, [&](MessageWriter& m) {
        m.arg(w.path_).arg(std::string_view(token, token_len));
    });
}

Result<TxId> Client::transaction_start()
{
    char reply[16];
    Request r(reply);
    KEEL_TRY(call(r, XS_TRANSACTION_START, kNoTransaction, [&](MessageWriter& w) { w.arg(""); }));
    ArgReader args(std::span<const char>(reply, r.len_));
    auto text = args.next();
    if (!text) return Err(Errno::XEN_EIO);
    auto id = parse_decimal(*text);
    if (!id || *id == 0) return Err(Errno::XEN_EIO);
    return TxId(*id);
}

Status Client::transaction_end(TxId tx, bool commit)
{
    if (tx == kNoTransaction) return Err(Errno::XEN_EINVAL);
    Request r(accept_reply, nullptr);
    return call(r, XS_TRANSACTION_END, tx, [&](MessageWriter& w) { w.arg(commit ? "T" : "F"); });
}

} // namespace keel::guest::xenstore
