// ring.hpp is all templates. Instantiating them here for the PV protocols a
// guest drives (block, network transmit and receive) makes every build of
// keel_sdk, the freestanding aarch64 one included, compile the whole ring code
// and check its layout against Xen's own ring types, instead of leaving that
// to the first driver that happens to include the header.
#include <keel/guest/ring.hpp>

#include <xen/io/blkif.h>
#include <xen/io/netif.h>

#include <cstddef>

namespace keel::guest {

template class FrontRing<blkif_request, blkif_response>;
template class BackRing<blkif_request, blkif_response>;
template class FrontRing<netif_tx_request, netif_tx_response>;
template class BackRing<netif_tx_request, netif_tx_response>;
template class FrontRing<netif_rx_request, netif_rx_response>;
template class BackRing<netif_rx_request, netif_rx_response>;

// The C++ view against ring.h's DEFINE_RING_TYPES, as this compiler lays both
// out (tests/unit/sdk_ring_layout.c checks the C compiler's layout on the host).
template <typename Ours, typename Xen>
constexpr bool same_sring_layout()
{
    return sizeof(Ours) == sizeof(Xen) && offsetof(Ours, req_prod) == offsetof(Xen, req_prod) &&
           offsetof(Ours, req_event) == offsetof(Xen, req_event) &&
           offsetof(Ours, rsp_prod) == offsetof(Xen, rsp_prod) &&
           offsetof(Ours, rsp_event) == offsetof(Xen, rsp_event) &&
           offsetof(Ours, pvt) == offsetof(Xen, pvt) && offsetof(Ours, pad) == offsetof(Xen, __pad) &&
           offsetof(Ours, ring) == offsetof(Xen, ring) && sizeof(Ours::ring[0]) == sizeof(Xen::ring[0]);
}

static_assert(same_sring_layout<SharedRing<blkif_request, blkif_response>, blkif_sring>());
static_assert(same_sring_layout<SharedRing<netif_tx_request, netif_tx_response>, netif_tx_sring>());
static_assert(same_sring_layout<SharedRing<netif_rx_request, netif_rx_response>, netif_rx_sring>());
static_assert(SharedRing<blkif_request, blkif_response>::entries_for_order(0) ==
              __CONST_RING_SIZE(blkif, kRingPageSize));
static_assert(SharedRing<netif_tx_request, netif_tx_response>::entries_for_order(0) ==
              __CONST_RING_SIZE(netif_tx, kRingPageSize));
static_assert(SharedRing<netif_rx_request, netif_rx_response>::entries_for_order(0) ==
              __CONST_RING_SIZE(netif_rx, kRingPageSize));

} // namespace keel::guest
