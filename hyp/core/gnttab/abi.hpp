// The grant-table ABI as guests see it: Xen's own public header, with the
// layout Keel relies on pinned down. The header is C; compiled as C++ a
// struct could change shape silently (empty structs take a byte in C++), so
// every size and offset used here is asserted, and a unit test compares them
// with a C translation unit built from the same header.
#pragma once

// grant_entry_v1_t and GNTTABOP_{set,get}_version need interface 0x0003020a
// or later; guests that name no version get the pre-2007 one. The first
// include of a Xen public header fixes the version for the whole translation
// unit, so include this header before any other <xen/...> header.
#if !defined(__XEN_INTERFACE_VERSION__)
#define __XEN_INTERFACE_VERSION__ 0x00040e00
#elif __XEN_INTERFACE_VERSION__ < 0x0003020a
#error "Xen public headers were included with an old interface version before gnttab/abi.hpp"
#endif

#include <cstddef>
#include <cstdint>

#include <xen/grant_table.h>

namespace keel::gnttab {

// Per-entry results (GNTST_*), typed so a status is never confused with an errno.
enum class GrantStatus : std::int16_t {
    okay = GNTST_okay,
    general_error = GNTST_general_error,
    bad_domain = GNTST_bad_domain,
    bad_gntref = GNTST_bad_gntref,
    bad_handle = GNTST_bad_handle,
    bad_virt_addr = GNTST_bad_virt_addr,
    bad_dev_addr = GNTST_bad_dev_addr,
    no_device_space = GNTST_no_device_space,
    permission_denied = GNTST_permission_denied,
    bad_page = GNTST_bad_page,
    bad_copy_arg = GNTST_bad_copy_arg,
    address_too_big = GNTST_address_too_big,
    eagain = GNTST_eagain,
    no_space = GNTST_no_space,
};

constexpr std::int16_t raw(GrantStatus s) { return static_cast<std::int16_t>(s); }

// DOMID_SELF and friends from xen.h.
inline constexpr std::uint16_t kDomidSelf = DOMID_SELF;
// A frame number that names no frame (Xen's INVALID_GFN on a 64-bit guest).
inline constexpr std::uint64_t kInvalidGfn = ~std::uint64_t{0};

// The guest's view of a v1 entry is two 32-bit words: flags|domid<<16, then the frame.
// Keel touches the shared page only as such words, with atomics (see shared_entry.hpp).
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "flags are the low half of the first word");

// --- Layout Keel relies on (the AArch64 ABI; x86-64, where host tests run, agrees). ---
#define KEEL_GNTTAB_LAYOUT(T, size) static_assert(sizeof(T) == (size), #T " size")
#define KEEL_GNTTAB_AT(T, m, off) static_assert(offsetof(T, m) == (off), #T "." #m " offset")

KEEL_GNTTAB_LAYOUT(grant_entry_v1_t, 8);
KEEL_GNTTAB_AT(grant_entry_v1_t, flags, 0);
KEEL_GNTTAB_AT(grant_entry_v1_t, domid, 2);
KEEL_GNTTAB_AT(grant_entry_v1_t, frame, 4);

KEEL_GNTTAB_LAYOUT(gnttab_map_grant_ref_t, 32);
KEEL_GNTTAB_AT(gnttab_map_grant_ref_t, host_addr, 0);
KEEL_GNTTAB_AT(gnttab_map_grant_ref_t, flags, 8);
KEEL_GNTTAB_AT(gnttab_map_grant_ref_t, ref, 12);
KEEL_GNTTAB_AT(gnttab_map_grant_ref_t, dom, 16);
KEEL_GNTTAB_AT(gnttab_map_grant_ref_t, status, 18);
KEEL_GNTTAB_AT(gnttab_map_grant_ref_t, handle, 20);
KEEL_GNTTAB_AT(gnttab_map_grant_ref_t, dev_bus_addr, 24);

KEEL_GNTTAB_LAYOUT(gnttab_unmap_grant_ref_t, 24);
KEEL_GNTTAB_AT(gnttab_unmap_grant_ref_t, host_addr, 0);
KEEL_GNTTAB_AT(gnttab_unmap_grant_ref_t, dev_bus_addr, 8);
KEEL_GNTTAB_AT(gnttab_unmap_grant_ref_t, handle, 16);
KEEL_GNTTAB_AT(gnttab_unmap_grant_ref_t, status, 20);

KEEL_GNTTAB_LAYOUT(gnttab_setup_table_t, 24);
KEEL_GNTTAB_AT(gnttab_setup_table_t, dom, 0);
KEEL_GNTTAB_AT(gnttab_setup_table_t, nr_frames, 4);
KEEL_GNTTAB_AT(gnttab_setup_table_t, status, 8);
KEEL_GNTTAB_AT(gnttab_setup_table_t, frame_list, 16);

KEEL_GNTTAB_LAYOUT(gnttab_copy_t, 40);
KEEL_GNTTAB_AT(gnttab_copy_t, source.u.ref, 0);
KEEL_GNTTAB_AT(gnttab_copy_t, source.u.gmfn, 0);
KEEL_GNTTAB_AT(gnttab_copy_t, source.domid, 8);
KEEL_GNTTAB_AT(gnttab_copy_t, source.offset, 10);
KEEL_GNTTAB_AT(gnttab_copy_t, dest.u.gmfn, 16);
KEEL_GNTTAB_AT(gnttab_copy_t, dest.domid, 24);
KEEL_GNTTAB_AT(gnttab_copy_t, dest.offset, 26);
KEEL_GNTTAB_AT(gnttab_copy_t, len, 32);
KEEL_GNTTAB_AT(gnttab_copy_t, flags, 34);
KEEL_GNTTAB_AT(gnttab_copy_t, status, 36);

KEEL_GNTTAB_LAYOUT(gnttab_query_size_t, 16);
KEEL_GNTTAB_AT(gnttab_query_size_t, dom, 0);
KEEL_GNTTAB_AT(gnttab_query_size_t, nr_frames, 4);
KEEL_GNTTAB_AT(gnttab_query_size_t, max_nr_frames, 8);
KEEL_GNTTAB_AT(gnttab_query_size_t, status, 12);

KEEL_GNTTAB_LAYOUT(gnttab_set_version_t, 4);
KEEL_GNTTAB_LAYOUT(gnttab_get_version_t, 8);
KEEL_GNTTAB_AT(gnttab_get_version_t, dom, 0);
KEEL_GNTTAB_AT(gnttab_get_version_t, version, 4);

// Records only the hypercall layer reads (hypercall.cpp).
KEEL_GNTTAB_LAYOUT(gnttab_transfer_t, 24);
KEEL_GNTTAB_AT(gnttab_transfer_t, mfn, 0);
KEEL_GNTTAB_AT(gnttab_transfer_t, status, 16);
KEEL_GNTTAB_LAYOUT(gnttab_unmap_and_replace_t, 24);
KEEL_GNTTAB_AT(gnttab_unmap_and_replace_t, new_addr, 8);
KEEL_GNTTAB_AT(gnttab_unmap_and_replace_t, handle, 16);
KEEL_GNTTAB_AT(gnttab_unmap_and_replace_t, status, 20);
KEEL_GNTTAB_LAYOUT(gnttab_get_status_frames_t, 16);
KEEL_GNTTAB_AT(gnttab_get_status_frames_t, dom, 4);
KEEL_GNTTAB_AT(gnttab_get_status_frames_t, status, 6);
KEEL_GNTTAB_LAYOUT(gnttab_swap_grant_ref_t, 12);
KEEL_GNTTAB_AT(gnttab_swap_grant_ref_t, status, 8);

#undef KEEL_GNTTAB_LAYOUT
#undef KEEL_GNTTAB_AT

} // namespace keel::gnttab
