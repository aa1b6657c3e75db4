/* The only code that sees struct shared_info / struct vcpu_info: see xen_layout.h. */
#include "xen_layout.h"

#include <xen/xen.h>

_Static_assert(sizeof(struct vcpu_info) == 48, "vcpu_info is 48 bytes on arm64");
_Static_assert(offsetof(struct vcpu_info, evtchn_pending_sel) == 8, "evtchn_pending_sel at 8");
_Static_assert(offsetof(struct shared_info, evtchn_pending) == 48, "evtchn_pending at 48");
_Static_assert(offsetof(struct shared_info, evtchn_mask) == 560, "evtchn_mask at 560");
_Static_assert(offsetof(struct shared_info, wc_version) == 1072, "wc_version at 1072");

#define BITS_PER_WORD (8 * sizeof(xen_ulong_t))

size_t abi_vcpu_info_size(void) { return sizeof(struct vcpu_info); }
size_t abi_shared_info_size(void) { return sizeof(struct shared_info); }
size_t abi_offset_evtchn_pending_sel(void) { return offsetof(struct vcpu_info, evtchn_pending_sel); }
size_t abi_offset_evtchn_pending(void) { return offsetof(struct shared_info, evtchn_pending); }
size_t abi_offset_evtchn_mask(void) { return offsetof(struct shared_info, evtchn_mask); }
size_t abi_offset_wc_version(void) { return offsetof(struct shared_info, wc_version); }

void* abi_shared_vcpu_info(void* shared_info, unsigned vcpu)
{
    return &((struct shared_info*)shared_info)->vcpu_info[vcpu];
}

/* The hypervisor writes these concurrently: every access is a single volatile
 * load or store of the field's own size. */
uint8_t abi_vcpu_upcall_pending(const void* v)
{
    return *(const volatile uint8_t*)&((const struct vcpu_info*)v)->evtchn_upcall_pending;
}
void abi_vcpu_set_upcall_pending(void* v, uint8_t value)
{
    *(volatile uint8_t*)&((struct vcpu_info*)v)->evtchn_upcall_pending = value;
}
uint64_t abi_vcpu_pending_sel(const void* v)
{
    return *(const volatile xen_ulong_t*)&((const struct vcpu_info*)v)->evtchn_pending_sel;
}
void abi_vcpu_set_pending_sel(void* v, uint64_t value)
{
    *(volatile xen_ulong_t*)&((struct vcpu_info*)v)->evtchn_pending_sel = value;
}

static volatile xen_ulong_t* pending_word(const void* si, unsigned port)
{
    return (volatile xen_ulong_t*)&((const struct shared_info*)si)->evtchn_pending[port / BITS_PER_WORD];
}
static volatile xen_ulong_t* mask_word(const void* si, unsigned port)
{
    return (volatile xen_ulong_t*)&((const struct shared_info*)si)->evtchn_mask[port / BITS_PER_WORD];
}

int abi_port_pending(const void* si, unsigned port)
{
    return (*pending_word(si, port) >> (port % BITS_PER_WORD)) & 1;
}
/* Atomic: Xen sets other bits of the same word at any time. */
void abi_port_clear_pending(void* si, unsigned port)
{
    __atomic_fetch_and(pending_word(si, port), ~((xen_ulong_t)1 << (port % BITS_PER_WORD)), __ATOMIC_SEQ_CST);
}
int abi_port_masked(const void* si, unsigned port)
{
    return (*mask_word(si, port) >> (port % BITS_PER_WORD)) & 1;
}
void abi_port_set_mask(void* si, unsigned port)
{
    __atomic_fetch_or(mask_word(si, port), (xen_ulong_t)1 << (port % BITS_PER_WORD), __ATOMIC_SEQ_CST);
}

void abi_clear_all_pending(void* shared_info)
{
    struct shared_info* si = shared_info;
    for (unsigned i = 0; i < sizeof si->evtchn_pending / sizeof si->evtchn_pending[0]; ++i)
        __atomic_store_n(&si->evtchn_pending[i], 0, __ATOMIC_SEQ_CST);
    for (unsigned v = 0; v < XEN_LEGACY_MAX_VCPUS; ++v) {
        abi_vcpu_set_pending_sel(&si->vcpu_info[v], 0);
        abi_vcpu_set_upcall_pending(&si->vcpu_info[v], 0);
    }
}
