#include <cstring>
#include <keel/guest/xenstore/server.hpp>

namespace keel::guest::xenstore {

StoreConnection::StoreConnection(Store& store, xenstore_domain_interface* page, DomainId domain,
                                 ServerHooks hooks)
    : store_(store), ring_(page), hooks_(hooks), domain_(domain)
{
}

StoreConnection::~StoreConnection()
{
    if (connected_) store_.disconnect(conn_);
}

Status StoreConnection::start()
{
    if (connected_) return Err(Errno::XEN_EEXIST);
    auto c = store_.connect(domain_, StoreOutput{&StoreConnection::deliver, this});
    if (!c) return Err(c.error());
    conn_ = *c;
    connected_ = true;
    return {};
}

bool StoreConnection::deliver(void* ctx, std::span<const char> message)
{
    auto& self = *static_cast<StoreConnection*>(ctx);
    if (self.broken_) return true;  // nobody listens any more: swallow it
    if (message.size() > self.out_free()) {
        self.events_dropped_ = true;
        return false;
    }
    if (kOutQueue - self.out_tail_ < message.size()) {
        std::memmove(self.out_, self.out_ + self.out_head_, self.out_tail_ - self.out_head_);
        self.out_tail_ -= self.out_head_;
        self.out_head_ = 0;
    }
    std::memcpy(self.out_ + self.out_tail_, message.data(), message.size());
    self.out_tail_ += message.size();
    // An event caused by another domain's request: push it out now rather
    // than at our next poll (our own poll batches and notifies once).
    if (!self.in_poll_ && self.flush() && self.hooks_.notify) self.hooks_.notify(self.hooks_.ctx);
    return true;
}

bool StoreConnection::flush()
{
    if (out_head_ == out_tail_) return false;
    auto n = ring_.send(std::span<const char>(out_ + out_head_, out_tail_ - out_head_));
    if (!n) {
        fail(XENSTORE_ERROR_RINGIDX);
        return true;
    }
    out_head_ += *n;
    if (out_head_ == out_tail_) out_head_ = out_tail_ = 0;
    return *n != 0;
}

// Leaving the store waits for poll(): we may be called from inside it (an
// event for us while it serves another domain).
void StoreConnection::fail(std::uint32_t xenstore_error)
{
    if (broken_) return;
    broken_ = true;
    ring_.report_error(xenstore_error);
    if (hooks_.notify) hooks_.notify(hooks_.ctx);
}

void StoreConnection::poll()
{
    if (broken_ && connected_) {
        store_.disconnect(conn_);
        connected_ = false;
    }
    if (!connected_) return;
    in_poll_ = true;
    bool moved = false;
    while (!broken_) {
        bool progress = flush();

        if (events_dropped_ && out_free() >= kMessageMax) {
            events_dropped_ = false;
            store_.retry_dropped_events(conn_);
            progress = true;
        }

        // Read only up to the end of the current request.
        const bool have_header = in_len_ >= kHeaderSize;
        const std::size_t want =
            have_header ? kHeaderSize + in_header_.len - in_len_ : kHeaderSize - in_len_;
        if (want) {
            auto n = ring_.receive(std::span<char>(in_ + in_len_, want));
            if (!n) {
                fail(XENSTORE_ERROR_RINGIDX);
                break;
            }
            in_len_ += *n;
            progress |= *n != 0;
        }
        if (!have_header && in_len_ == kHeaderSize) {
            auto h = decode_header(std::span<const char, kHeaderSize>(in_, kHeaderSize));
            if (!h) {  // longer than XENSTORE_PAYLOAD_MAX: xenstored drops such a guest
                fail(XENSTORE_ERROR_PROTO);
                break;
            }
            in_header_ = *h;
        }
        // A whole request, and room for any reply to it.
        if (in_len_ >= kHeaderSize && in_len_ == kHeaderSize + in_header_.len &&
            out_free() >= kMessageMax) {
            in_len_ = 0;
            store_.handle(conn_, in_header_, std::span<const char>(in_ + kHeaderSize, in_header_.len));
            progress = true;
        }
        moved |= progress;
        if (!progress) break;
    }
    in_poll_ = false;
    if (broken_) {
        store_.disconnect(conn_);
        connected_ = false;
        return;
    }
    if (moved && hooks_.notify) hooks_.notify(hooks_.ctx);
}

} // namespace keel::guest::xenstore
