/* A guest written in C against keel/guest/c_api.h: compiled as C, so the
 * header is checked to be C, and driven by sdk_c_api_test.cpp. */
#include <keel/guest/c_api.h>

#include <stddef.h>

/* The C view of the API's types, for the C++ side to compare. */
size_t keel_c_sizeof_port_slot(void) { return sizeof(keel_port_slot); }
size_t keel_c_sizeof_grant_slot(void) { return sizeof(keel_grant_slot); }
size_t keel_c_sizeof_grant_copy(void) { return sizeof(keel_grant_copy); }
size_t keel_c_sizeof_events_storage(void) { return sizeof(keel_events_storage); }
size_t keel_c_sizeof_grant_table_storage(void) { return sizeof(keel_grant_table_storage); }

static void count(void* context, uint32_t port)
{
    (void)port;
    ++*(unsigned*)context;
}

/* An IPI to ourselves, then closed twice: results[0..3] are the bind, the
 * send, the first close and the second close. */
void keel_c_guest_ipi(keel_events* ev, unsigned* hits, int results[4])
{
    uint32_t port = 0;
    results[0] = keel_evtchn_bind_ipi(ev, 0, count, hits, &port);
    results[1] = keel_evtchn_send(ev, port);
    results[2] = keel_evtchn_close(ev, port);
    results[3] = keel_evtchn_close(ev, port);
}

/* Grants `gfn` to `peer` read-only; *ref is the reference. */
int keel_c_guest_grant(keel_grant_table* table, uint16_t peer, uint64_t gfn, uint32_t* ref)
{
    return keel_grant_access(table, peer, gfn, 1, ref);
}
