/* The guest SDK's event channels and grant tables for C callers: the same
 * objects as events.hpp and grants.hpp (read those for the semantics), with
 * ports and grant references as plain numbers instead of owning C++ objects.
 *
 * Ownership is the caller's: a port is open from the keel_evtchn_* call that
 * returned it until keel_evtchn_close; a grant from keel_grant_access until
 * keel_grant_end succeeds or keel_grant_end_or_defer hands it to the table.
 * Closing a port that is not open (twice, say) is -XEN_EINVAL and never
 * reaches the hypervisor.
 *
 * Every int result is 0 or a negative Xen errno (-XEN_EINVAL, -XEN_EBUSY...),
 * as hypercalls return them; GNTST_* statuses are folded into errnos as
 * errno_of_grant_status in hypercalls.hpp describes.
 *
 * Memory is the caller's too: the objects live in the *_storage structs and
 * the slot arrays the caller passes in, which must outlive them. */
#ifndef KEEL_GUEST_C_API_H
#define KEEL_GUEST_C_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* --- event channels --- */

typedef struct keel_events keel_events;
/* Room for one keel_events (an EventChannels). */
#define KEEL_EVENTS_SIZE 9216
typedef struct keel_events_storage {
    uint64_t opaque[KEEL_EVENTS_SIZE / 8];
} keel_events_storage;
/* One port's record (a PortSlot and the C handler). */
typedef struct keel_port_slot {
    uint64_t opaque[6];
} keel_port_slot;

/* Runs in interrupt context on the port's vCPU: see events.hpp. */
typedef void (*keel_event_handler)(void* context, uint32_t port);

/* `shared_info`: the page placed with XENMEM_add_to_physmap, as this guest
 * reaches it. Ports below nr_slots can be tracked. Waits poll (SCHEDOP_poll). */
keel_events* keel_events_init(keel_events_storage* storage, void* shared_info, keel_port_slot* slots,
                              size_t nr_slots);
int keel_events_set_vcpu_info(keel_events* ev, unsigned vcpu, void* vcpu_info);
/* Call from the event interrupt's handler on vCPU `vcpu`. */
void keel_events_handle_upcall(keel_events* ev, unsigned vcpu);

/* Open a port; on success *port is its number. `handler` may be NULL. */
int keel_evtchn_alloc_unbound(keel_events* ev, uint16_t remote_domid, keel_event_handler handler, void* context,
                              uint32_t* port);
int keel_evtchn_bind_interdomain(keel_events* ev, uint16_t remote_domid, uint32_t remote_port,
                                 keel_event_handler handler, void* context, uint32_t* port);
int keel_evtchn_bind_virq(keel_events* ev, uint32_t virq, uint32_t vcpu, keel_event_handler handler, void* context,
                          uint32_t* port);
int keel_evtchn_bind_ipi(keel_events* ev, uint32_t vcpu, keel_event_handler handler, void* context, uint32_t* port);

int keel_evtchn_close(keel_events* ev, uint32_t port);
int keel_evtchn_send(keel_events* ev, uint32_t port);
int keel_evtchn_mask(keel_events* ev, uint32_t port);
int keel_evtchn_unmask(keel_events* ev, uint32_t port);
int keel_evtchn_bind_vcpu(keel_events* ev, uint32_t port, uint32_t vcpu);
/* Read the generation, check your condition, then wait on what you read. */
uint32_t keel_evtchn_generation(keel_events* ev, uint32_t port);
int keel_evtchn_wait(keel_events* ev, uint32_t port, uint32_t seen);

/* --- grant tables --- */

typedef struct keel_grant_table keel_grant_table;
#define KEEL_GRANT_TABLE_SIZE 640
typedef struct keel_grant_table_storage {
    uint64_t opaque[KEEL_GRANT_TABLE_SIZE / 8];
} keel_grant_table_storage;
/* One grant reference's record (a GrantSlot and the C release callback). */
typedef struct keel_grant_slot {
    uint64_t opaque[6];
} keel_grant_slot;
/* A guest frame: its number and where this guest reaches it. */
typedef struct keel_frame {
    uint64_t gfn;
    void* va;
} keel_frame;

/* Places the table's frames and sets it up (GrantTable::setup). On failure
 * returns NULL and, if `error` is not NULL, stores the errno there. */
keel_grant_table* keel_grant_table_init(keel_grant_table_storage* storage, const keel_frame* frames,
                                        size_t nr_frames, keel_grant_slot* slots, size_t nr_slots, int* error);
/* Lets `domid` map or copy frame `gfn`; *ref is the grant reference. */
int keel_grant_access(keel_grant_table* table, uint16_t domid, uint64_t gfn, int readonly, uint32_t* ref);
/* -XEN_EBUSY: the peer still uses it; the grant stays, try again later. */
int keel_grant_end(keel_grant_table* table, uint32_t ref);
/* Ends now (0) or defers (-XEN_EBUSY); either way the ref is no longer the
 * caller's. `released(context, gfn)` runs when a deferred end succeeds. */
int keel_grant_end_or_defer(keel_grant_table* table, uint32_t ref, void (*released)(void* context, uint64_t gfn),
                            void* context);
/* Retries deferred ends; how many succeeded. */
unsigned keel_grant_reclaim(keel_grant_table* table);
unsigned keel_grant_pending_revokes(keel_grant_table* table);

/* Maps `granter`'s `ref` at the hole `at`; *handle is needed to unmap. */
int keel_grant_map(uint16_t granter, uint32_t ref, keel_frame at, int readonly, uint32_t* handle);
int keel_grant_unmap(keel_frame at, uint32_t handle);

/* One GNTTABOP_copy record (a GrantCopy). */
typedef struct keel_grant_copy {
    uint64_t opaque[5];
} keel_grant_copy;
void keel_grant_copy_from(keel_grant_copy* op, uint16_t granter, uint32_t ref, uint16_t offset, uint64_t to_gfn,
                          uint16_t to_offset, uint16_t len);
void keel_grant_copy_to(keel_grant_copy* op, uint64_t from_gfn, uint16_t from_offset, uint16_t granter, uint32_t ref,
                        uint16_t offset, uint16_t len);
/* The call's own result; each op's is keel_grant_copy_result. */
int keel_grant_copy_run(keel_grant_copy* ops, size_t count);
int keel_grant_copy_result(const keel_grant_copy* op);

#ifdef __cplusplus
}
#endif

#endif
