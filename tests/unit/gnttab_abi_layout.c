/* The grant-table structures as a C compiler lays them out for an arm64 guest,
 * for gnttab_abi_test.cpp to compare with what the hypervisor's C++ made of the
 * same header. */
#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__ 0x00040e00
#endif
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
/* On the x86 host <xen/xen.h> would pick x86's definitions (guest handles, for
 * one, are plain pointers there and unions with a uint64_t on Arm). Make it pick
 * Arm's: then the test compares the Arm C layout with the C++ layout the host
 * build uses, and abi.hpp's static_asserts cover the C++ layout on the target. */
#undef __x86_64__
#undef __i386__
#define __aarch64__ 1
#endif

#include <xen/grant_table.h>

#define FIELD(T, m) { #T "." #m, sizeof(T), offsetof(T, m) }

struct keel_gnttab_c_field {
    const char* name;
    size_t type_size;
    size_t offset;
};

const struct keel_gnttab_c_field keel_gnttab_c_layout[] = {
    FIELD(grant_entry_v1_t, flags),
    FIELD(grant_entry_v1_t, domid),
    FIELD(grant_entry_v1_t, frame),
    FIELD(gnttab_map_grant_ref_t, host_addr),
    FIELD(gnttab_map_grant_ref_t, flags),
    FIELD(gnttab_map_grant_ref_t, ref),
    FIELD(gnttab_map_grant_ref_t, dom),
    FIELD(gnttab_map_grant_ref_t, status),
    FIELD(gnttab_map_grant_ref_t, handle),
    FIELD(gnttab_map_grant_ref_t, dev_bus_addr),
    FIELD(gnttab_unmap_grant_ref_t, host_addr),
    FIELD(gnttab_unmap_grant_ref_t, dev_bus_addr),
    FIELD(gnttab_unmap_grant_ref_t, handle),
    FIELD(gnttab_unmap_grant_ref_t, status),
    FIELD(gnttab_setup_table_t, dom),
    FIELD(gnttab_setup_table_t, nr_frames),
    FIELD(gnttab_setup_table_t, status),
    FIELD(gnttab_setup_table_t, frame_list),
    FIELD(gnttab_copy_t, source.u.ref),
    FIELD(gnttab_copy_t, source.u.gmfn),
    FIELD(gnttab_copy_t, source.domid),
    FIELD(gnttab_copy_t, source.offset),
    FIELD(gnttab_copy_t, dest.u.ref),
    FIELD(gnttab_copy_t, dest.u.gmfn),
    FIELD(gnttab_copy_t, dest.domid),
    FIELD(gnttab_copy_t, dest.offset),
    FIELD(gnttab_copy_t, len),
    FIELD(gnttab_copy_t, flags),
    FIELD(gnttab_copy_t, status),
    FIELD(gnttab_query_size_t, dom),
    FIELD(gnttab_query_size_t, nr_frames),
    FIELD(gnttab_query_size_t, max_nr_frames),
    FIELD(gnttab_query_size_t, status),
    FIELD(gnttab_set_version_t, version),
    FIELD(gnttab_get_version_t, dom),
    FIELD(gnttab_get_version_t, pad),
    FIELD(gnttab_get_version_t, version),
};
const size_t keel_gnttab_c_layout_count = sizeof keel_gnttab_c_layout / sizeof keel_gnttab_c_layout[0];
