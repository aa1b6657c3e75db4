/* The C side of evtchn_abi_layout_test: Xen's public headers compiled as C, the
 * language they are written in, with the Arm layout a guest uses. */
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
/* On the x86 host <xen/xen.h> would pick x86's layout. Make it pick Arm's: the
 * structs involved hold only fixed-width integers, whose sizes and alignments
 * are the same on x86-64 and arm64, so this is the layout an arm64 guest sees. */
#undef __x86_64__
#undef __i386__
#define __aarch64__ 1
#endif

#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/vcpu.h>

#include "evtchn_abi_layout.h"

#define XEN_ULONG xen_ulong_t
#define KEEL_ENTRY(label, value) {label, (unsigned long)(value)},

static const struct keel_layout_entry entries[] = {
    KEEL_EVTCHN_ABI_LAYOUT(KEEL_ENTRY, struct vcpu_info, struct shared_info)
};

const struct keel_layout_entry *keel_evtchn_c_layout(unsigned *count)
{
    *count = sizeof entries / sizeof entries[0];
    return entries;
}
