// One domain's grant table, version 1 only (as on Xen 4.17 for arm, where
// gnttab_max_version is 1): the shared frames the guest writes its grants into,
// the active entries that shadow grants while others use them, and the maptrack
// of grants this domain has mapped from others. Everything lives in pages taken
// from the host on demand; the object itself is a fixed slot the host owns.
//
// Locking: one spinlock per domain guards all of the above. Operations that
// involve two domains take both locks in address order (PairLock). Host
// callbacks run with grant locks held and must not call back into the grant core.
#pragma once

#include "gnttab/abi.hpp"
#include "gnttab/active_entry.hpp"
#include "gnttab/grant_host.hpp"
#include "gnttab/maptrack.hpp"
#include "gnttab/shared_entry.hpp"

#include <keel/result.hpp>
#include <keel/spinlock.hpp>
#include <keel/strong.hpp>

#include <cstdint>

namespace keel::gnttab {

// Xen 4.17's default gnttab_max_frames, which both dom0 and dom0less domUs get on arm.
inline constexpr unsigned kMaxGrantFrames = 64;
inline constexpr unsigned kEntriesPerFrame = kPageSize / sizeof(grant_entry_v1_t);  // 512
// Frames a table has from creation (Xen's INITIAL_NR_GRANT_FRAMES on arm).
inline constexpr unsigned kInitialGrantFrames = 1;

class GrantDomain {
public:
    enum class State : std::uint8_t { Unused, Live, Dying };

    // Makes this unused slot `id`'s grant table, limited to `max_frames` frames, with
    // its first frame allocated as Xen does at domain creation. EINVAL for a bad
    // limit, EBUSY if the slot is in use, ENOMEM if the host has no page.
    Status activate(GrantHost& host, DomainId id, unsigned max_frames = kMaxGrantFrames);

    // XENMEM_add_to_physmap(XENMAPSPACE_grant_table, idx, gfn): the page the caller
    // must map at `gfn` in this domain's stage-2. Grows the table to idx+1 frames.
    // EINVAL: idx beyond the limit, gfn invalid, or no memory to grow (as Xen).
    // EBUSY: the frame is already mapped somewhere (Xen 4.17 wants it unmapped first),
    // or another frame is already at `gfn`.
    Result<HostPage> map_frame(GrantHost& host, unsigned idx, std::uint64_t gfn);
    // The domain's physmap no longer holds a grant frame at `gfn` (remove_from_physmap,
    // or a failed stage-2 map after map_frame). True if a frame was recorded there.
    bool unmap_frame_gfn(std::uint64_t gfn);

    // Frees every page once the domain is Dying and nothing of its table is pinned
    // or mapped any more (see release.hpp). EINVAL if not Dying, EBUSY if still in use.
    // The caller has already removed the grant frames from the domain's stage-2.
    Status destroy(GrantHost& host);

    DomainId id() const { return id_; }
    State state() const;
    unsigned nr_frames() const;
    unsigned max_frames() const { return max_frames_; }

    // --- Inspection, for traces and tests. Each takes the lock. ---
    struct PinInfo {
        std::uint16_t domid;
        std::uint16_t read_pins;
        std::uint16_t write_pins;
    };
    PinInfo pins(grant_ref_t ref) const;        // zeros for an unpinned or out-of-range ref
    unsigned pinned_entries() const;            // grants of this domain someone holds
    struct Mapping {
        std::uint16_t granter;
        grant_ref_t ref;
        IpAddr at;
        bool readonly;
        bool orphaned;
    };
    bool mapping(grant_handle_t h, Mapping& out) const;  // false if the handle is free
    std::uint32_t live_handles() const;
    std::uint32_t handle_limit() const;

    // --- For the grant operations (ops/*.cpp): call only with lock() held. ---
    Spinlock& lock() const { return lock_; }
    bool live_locked() const { return state_ == State::Live; }
    unsigned nr_frames_locked() const { return nr_frames_; }
    std::uint32_t nr_entries_locked() const { return nr_frames_ * kEntriesPerFrame; }
    // Grows the table to `nr` frames (no-op if it has them). ENOMEM, nothing changed, on failure.
    Status grow_locked(GrantHost& host, unsigned nr);
    std::uint64_t frame_gfn_locked(unsigned idx) const { return frames_[idx].gfn; }
    SharedEntry shared_locked(grant_ref_t ref);
    ActiveEntry& active_locked(grant_ref_t ref);
    const ActiveEntry& active_locked(grant_ref_t ref) const;
    Maptrack& maptrack_locked() { return maptrack_; }
    const Maptrack& maptrack_locked() const { return maptrack_; }
    unsigned pinned_entries_locked() const { return pinned_entries_; }
    void set_dying_locked() { if (state_ == State::Live) state_ = State::Dying; }
    // release_domain() has finished with this (dying) domain.
    void set_released_locked() { released_ = true; }
    // Dying, released, and nothing of its table held by anyone: the host may destroy it.
    bool drained_locked() const
    {
        return state_ == State::Dying && released_ && pinned_entries_ == 0 && maptrack_.live() == 0;
    }

    // Pins `ref` for `user`, checking the guest's entry as Xen's _set_status_v1 does:
    // permit_access (and for a mapping, not sub_page), granted to `user`, writable
    // unless `readonly`. On success `page` is the granted page. Statuses:
    // bad_gntref (ref out of range), general_error (entry refused, unstable, already
    // held by another domain, or pin count saturated), bad_page (frame not RAM).
    GrantStatus pin_locked(GrantHost& host, grant_ref_t ref, std::uint16_t user, bool readonly, bool mapping,
                           HostPage& page);
    // Drops one pin taken by pin_locked, clearing GTF_writing when the last writer
    // goes and GTF_reading when the last user goes.
    void unpin_locked(grant_ref_t ref, bool readonly);
    // Drops every pin on `ref` at once (revocation of a vanished user).
    void force_unpin_locked(grant_ref_t ref);

private:
    struct Frame {
        HostPage page;
        std::uint64_t gfn = kInvalidGfn;  // where the guest mapped it, if anywhere
    };
    static constexpr unsigned kActivePerPage = kPageSize / sizeof(ActiveEntry);
    static constexpr unsigned kMaxActivePages = kMaxGrantFrames * kEntriesPerFrame / kActivePerPage;

    void release_all_pages(GrantHost& host);

    mutable Spinlock lock_;
    State state_ = State::Unused;
    DomainId id_;
    unsigned max_frames_ = 0;
    unsigned nr_frames_ = 0;
    unsigned nr_active_pages_ = 0;
    unsigned pinned_entries_ = 0;
    bool released_ = false;
    Frame frames_[kMaxGrantFrames];
    HostPage active_pages_[kMaxActivePages];
    Maptrack maptrack_;
};

// Both domains' locks, in a global order, once if they are the same domain.
class PairLock {
public:
    PairLock(const GrantDomain& a, const GrantDomain& b);
    ~PairLock();
    PairLock(const PairLock&) = delete;
    PairLock& operator=(const PairLock&) = delete;

private:
    Spinlock& first_;
    Spinlock* second_;
};

} // namespace keel::gnttab
