// GNTTABOP_* as Xen 4.17 performs them for an arm guest, one operation record at
// a time. The hypercall layer copies each record in from the guest, calls one of
// these with the calling domain's table, and copies the record (or, where Xen
// does, only its status) back out. Per-record failures are GNTST_* codes in the
// record's status field; only set_version/get_version fail the whole call.
#pragma once

#include "gnttab/abi.hpp"
#include "gnttab/grant_domain.hpp"
#include "gnttab/grant_host.hpp"

#include <keel/result.hpp>

namespace keel::gnttab {

// GNTTABOP_map_grant_ref: map `op.ref` of domain `op.dom` at IPA `op.host_addr` of
// the caller (GNTMAP_host_map, optionally GNTMAP_readonly; arm has no device or
// PTE mappings). On success: status okay, handle, dev_bus_addr = the page's
// physical address (what Xen reports). Statuses: bad_gntref (no host_map flag,
// ref out of range), general_error (device/application/pte flags, grant refused
// or unstable, already held by another domain, pin count saturated, host map
// failed), bad_domain, permission_denied, no_device_space (no handle), bad_page.
void map_grant_ref(GrantHost& host, GrantDomain& caller, gnttab_map_grant_ref_t& op);

// GNTTABOP_unmap_grant_ref: undo a mapping by its handle and the address it was
// mapped at. host_addr 0 unmaps nothing and succeeds, as on Xen. Statuses:
// bad_handle (never handed out or already unmapped), general_error (host_addr or
// dev_bus_addr do not match the mapping, host unmap failed). A mapping whose
// granter died and was revoked unmaps successfully.
void unmap_grant_ref(GrantHost& host, GrantDomain& caller, gnttab_unmap_grant_ref_t& op);

// GNTTABOP_copy: copy `op.len` bytes between two pages, each either a grant of
// another domain to the caller (GNTCOPY_*_gref) or a frame of the caller's own
// RAM (domid must then be DOMID_SELF). Statuses: permission_denied (frame of a
// domain other than DOMID_SELF, XSM), bad_domain, bad_gntref, general_error,
// bad_page, bad_copy_arg (offset + len beyond the page).
void copy(GrantHost& host, GrantDomain& caller, gnttab_copy_t& op);

// GNTTABOP_setup_table: grow the table of `op.dom` (DOMID_SELF or the caller; another
// domain only if the host allows control of it) to `op.nr_frames` frames. On
// success `frames[0 .. op.nr_frames)` hold the gfn each frame is mapped at in that
// domain, or kInvalidGfn: on arm the frames are placed with add_to_physmap.
using FrameList = std::uint64_t[kMaxGrantFrames];
void setup_table(GrantHost& host, GrantDomain& caller, gnttab_setup_table_t& op, FrameList& frames);

// GNTTABOP_query_size: current and maximum number of frames.
void query_size(GrantHost& host, GrantDomain& caller, gnttab_query_size_t& op);

// GNTTABOP_set_version: only version 1 exists here (Xen's gnttab_max_version=1 on arm).
// 1: success. 2: ENOSYS. Anything else: EINVAL. `op.version` is 1 afterwards.
Status set_version(GrantDomain& caller, gnttab_set_version_t& op);

// GNTTABOP_swap_grant_ref: exchange two entries of the caller's own table.
// bad_gntref: either ref out of range; eagain: either is held (pinned).
GrantStatus swap_grant_ref(GrantDomain& caller, grant_ref_t a, grant_ref_t b);

// GNTTABOP_get_version: 1 for any domain the caller may see. ESRCH: no such
// domain; EPERM: another domain the caller may not control.
Status get_version(GrantHost& host, GrantDomain& caller, gnttab_get_version_t& op);

} // namespace keel::gnttab
