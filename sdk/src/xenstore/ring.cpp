#include <cstring>
#include <keel/guest/shared_memory.hpp>
#include <keel/guest/xenstore/ring.hpp>

namespace keel::guest::xenstore {

namespace {

static_assert((kRingSize & (kRingSize - 1)) == 0, "MASK_XENSTORE_IDX needs a power of two");

// Copies between a private buffer and the ring starting at `idx`, wrapping.
void copy_out_of(const char* ring, XENSTORE_RING_IDX idx, char* dst, std::size_t n)
{
    const std::size_t off = MASK_XENSTORE_IDX(idx);
    const std::size_t first = n < kRingSize - off ? n : kRingSize - off;
    std::memcpy(dst, ring + off, first);
    std::memcpy(dst + first, ring, n - first);
}

void copy_into(char* ring, XENSTORE_RING_IDX idx, const char* src, std::size_t n)
{
    const std::size_t off = MASK_XENSTORE_IDX(idx);
    const std::size_t first = n < kRingSize - off ? n : kRingSize - off;
    std::memcpy(ring + off, src, first);
    std::memcpy(ring, src + first, n - first);
}

} // namespace

RingProducer::RingProducer(char* ring, XENSTORE_RING_IDX* cons, XENSTORE_RING_IDX* prod)
    : ring_(ring), cons_(cons), prod_(prod), my_prod_(shm::read_once(*prod))
{
}

Result<std::size_t> RingProducer::space() const
{
    const XENSTORE_RING_IDX cons = shm::read_once(*cons_);
    // Unsigned distance: a consumer "ahead" of us, or more than a ring
    // behind, shows up as more than a ring in flight.
    const XENSTORE_RING_IDX used = my_prod_ - cons;
    if (used > kRingSize) return Err(Errno::XEN_EIO);
    return kRingSize - used;
}

Result<std::size_t> RingProducer::write(std::span<const char> data)
{
    auto free = space();
    if (!free) return Err(free.error());
    const std::size_t n = data.size() < *free ? data.size() : *free;
    if (n == 0) return std::size_t{0};
    // The consumer read the bytes we are about to overwrite before it
    // published the index we just read: keep our stores after that load.
    shm::full_barrier();
    copy_into(ring_, my_prod_, data.data(), n);
    // The bytes must be visible before the index that hands them over.
    shm::write_barrier();
    my_prod_ += static_cast<XENSTORE_RING_IDX>(n);
    shm::write_once(*prod_, my_prod_);
    return n;
}

RingConsumer::RingConsumer(const char* ring, XENSTORE_RING_IDX* cons, XENSTORE_RING_IDX* prod)
    : ring_(ring), cons_(cons), prod_(prod), my_cons_(shm::read_once(*cons))
{
}

Result<std::size_t> RingConsumer::available() const
{
    const XENSTORE_RING_IDX prod = shm::read_once(*prod_);
    const XENSTORE_RING_IDX avail = prod - my_cons_;
    if (avail > kRingSize) return Err(Errno::XEN_EIO);
    return std::size_t{avail};
}

Result<std::size_t> RingConsumer::read(std::span<char> out)
{
    auto avail = available();
    if (!avail) return Err(avail.error());
    const std::size_t n = out.size() < *avail ? out.size() : *avail;
    if (n == 0) return std::size_t{0};
    // Load the bytes only after the producer index that covers them.
    shm::read_barrier();
    copy_out_of(ring_, my_cons_, out.data(), n);
    // Our loads of the bytes must complete before the producer sees the
    // space as free and overwrites it.
    shm::full_barrier();
    my_cons_ += static_cast<XENSTORE_RING_IDX>(n);
    shm::write_once(*cons_, my_cons_);
    return n;
}

ClientRing::ClientRing(xenstore_domain_interface* page)
    : req_(page->req, &page->req_cons, &page->req_prod),
      rsp_(page->rsp, &page->rsp_cons, &page->rsp_prod)
{
}

ServerRing::ServerRing(xenstore_domain_interface* page)
    : page_(page),
      req_(page->req, &page->req_cons, &page->req_prod),
      rsp_(page->rsp, &page->rsp_cons, &page->rsp_prod)
{
    shm::write_once(page_->server_features, std::uint32_t{XENSTORE_SERVER_FEATURE_ERROR});
}

void ServerRing::report_error(std::uint32_t xenstore_error)
{
    // Published on its own; the notification that follows (a hypercall) is
    // what makes the guest look.
    shm::write_once(page_->error, xenstore_error);
}

} // namespace keel::guest::xenstore
