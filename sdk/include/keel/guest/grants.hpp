// Grant tables, guest side, version 1 (the only version Xen on Arm and Keel
// offer).
//
// Granting: GrantTable is this guest's table: frames the hypervisor places at
// guest frames the guest chooses (XENMAPSPACE_grant_table; on real guests in
// the region of the `xen,xen` device-tree node), and the bookkeeping for each
// grant reference, in storage the guest provides. A Grant lets one peer
// domain map or copy one of our frames until the Grant ends.
//
// Ending a grant the peer still uses. While the peer has the frame mapped (or
// a copy is in flight) the hypervisor holds GTF_reading/GTF_writing in the
// entry, and ending the grant fails with EBUSY instead of pulling the page
// from under the peer. Then:
//  - Grant::end() reports EBUSY and the Grant stays in force, still owned;
//  - a Grant that goes out of scope busy is not dropped: its reference moves
//    to the table's pending-revoke list, and GrantTable::reclaim() (also run
//    whenever grant_access runs out of references) retries it. The frame is
//    still readable, and if the grant was read-write writable, by the peer
//    until that retry succeeds, so the guest must not reuse it before: the
//    FrameReleased callback given with the grant says when it may.
//
// Mapping: ForeignMapping maps a peer's grant into a hole of our physical
// map (GNTTABOP_map_grant_ref with GNTMAP_host_map, host_addr = that IPA, as
// Xen on Arm and Keel take it) and unmaps it when it goes out of scope.
//
// Copying: GrantCopy records run in one GNTTABOP_copy; each reports its own
// result.
//
// GNTST_* statuses become errnos through errno_of_grant_status (hypercalls.hpp).
// GrantTable's operations take a spinlock with interrupts held off, so event
// handlers may use them; none of them sleeps.
#pragma once

#include <keel/guest/hypercalls.hpp>
#include <keel/guest/types.hpp>
#include <keel/guest/xen_abi.hpp>

#include <keel/spinlock.hpp>

#include <cstdint>
#include <span>

namespace keel::guest {

enum class Access : std::uint8_t { ReadWrite, ReadOnly };

// Called (from whichever context ran reclaim) once a deferred revoke has
// succeeded: the peer can no longer reach `frame`, which is the guest's again.
using FrameReleasedFn = void (*)(void* context, Gfn frame);
struct FrameReleased {
    FrameReleasedFn fn = nullptr;
    void* context = nullptr;
};

// Frames a GrantTable can place (Xen 4.17's default gnttab_max_frames).
inline constexpr unsigned kMaxGrantTableFrames = 64;

// The guest's record of one grant reference, in storage the guest provides.
class GrantSlot {
private:
    friend class GrantTable;
    std::uint32_t next_ = 0;  // free or pending-revoke list link
    std::uint8_t state_ = 0;  // GrantTable::RefState
    Gfn frame_;
    FrameReleased released_;
};

class GrantTable {
public:
    GrantTable() = default;
    GrantTable(const GrantTable&) = delete;
    GrantTable& operator=(const GrantTable&) = delete;

    // Asks for version 1, then places frame i of the table at frames[i]
    // (up to the hypervisor's max_nr_frames and kMaxGrantTableFrames) and
    // makes every reference there free, except the 8 reserved ones
    // (GNTTAB_NR_RESERVED_ENTRIES: the toolstack's console and xenstore refs).
    // References beyond `slots` are not used. EINVAL for no frames, a frame
    // without a va, or a second setup; the hypervisor's answer if it refuses
    // the version or the first frame. If it refuses a later frame, the table
    // works with the frames placed before it: frames() says how many.
    Status setup(std::span<const GuestFrame> frames, std::span<GrantSlot> slots);

    unsigned frames() const { return nr_frames_; }
    // References usable for grants, and how many are free / waiting to be revoked.
    unsigned capacity() const;
    unsigned available() const;
    unsigned pending_revokes() const;

    // Lets `peer` map or copy `frame` (read-only or read-write). ENOSPC if no
    // reference is free even after reclaim(); E2BIG for a frame v1 cannot
    // name (>= 2^32); EINVAL before setup.
    Result<GrantRef> grant_access(DomainId peer, Gfn frame, Access access);
    // Ends access now: the reference is free and the frame the guest's again.
    // EBUSY while the peer uses it (nothing changed; try again); EINVAL for a
    // reference that is not granted through this table.
    Status end_access(GrantRef ref);
    // Ends access, or if the peer still uses it, moves the reference to the
    // pending-revoke list: OK if it ended now, EBUSY if deferred. Either way
    // the caller no longer owns the reference. `released` runs when a
    // deferred revoke succeeds (not when it ends at once).
    Status end_access_or_defer(GrantRef ref, FrameReleased released);
    // Retries every deferred revoke; how many succeeded (each one's
    // FrameReleased has run when this returns).
    unsigned reclaim();

    // Whether `ref` is granted now (not free, not waiting for its revoke).
    bool is_granted(GrantRef ref) const;
    // The entry's GTF_* flags as the hypervisor sees them (diagnostics, tests).
    Result<std::uint16_t> flags(GrantRef ref) const;

private:
    enum RefState : std::uint8_t { kUnused = 0, kFree, kGranted, kRevoking };
    static constexpr std::uint32_t kNone = ~std::uint32_t{0};

    std::uint32_t* entry(std::uint32_t ref) const;
    bool try_revoke(std::uint32_t ref);
    void push_free(std::uint32_t ref);

    void* frame_va_[kMaxGrantTableFrames] = {};
    unsigned nr_frames_ = 0;
    GrantSlot* slots_ = nullptr;
    std::uint32_t nr_refs_ = 0;
    std::uint32_t free_head_ = kNone;
    std::uint32_t pending_head_ = kNone;
    unsigned nr_free_ = 0;
    unsigned nr_pending_ = 0;
    unsigned nr_usable_ = 0;
    mutable Spinlock lock_;
};

// One grant, owned: ends when destroyed (deferred if busy, see above), move-only.
class Grant {
public:
    Grant() = default;
    // `released` runs if the end is deferred and later succeeds.
    static Result<Grant> create(GrantTable& table, DomainId peer, Gfn frame, Access access,
                                FrameReleased released = {});

    Grant(Grant&& other) noexcept { take(other); }
    Grant& operator=(Grant&& other) noexcept;
    Grant(const Grant&) = delete;
    Grant& operator=(const Grant&) = delete;
    ~Grant() { release(); }

    bool valid() const { return table_ != nullptr; }
    explicit operator bool() const { return valid(); }
    GrantRef ref() const { return ref_; }
    DomainId peer() const { return peer_; }
    Gfn frame() const { return frame_; }

    // Ends the grant now. EBUSY: the peer still uses it, and this Grant stays
    // in force and owned. OK: it owns nothing afterwards.
    Status end();

private:
    Grant(GrantTable& t, GrantRef ref, DomainId peer, Gfn frame, FrameReleased released)
        : table_(&t), ref_(ref), peer_(peer), frame_(frame), released_(released)
    {
    }
    void take(Grant& other);
    void release();

    GrantTable* table_ = nullptr;
    GrantRef ref_;
    DomainId peer_;
    Gfn frame_;
    FrameReleased released_;
};

// A peer's grant mapped into this guest, owned: unmapped when destroyed.
class ForeignMapping {
public:
    ForeignMapping() = default;
    // Maps `granter`'s `ref` at `at`: at.gfn must be a hole in this guest's
    // physical map (not RAM, nothing mapped there) and at.va where this guest
    // reaches it. Errors: the call's errno, or the record's GNTST_* status as
    // an errno (EINVAL bad ref, ESRCH bad domain, EIO refused/general, ...).
    static Result<ForeignMapping> map(DomainId granter, GrantRef ref, GuestFrame at, Access access);

    ForeignMapping(ForeignMapping&& other) noexcept { take(other); }
    ForeignMapping& operator=(ForeignMapping&& other) noexcept;
    ForeignMapping(const ForeignMapping&) = delete;
    ForeignMapping& operator=(const ForeignMapping&) = delete;
    // Unmaps; a refusal (which a mapping made here never meets) leaves the
    // hole in use and is otherwise ignored: call unmap() to see it.
    ~ForeignMapping() { (void)unmap(); }

    bool valid() const { return mapped_; }
    explicit operator bool() const { return mapped_; }
    void* data() const { return at_.va; }
    GuestFrame frame() const { return at_; }
    grant_handle_t handle() const { return handle_; }
    DomainId granter() const { return granter_; }
    GrantRef ref() const { return ref_; }

    // Unmaps now. On error the mapping stays (and stays owned). EINVAL if
    // nothing is mapped.
    Status unmap();

private:
    void take(ForeignMapping& other);

    bool mapped_ = false;
    DomainId granter_;
    GrantRef ref_;
    GuestFrame at_;
    grant_handle_t handle_ = 0;
};

// One GNTTABOP_copy record. An array of these is the hypercall's argument.
class GrantCopy {
public:
    // `len` bytes from `offset` in `granter`'s grant `ref` to `to_offset` in
    // our frame `to`.
    static GrantCopy from_grant(DomainId granter, GrantRef ref, std::uint16_t offset, Gfn to, std::uint16_t to_offset,
                                std::uint16_t len);
    // `len` bytes from `from_offset` in our frame `from` to `offset` in
    // `granter`'s grant `ref` (which must be read-write).
    static GrantCopy to_grant(Gfn from, std::uint16_t from_offset, DomainId granter, GrantRef ref,
                              std::uint16_t offset, std::uint16_t len);

    // After grant_copy: this record's outcome. ENODATA if it was never run
    // (the call as a whole failed).
    Status result() const;
    std::int16_t status() const { return op_.status; }

private:
    friend Status grant_copy(std::span<GrantCopy> ops);
    GrantCopy() = default;
    gnttab_copy_t op_{};
};
static_assert(sizeof(GrantCopy) == sizeof(gnttab_copy_t));

// Runs all `ops` in one GNTTABOP_copy. The call's own errno if it failed as a
// whole; OK otherwise, each op's result() telling its own outcome (one bad
// op does not stop the others).
Status grant_copy(std::span<GrantCopy> ops);

} // namespace keel::guest
