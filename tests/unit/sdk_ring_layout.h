/* The C side of the ring tests, callable from C++: sdk_ring_layout.c compiles
 * <xen/io/ring.h> and the protocols built on it as C, reports their layouts,
 * and drives one ring with ring.h's own macros so the C++ templates
 * (keel/guest/ring.hpp) can be checked against them step by step. */
#ifndef KEEL_SDK_RING_LAYOUT_H
#define KEEL_SDK_RING_LAYOUT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A test protocol with eight slots per page (a small ring fills and wraps
 * often) whose payload is a function of seq, so a torn or stale read shows. */
struct keel_ring_test_request {
    uint64_t seq;
    uint32_t op;
    uint32_t len;
    uint8_t payload[480];
};

struct keel_ring_test_response {
    uint64_t seq;
    int32_t status;
    uint32_t check;
};

enum keel_ring_protocol {
    KEEL_RING_BLKIF,
    KEEL_RING_NETIF_TX,
    KEEL_RING_NETIF_RX,
    KEEL_RING_NETIF_CTRL,
    KEEL_RING_TEST,
    KEEL_RING_PROTOCOLS
};

#define KEEL_RING_LAYOUT_ORDERS 5

/* One protocol's sring as the C compiler lays it out. */
struct keel_ring_layout {
    unsigned long sring_size;
    unsigned long req_prod, req_event, rsp_prod, rsp_event;
    unsigned long pvt, pvt_size, pad, pad_size;
    unsigned long ring, entry_size, entry_align;
    unsigned long ring_size_page;                              /* __RING_SIZE(s, 4096) */
    unsigned long const_ring_size[KEEL_RING_LAYOUT_ORDERS];   /* __CONST_RING_SIZE(tag, 4096 << order) */
};

void keel_ring_c_layout(enum keel_ring_protocol protocol, struct keel_ring_layout *out);

/* SHARED_RING_INIT on a test-protocol page. */
void keel_ring_c_shared_init(void *page);

/* Both ends of one test-protocol ring, driven by ring.h's macros alone. With
 * init_shared the page is initialised (SHARED_RING_INIT, then every index
 * moved to `start`); otherwise it is attached as it is. */
struct keel_ring_c;
struct keel_ring_c *keel_ring_c_new(void *shared, unsigned long bytes, unsigned start, int init_shared);
void keel_ring_c_delete(struct keel_ring_c *c);

/* Front end. produce_request writes the next slot unchecked (callers check full first). */
unsigned keel_ring_c_free_requests(const struct keel_ring_c *c);
int keel_ring_c_full(const struct keel_ring_c *c);
void keel_ring_c_produce_request(struct keel_ring_c *c, const struct keel_ring_test_request *req);
void keel_ring_c_push_requests(struct keel_ring_c *c);
int keel_ring_c_push_requests_and_check_notify(struct keel_ring_c *c);
unsigned keel_ring_c_unconsumed_responses(const struct keel_ring_c *c);
void keel_ring_c_take_response(struct keel_ring_c *c, struct keel_ring_test_response *out);
int keel_ring_c_final_check_for_responses(struct keel_ring_c *c);

/* Back end. take_request reads the next slot unchecked (callers check unconsumed first). */
unsigned keel_ring_c_unconsumed_requests(const struct keel_ring_c *c);
void keel_ring_c_take_request(struct keel_ring_c *c, struct keel_ring_test_request *out);
void keel_ring_c_produce_response(struct keel_ring_c *c, const struct keel_ring_test_response *rsp);
void keel_ring_c_push_responses(struct keel_ring_c *c);
int keel_ring_c_push_responses_and_check_notify(struct keel_ring_c *c);
int keel_ring_c_final_check_for_requests(struct keel_ring_c *c);

/* Every index, shared and private. */
struct keel_ring_c_state {
    unsigned req_prod, req_event, rsp_prod, rsp_event;
    unsigned req_prod_pvt, rsp_cons, front_size;
    unsigned rsp_prod_pvt, req_cons, back_size;
};
void keel_ring_c_get_state(const struct keel_ring_c *c, struct keel_ring_c_state *out);

#ifdef __cplusplus
}
#endif

#endif
