/* The C side of the sdk_ring tests: <xen/io/ring.h> and the PV protocols built
 * on it compiled as C, the language they are written in, with the Arm layout a
 * guest uses. Reports each protocol's sring layout and drives one test ring
 * with ring.h's own macros (see sdk_ring_layout.h). */
#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__ 0x00040e00
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
/* On the x86 host <xen/xen.h> would pick x86's layout. Make it pick Arm's (after
 * the C library's headers, which size their own types by __x86_64__): the ring
 * types hold only fixed-width integers, laid out alike on x86-64 and arm64. */
#undef __x86_64__
#undef __i386__
#define __aarch64__ 1
#endif

/* ring.h leaves its barriers to the includer at this interface version. */
#define xen_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_SEQ_CST)

#include <xen/io/ring.h>
#include <xen/io/blkif.h>
#include <xen/io/netif.h>

#include "sdk_ring_layout.h"

DEFINE_RING_TYPES(keel_ring_test, struct keel_ring_test_request, struct keel_ring_test_response);

/* A page to point __RING_SIZE at: it measures from a real sring pointer. */
static _Alignas(4096) unsigned char layout_page[4096];

#define KEEL_RING_LAYOUT_OF(tag, out)                                                  \
    do {                                                                               \
        struct tag##_sring *s_ = (struct tag##_sring *)layout_page;                    \
        unsigned o_;                                                                   \
        (out)->sring_size = sizeof(struct tag##_sring);                                \
        (out)->req_prod = offsetof(struct tag##_sring, req_prod);                      \
        (out)->req_event = offsetof(struct tag##_sring, req_event);                    \
        (out)->rsp_prod = offsetof(struct tag##_sring, rsp_prod);                      \
        (out)->rsp_event = offsetof(struct tag##_sring, rsp_event);                    \
        (out)->pvt = offsetof(struct tag##_sring, pvt);                                \
        (out)->pvt_size = sizeof(s_->pvt);                                             \
        (out)->pad = offsetof(struct tag##_sring, __pad);                              \
        (out)->pad_size = sizeof(s_->__pad);                                           \
        (out)->ring = offsetof(struct tag##_sring, ring);                              \
        (out)->entry_size = sizeof(union tag##_sring_entry);                           \
        (out)->entry_align = _Alignof(union tag##_sring_entry);                        \
        (out)->ring_size_page = __RING_SIZE(s_, 4096);                                 \
        for (o_ = 0; o_ < KEEL_RING_LAYOUT_ORDERS; ++o_)                               \
            (out)->const_ring_size[o_] = __CONST_RING_SIZE(tag, 4096ul << o_);         \
    } while (0)

void keel_ring_c_layout(enum keel_ring_protocol protocol, struct keel_ring_layout *out)
{
    memset(out, 0, sizeof *out);
    switch (protocol) {
    case KEEL_RING_BLKIF: KEEL_RING_LAYOUT_OF(blkif, out); break;
    case KEEL_RING_NETIF_TX: KEEL_RING_LAYOUT_OF(netif_tx, out); break;
    case KEEL_RING_NETIF_RX: KEEL_RING_LAYOUT_OF(netif_rx, out); break;
    case KEEL_RING_NETIF_CTRL: KEEL_RING_LAYOUT_OF(xen_netif_ctrl, out); break;
    case KEEL_RING_TEST: KEEL_RING_LAYOUT_OF(keel_ring_test, out); break;
    case KEEL_RING_PROTOCOLS: break;
    }
}

void keel_ring_c_shared_init(void *page)
{
    struct keel_ring_test_sring *s = page;
    SHARED_RING_INIT(s);
}

struct keel_ring_c {
    struct keel_ring_test_sring *sring;
    struct keel_ring_test_front_ring front;
    struct keel_ring_test_back_ring back;
};

struct keel_ring_c *keel_ring_c_new(void *shared, unsigned long bytes, unsigned start, int init_shared)
{
    struct keel_ring_c *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->sring = shared;
    if (init_shared) {
        SHARED_RING_INIT(c->sring);
        c->sring->req_prod = c->sring->rsp_prod = start;
        c->sring->req_event = c->sring->rsp_event = start + 1;
    }
    FRONT_RING_ATTACH(&c->front, c->sring, start, bytes);
    BACK_RING_ATTACH(&c->back, c->sring, start, bytes);
    return c;
}

void keel_ring_c_delete(struct keel_ring_c *c) { free(c); }

unsigned keel_ring_c_free_requests(const struct keel_ring_c *c) { return RING_FREE_REQUESTS(&c->front); }

int keel_ring_c_full(const struct keel_ring_c *c) { return RING_FULL(&c->front); }

void keel_ring_c_produce_request(struct keel_ring_c *c, const struct keel_ring_test_request *req)
{
    *RING_GET_REQUEST(&c->front, c->front.req_prod_pvt) = *req;
    c->front.req_prod_pvt++;
}

void keel_ring_c_push_requests(struct keel_ring_c *c) { RING_PUSH_REQUESTS(&c->front); }

int keel_ring_c_push_requests_and_check_notify(struct keel_ring_c *c)
{
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&c->front, notify);
    return notify;
}

unsigned keel_ring_c_unconsumed_responses(const struct keel_ring_c *c)
{
    return RING_HAS_UNCONSUMED_RESPONSES(&c->front);
}

void keel_ring_c_take_response(struct keel_ring_c *c, struct keel_ring_test_response *out)
{
    RING_COPY_RESPONSE(&c->front, c->front.rsp_cons, out);
    c->front.rsp_cons++;
}

int keel_ring_c_final_check_for_responses(struct keel_ring_c *c)
{
    int work;
    RING_FINAL_CHECK_FOR_RESPONSES(&c->front, work);
    return work != 0;
}

unsigned keel_ring_c_unconsumed_requests(const struct keel_ring_c *c)
{
    return RING_HAS_UNCONSUMED_REQUESTS(&c->back);
}

void keel_ring_c_take_request(struct keel_ring_c *c, struct keel_ring_test_request *out)
{
    RING_COPY_REQUEST(&c->back, c->back.req_cons, out);
    c->back.req_cons++;
}

void keel_ring_c_produce_response(struct keel_ring_c *c, const struct keel_ring_test_response *rsp)
{
    *RING_GET_RESPONSE(&c->back, c->back.rsp_prod_pvt) = *rsp;
    c->back.rsp_prod_pvt++;
}

void keel_ring_c_push_responses(struct keel_ring_c *c) { RING_PUSH_RESPONSES(&c->back); }

int keel_ring_c_push_responses_and_check_notify(struct keel_ring_c *c)
{
    int notify;
    RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&c->back, notify);
    return notify;
}

int keel_ring_c_final_check_for_requests(struct keel_ring_c *c)
{
    int work;
    RING_FINAL_CHECK_FOR_REQUESTS(&c->back, work);
    return work != 0;
}

void keel_ring_c_get_state(const struct keel_ring_c *c, struct keel_ring_c_state *out)
{
    out->req_prod = c->sring->req_prod;
    out->req_event = c->sring->req_event;
    out->rsp_prod = c->sring->rsp_prod;
    out->rsp_event = c->sring->rsp_event;
    out->req_prod_pvt = c->front.req_prod_pvt;
    out->rsp_cons = c->front.rsp_cons;
    out->front_size = RING_SIZE(&c->front);
    out->rsp_prod_pvt = c->back.rsp_prod_pvt;
    out->req_cons = c->back.req_cons;
    out->back_size = RING_SIZE(&c->back);
}
