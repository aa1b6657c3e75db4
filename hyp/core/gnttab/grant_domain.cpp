#include "gnttab/grant_domain.hpp"

namespace keel::gnttab {

Status GrantDomain::activate(GrantHost& host, DomainId id, unsigned max_frames)
{
    if (max_frames < kInitialGrantFrames || max_frames > kMaxGrantFrames) return Err(Errno::XEN_EINVAL);
    LockGuard g(lock_);
    if (state_ != State::Unused) return Err(Errno::XEN_EBUSY);
    id_ = id;
    max_frames_ = max_frames;
    nr_frames_ = 0;
    nr_active_pages_ = 0;
    pinned_entries_ = 0;
    released_ = false;
    for (Frame& f : frames_) f = Frame{};
    KEEL_TRY(grow_locked(host, kInitialGrantFrames));
    state_ = State::Live;
    return {};
}

GrantDomain::State GrantDomain::state() const
{
    LockGuard g(lock_);
    return state_;
}

unsigned GrantDomain::nr_frames() const
{
    LockGuard g(lock_);
    return nr_frames_;
}

Status GrantDomain::grow_locked(GrantHost& host, unsigned nr)
{
    if (nr > max_frames_) return Err(Errno::XEN_EINVAL);
    if (nr <= nr_frames_) return {};
    // Active entries first, then the shared frames; on failure give back only
    // what this call took, so the table is exactly as before.
    const unsigned want_active = (nr * kEntriesPerFrame + kActivePerPage - 1) / kActivePerPage;
    const unsigned old_active = nr_active_pages_;
    unsigned frames_done = nr_frames_;
    for (unsigned i = old_active; i < want_active; ++i) {
        Result<HostPage> p = host.alloc_page();
        if (!p) goto fail;
        active_pages_[i] = *p;
        nr_active_pages_ = i + 1;
    }
    for (unsigned i = nr_frames_; i < nr; ++i) {
        Result<HostPage> p = host.alloc_page();
        if (!p) goto fail;
        frames_[i] = Frame{*p, kInvalidGfn};
        frames_done = i + 1;
    }
    nr_frames_ = nr;
    return {};

fail:
    for (unsigned i = nr_frames_; i < frames_done; ++i) {
        host.free_page(frames_[i].page);
        frames_[i] = Frame{};
    }
    for (unsigned i = old_active; i < nr_active_pages_; ++i) host.free_page(active_pages_[i]);
    nr_active_pages_ = old_active;
    return Err(Errno::XEN_ENOMEM);
}

Result<HostPage> GrantDomain::map_frame(GrantHost& host, unsigned idx, std::uint64_t gfn)
{
    LockGuard g(lock_);
    if (state_ != State::Live || gfn == kInvalidGfn || idx >= max_frames_) return Err(Errno::XEN_EINVAL);
    if (idx >= nr_frames_ && !grow_locked(host, idx + 1)) return Err(Errno::XEN_EINVAL);
    if (frames_[idx].gfn != kInvalidGfn) return Err(Errno::XEN_EBUSY);
    for (unsigned i = 0; i < nr_frames_; ++i)
        if (frames_[i].gfn == gfn) return Err(Errno::XEN_EBUSY);
    frames_[idx].gfn = gfn;
    return frames_[idx].page;
}

bool GrantDomain::unmap_frame_gfn(std::uint64_t gfn)
{
    LockGuard g(lock_);
    if (gfn == kInvalidGfn) return false;
    for (unsigned i = 0; i < nr_frames_; ++i) {
        if (frames_[i].gfn == gfn) {
            frames_[i].gfn = kInvalidGfn;
            return true;
        }
    }
    return false;
}

void GrantDomain::release_all_pages(GrantHost& host)
{
    for (unsigned i = 0; i < nr_frames_; ++i) host.free_page(frames_[i].page);
    for (unsigned i = 0; i < nr_active_pages_; ++i) host.free_page(active_pages_[i]);
    for (Frame& f : frames_) f = Frame{};
    nr_frames_ = 0;
    nr_active_pages_ = 0;
    maptrack_.release_pages(host);
}

Status GrantDomain::destroy(GrantHost& host)
{
    LockGuard g(lock_);
    if (state_ != State::Dying) return Err(Errno::XEN_EINVAL);
    if (pinned_entries_ != 0 || maptrack_.live() != 0) return Err(Errno::XEN_EBUSY);
    release_all_pages(host);
    state_ = State::Unused;
    return {};
}

SharedEntry GrantDomain::shared_locked(grant_ref_t ref)
{
    auto* words = static_cast<std::uint32_t*>(frames_[ref / kEntriesPerFrame].page.ptr);
    return SharedEntry(words + 2 * (ref % kEntriesPerFrame));
}

const ActiveEntry& GrantDomain::active_locked(grant_ref_t ref) const
{
    return static_cast<const ActiveEntry*>(active_pages_[ref / kActivePerPage].ptr)[ref % kActivePerPage];
}

ActiveEntry& GrantDomain::active_locked(grant_ref_t ref)
{
    return const_cast<ActiveEntry&>(static_cast<const GrantDomain*>(this)->active_locked(ref));
}

namespace {

// Xen's _set_status_v1: mark the entry in use if the granter allows it. The
// guest may rewrite the entry between our read and our swap; a few retries
// tolerate honest races (GTF_readonly toggled), more means a hostile guest.
bool set_in_use(SharedEntry entry, std::uint16_t user, bool readonly, bool mapping, bool already_pinned)
{
    const std::uint16_t type_mask = GTF_type_mask | (mapping ? GTF_sub_page : 0);
    EntryWord cur = entry.load();
    for (int attempt = 0; attempt < 5; ++attempt) {
        // Once pinned, the active entry is authoritative for who may use the grant.
        if (!already_pinned && ((cur.flags() & type_mask) != GTF_permit_access || cur.domid() != user)) return false;
        if (!readonly && (cur.flags() & GTF_readonly)) return false;
        const std::uint16_t flags = cur.flags() | GTF_reading | (readonly ? 0 : GTF_writing);
        if (entry.swap(cur, cur.with_flags(flags))) return true;
    }
    return false;
}

} // namespace

GrantStatus GrantDomain::pin_locked(GrantHost& host, grant_ref_t ref, std::uint16_t user, bool readonly,
                                    bool mapping, HostPage& page)
{
    if (ref >= nr_entries_locked()) return GrantStatus::bad_gntref;
    ActiveEntry& act = active_locked(ref);
    const bool was_pinned = act.pinned();
    if (was_pinned && (act.domid != user || act.saturated())) return GrantStatus::general_error;

    SharedEntry entry = shared_locked(ref);
    if (!was_pinned || (!readonly && act.write_pins == 0)) {
        if (!set_in_use(entry, user, readonly, mapping, was_pinned)) return GrantStatus::general_error;
        if (!was_pinned) {
            const std::uint32_t gfn = entry.frame();
            HostPage granted;
            if (!host.ram_page(id_, gfn, !readonly, granted)) {
                entry.clear_flags(GTF_reading | (readonly ? 0 : GTF_writing));
                return GrantStatus::bad_page;
            }
            act.domid = user;
            act.gfn = gfn;
            act.page = granted;
            ++pinned_entries_;
        }
    }
    if (readonly) ++act.read_pins;
    else ++act.write_pins;
    page = act.page;
    return GrantStatus::okay;
}

void GrantDomain::unpin_locked(grant_ref_t ref, bool readonly)
{
    ActiveEntry& act = active_locked(ref);
    std::uint16_t clear = 0;
    if (readonly) {
        --act.read_pins;
    } else {
        --act.write_pins;
        if (act.write_pins == 0) clear |= GTF_writing;
    }
    if (!act.pinned()) {
        clear |= GTF_reading;
        act = ActiveEntry{};
        --pinned_entries_;
    }
    if (clear) shared_locked(ref).clear_flags(clear);
}

void GrantDomain::force_unpin_locked(grant_ref_t ref)
{
    ActiveEntry& act = active_locked(ref);
    if (!act.pinned()) return;
    act = ActiveEntry{};
    --pinned_entries_;
    shared_locked(ref).clear_flags(GTF_reading | GTF_writing);
}

GrantDomain::PinInfo GrantDomain::pins(grant_ref_t ref) const
{
    LockGuard g(lock_);
    if (state_ == State::Unused || ref >= nr_entries_locked()) return {};
    const ActiveEntry& act = active_locked(ref);
    if (!act.pinned()) return {};
    return {act.domid, act.read_pins, act.write_pins};
}

unsigned GrantDomain::pinned_entries() const
{
    LockGuard g(lock_);
    return pinned_entries_;
}

bool GrantDomain::mapping(grant_handle_t h, Mapping& out) const
{
    LockGuard g(lock_);
    const MapEntry* e = maptrack_.at(h);
    if (e == nullptr || e->state == MapEntry::State::Free) return false;
    out = {e->granter, e->ref, IpAddr(e->ipa), e->readonly != 0, e->state == MapEntry::State::Orphaned};
    return true;
}

std::uint32_t GrantDomain::live_handles() const
{
    LockGuard g(lock_);
    return maptrack_.live();
}

std::uint32_t GrantDomain::handle_limit() const
{
    LockGuard g(lock_);
    return maptrack_.limit();
}

PairLock::PairLock(const GrantDomain& a, const GrantDomain& b)
    : first_(&a < &b ? a.lock() : b.lock()), second_(&a == &b ? nullptr : &(&a < &b ? b.lock() : a.lock()))
{
    first_.lock();
    if (second_) second_->lock();
}

PairLock::~PairLock()
{
    if (second_) second_->unlock();
    first_.unlock();
}

} // namespace keel::gnttab
