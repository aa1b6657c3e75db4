// The shared page of a Xen PV ring, byte for byte as <xen/io/ring.h>'s
// DEFINE_RING_TYPES lays it out (the "sring"): four 32-bit indices, a 4-byte
// private union, 44 bytes of padding, then as many request/response slots as
// fit, rounded down to a power of two. Nothing here moves an index; that is
// ring.hpp (FrontRing, BackRing).
//
//   offset  0  req_prod   requests published by the front
//           4  req_event  the back wants an event when req_prod passes this
//           8  rsp_prod   responses published by the back
//          12  rsp_event  the front wants an event when rsp_prod passes this
//          16  pvt        netif.smartpoll_active / tapif_user.msg / pvt_pad[4]
//          20  pad[44]
//          64  ring[]     union { Req req; Rsp rsp; } x entries
//
// A ring spans 1 << order pages of 4096 bytes (Xen's ring page size on every
// architecture), so multi-page rings (blkif "ring-page-order") use the same
// layout with more slots.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <keel/guest/shared_memory.hpp>

namespace keel::guest {

using RingIdx = std::uint32_t;  // RING_IDX: free-running, wraps at 2^32

inline constexpr std::size_t kRingPageSize = 4096;  // XEN_PAGE_SIZE, for rings on any architecture
// Largest ring this SDK accepts: 2^10 pages (4 MiB), far above what xenbus
// lets a frontend negotiate (order 4), and small enough that no slot count can
// come near 2^31, where free-running index differences stop being meaningful.
inline constexpr unsigned kMaxRingPageOrder = 10;

namespace ring_detail {

// __RD32: round down to a power of two (0 stays 0), so an index maps to its
// slot with a mask.
constexpr std::uint32_t round_down_pow2(std::uint32_t x)
{
    std::uint32_t p = 1;
    if (x == 0) return 0;
    while (p <= x / 2) p <<= 1;
    return p;
}

} // namespace ring_detail

// The 4-byte `pvt` union of the sring: protocol-private bytes the generic ring
// never reads (netif's smartpoll flag, the old tapif message byte).
union SharedRingPrivate {
    struct {
        std::uint8_t smartpoll_active;
    } netif;
    struct {
        std::uint8_t msg;
    } tapif_user;
    std::uint8_t pvt_pad[4];
};

// One slot: a request while the front owns it, the response to it afterwards.
template <typename Req, typename Rsp>
union RingEntry {
    Req req;
    Rsp rsp;
};

// The shared page itself. Never constructed: it is memory granted between two
// domains, viewed through a pointer (SharedRing::at). Every field may change
// under us at any time; the ring ends read indices with shm::read_once and
// copy entries out with shm::copy_from_shared.
template <typename Req, typename Rsp>
struct SharedRing {
    static_assert(std::is_trivially_copyable_v<Req> && std::is_standard_layout_v<Req>,
                  "a ring request is plain bytes on a shared page");
    static_assert(std::is_trivially_copyable_v<Rsp> && std::is_standard_layout_v<Rsp>,
                  "a ring response is plain bytes on a shared page");

    using Request = Req;
    using Response = Rsp;
    using Entry = RingEntry<Req, Rsp>;

    RingIdx req_prod;
    RingIdx req_event;
    RingIdx rsp_prod;
    RingIdx rsp_event;
    SharedRingPrivate pvt;
    std::uint8_t pad[44];  // ring.h's __pad
    Entry ring[1];         // really entries_for_order(order) slots: use entry()

    // offsetof(sring, ring): 64 unless an entry needs stronger alignment.
    static constexpr std::size_t entries_offset() { return offsetof(SharedRing, ring); }

    // __CONST_RING_SIZE / __RING_SIZE: slots in `bytes` of ring memory.
    static constexpr RingIdx entries_for_bytes(std::size_t bytes)
    {
        if (bytes < entries_offset()) return 0;
        return ring_detail::round_down_pow2(
            static_cast<std::uint32_t>((bytes - entries_offset()) / sizeof(Entry)));
    }

    static constexpr std::size_t bytes_for_order(unsigned order) { return kRingPageSize << order; }

    // Slots in a ring of 1 << order pages.
    static constexpr RingIdx entries_for_order(unsigned order)
    {
        return order > kMaxRingPageOrder ? 0 : entries_for_bytes(bytes_for_order(order));
    }

    // The view of ring memory granted or mapped elsewhere; `memory` must be
    // aligned for SharedRing (page-aligned in practice) and span the ring.
    static SharedRing* at(void* memory) { return static_cast<SharedRing*>(memory); }

    // SHARED_RING_INIT: both producer indices 0, both event indices 1 (the
    // first message on each side raises an event), private bytes zeroed. Done
    // by the front before it grants the page, so no ordering is needed yet.
    void init()
    {
        shm::write_once(req_prod, RingIdx{0});
        shm::write_once(rsp_prod, RingIdx{0});
        shm::write_once(req_event, RingIdx{1});
        shm::write_once(rsp_event, RingIdx{1});
        for (std::uint8_t& b : pvt.pvt_pad) b = 0;
        for (std::uint8_t& b : pad) b = 0;
    }

    // Slot `masked` (an index already reduced modulo the ring size). Computed
    // from the page address, not by indexing the one-element `ring` member.
    Entry& entry(RingIdx masked)
    {
        return reinterpret_cast<Entry*>(reinterpret_cast<unsigned char*>(this) + entries_offset())[masked];
    }
};

} // namespace keel::guest
