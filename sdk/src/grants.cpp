// The granting side of v1 grant entries. The hypervisor pins an entry by
// compare-and-swap on its first word (flags | domid << 16), setting
// GTF_reading (and GTF_writing for a writable use), and only if it finds
// GTF_permit_access for the right domain there. The guest ends a grant by a
// compare-and-swap of the same word to zero that fails while either bit is
// set. So exactly one of the two wins: either the hypervisor pinned first and
// the guest sees "busy", or the guest cleared first and the pin is refused.
#include <keel/guest/cpu.hpp>
#include <keel/guest/grants.hpp>
#include <keel/guest/shared_memory.hpp>

namespace keel::guest {

namespace {

constexpr std::uint32_t kBusy = GTF_reading | GTF_writing;

// Interrupts off and the table's lock held: event handlers may use the table
// too, and one interrupted while its own vCPU held the lock would deadlock.
class TableLock {
public:
    explicit TableLock(Spinlock& l) : lock_(l) { lock_.lock(); }
    ~TableLock() { lock_.unlock(); }
    TableLock(const TableLock&) = delete;
    TableLock& operator=(const TableLock&) = delete;

private:
    cpu::IrqGuard irqs_off_;
    Spinlock& lock_;
};

} // namespace

// --- GrantTable ---

Status GrantTable::setup(std::span<const GuestFrame> frames, std::span<GrantSlot> slots)
{
    if (nr_frames_ != 0 || frames.empty()) return Err(Errno::XEN_EINVAL);
    for (const GuestFrame& f : frames)
        if (f.va == nullptr) return Err(Errno::XEN_EINVAL);
    KEEL_TRY(gnttabop_set_version(1));
    auto size = gnttabop_query_size();
    if (!size) return Err(size.error());

    unsigned want = static_cast<unsigned>(frames.size());
    if (want > size->max_nr_frames) want = size->max_nr_frames;
    if (want > kMaxGrantTableFrames) want = kMaxGrantTableFrames;
    unsigned n = 0;
    for (; n < want; ++n) {
        const Status placed = xenmem_add_to_physmap(XENMAPSPACE_grant_table, n, frames[n].gfn);
        if (!placed) {
            if (n == 0) return placed;
            break;  // work with the frames placed so far
        }
        frame_va_[n] = frames[n].va;
    }
    if (n == 0) return Err(Errno::XEN_EINVAL);  // the hypervisor allows no frame at all

    TableLock g(lock_);
    nr_frames_ = n;
    slots_ = slots.data();
    const std::uint64_t entries = std::uint64_t{n} * kGrantEntriesPerFrame;
    nr_refs_ = static_cast<std::uint32_t>(slots.size() < entries ? slots.size() : entries);
    // Highest first, so the free list hands out low references first.
    for (std::uint32_t r = nr_refs_; r-- > 0;) {
        slots_[r] = GrantSlot{};
        if (r >= GNTTAB_NR_RESERVED_ENTRIES) push_free(r);
    }
    nr_usable_ = nr_free_;
    return {};
}

unsigned GrantTable::capacity() const
{
    TableLock g(lock_);
    return nr_usable_;
}

unsigned GrantTable::available() const
{
    TableLock g(lock_);
    return nr_free_;
}

unsigned GrantTable::pending_revokes() const
{
    TableLock g(lock_);
    return nr_pending_;
}

std::uint32_t* GrantTable::entry(std::uint32_t ref) const
{
    auto* frame = static_cast<std::uint32_t*>(frame_va_[ref / kGrantEntriesPerFrame]);
    return frame + 2 * (ref % kGrantEntriesPerFrame);
}

void GrantTable::push_free(std::uint32_t ref)
{
    slots_[ref].state_ = kFree;
    slots_[ref].next_ = free_head_;
    free_head_ = ref;
    ++nr_free_;
}

Result<GrantRef> GrantTable::grant_access(DomainId peer, Gfn frame, Access access)
{
    if (frame.raw() > 0xffffffffu) return Err(Errno::XEN_E2BIG);
    for (int attempt = 0; attempt < 2; ++attempt) {
        {
            TableLock g(lock_);
            if (nr_frames_ == 0) return Err(Errno::XEN_EINVAL);
            if (free_head_ != kNone) {
                const std::uint32_t ref = free_head_;
                GrantSlot& s = slots_[ref];
                free_head_ = s.next_;
                --nr_free_;
                s.state_ = kGranted;
                s.frame_ = frame;
                s.released_ = FrameReleased{};
                std::uint32_t* e = entry(ref);
                shm::write_once(e[1], static_cast<std::uint32_t>(frame.raw()));
                // The frame before the flags that make the entry valid: the
                // hypervisor reads flags first, then trusts the frame.
                shm::write_barrier();
                const std::uint32_t flags = GTF_permit_access | (access == Access::ReadOnly ? GTF_readonly : 0);
                shm::write_once(e[0], flags | std::uint32_t{peer.raw()} << 16);
                return GrantRef(ref);
            }
        }
        // Out of references: some may only be waiting for their revoke.
        if (attempt == 0 && reclaim() == 0) break;
    }
    return Err(Errno::XEN_ENOSPC);
}

bool GrantTable::try_revoke(std::uint32_t ref)
{
    std::uint32_t* e = entry(ref);
    std::uint32_t seen = shm::read_once(e[0]);
    for (;;) {
        if ((seen & kBusy) != 0) return false;
        // A failed swap reloads `seen`: the hypervisor may just have pinned it.
        if (shm::compare_exchange(e[0], seen, std::uint32_t{0})) return true;
    }
}

Status GrantTable::end_access(GrantRef ref)
{
    TableLock g(lock_);
    const std::uint32_t r = ref.raw();
    if (r >= nr_refs_ || slots_[r].state_ != kGranted) return Err(Errno::XEN_EINVAL);
    if (!try_revoke(r)) return Err(Errno::XEN_EBUSY);
    push_free(r);
    return {};
}

Status GrantTable::end_access_or_defer(GrantRef ref, FrameReleased released)
{
    TableLock g(lock_);
    const std::uint32_t r = ref.raw();
    if (r >= nr_refs_ || slots_[r].state_ != kGranted) return Err(Errno::XEN_EINVAL);
    if (try_revoke(r)) {
        push_free(r);
        return {};
    }
    GrantSlot& s = slots_[r];
    s.state_ = kRevoking;
    s.released_ = released;
    s.next_ = pending_head_;
    pending_head_ = r;
    ++nr_pending_;
    return Err(Errno::XEN_EBUSY);
}

unsigned GrantTable::reclaim()
{
    // Callbacks run without the lock (they may grant again), a few at a time.
    constexpr unsigned kBatch = 16;
    struct Done {
        Gfn frame;
        FrameReleased released;
    };
    unsigned total = 0;
    for (;;) {
        Done done[kBatch];
        unsigned n = 0;
        {
            TableLock g(lock_);
            std::uint32_t* link = &pending_head_;
            while (*link != kNone && n < kBatch) {
                const std::uint32_t r = *link;
                GrantSlot& s = slots_[r];
                if (!try_revoke(r)) {
                    link = &s.next_;
                    continue;
                }
                *link = s.next_;
                --nr_pending_;
                done[n++] = Done{s.frame_, s.released_};
                push_free(r);
            }
        }
        for (unsigned i = 0; i < n; ++i)
            if (done[i].released.fn != nullptr) done[i].released.fn(done[i].released.context, done[i].frame);
        total += n;
        if (n < kBatch) return total;
    }
}

bool GrantTable::is_granted(GrantRef ref) const
{
    TableLock g(lock_);
    return ref.raw() < nr_refs_ && slots_[ref.raw()].state_ == kGranted;
}

Result<std::uint16_t> GrantTable::flags(GrantRef ref) const
{
    TableLock g(lock_);
    if (ref.raw() >= nr_refs_) return Err(Errno::XEN_EINVAL);
    return static_cast<std::uint16_t>(shm::read_once(entry(ref.raw())[0]));
}

// --- Grant ---

Result<Grant> Grant::create(GrantTable& table, DomainId peer, Gfn frame, Access access, FrameReleased released)
{
    auto ref = table.grant_access(peer, frame, access);
    if (!ref) return Err(ref.error());
    return Grant(table, *ref, peer, frame, released);
}

void Grant::take(Grant& other)
{
    table_ = other.table_;
    ref_ = other.ref_;
    peer_ = other.peer_;
    frame_ = other.frame_;
    released_ = other.released_;
    other.table_ = nullptr;
}

Grant& Grant::operator=(Grant&& other) noexcept
{
    if (this != &other) {
        release();
        take(other);
    }
    return *this;
}

Status Grant::end()
{
    if (table_ == nullptr) return Err(Errno::XEN_EINVAL);
    KEEL_TRY(table_->end_access(ref_));
    table_ = nullptr;
    return {};
}

void Grant::release()
{
    if (table_ == nullptr) return;
    // Busy is not an error here: the table keeps retrying (see grants.hpp).
    (void)table_->end_access_or_defer(ref_, released_);
    table_ = nullptr;
}

// --- ForeignMapping ---

Result<ForeignMapping> ForeignMapping::map(DomainId granter, GrantRef ref, GuestFrame at, Access access)
{
    if (at.va == nullptr) return Err(Errno::XEN_EINVAL);
    gnttab_map_grant_ref_t op{};
    op.host_addr = address_of(at.gfn).raw();
    op.flags = GNTMAP_host_map | (access == Access::ReadOnly ? GNTMAP_readonly : 0);
    op.ref = ref.raw();
    op.dom = granter.raw();
    op.status = kGrantStatusUnset;
    KEEL_TRY(grant_table_op(GNTTABOP_map_grant_ref, &op, 1));
    if (op.status != GNTST_okay) return Err(errno_of_grant_status(op.status));
    ForeignMapping m;
    m.mapped_ = true;
    m.granter_ = granter;
    m.ref_ = ref;
    m.at_ = at;
    m.handle_ = op.handle;
    return m;
}

void ForeignMapping::take(ForeignMapping& other)
{
    mapped_ = other.mapped_;
    granter_ = other.granter_;
    ref_ = other.ref_;
    at_ = other.at_;
    handle_ = other.handle_;
    other.mapped_ = false;
}

ForeignMapping& ForeignMapping::operator=(ForeignMapping&& other) noexcept
{
    if (this != &other) {
        (void)unmap();
        take(other);
    }
    return *this;
}

Status ForeignMapping::unmap()
{
    if (!mapped_) return Err(Errno::XEN_EINVAL);
    gnttab_unmap_grant_ref_t op{};
    op.host_addr = address_of(at_.gfn).raw();
    op.dev_bus_addr = 0;  // not checked when 0
    op.handle = handle_;
    op.status = kGrantStatusUnset;
    KEEL_TRY(grant_table_op(GNTTABOP_unmap_grant_ref, &op, 1));
    if (op.status != GNTST_okay) return Err(errno_of_grant_status(op.status));
    mapped_ = false;
    return {};
}

// --- GrantCopy ---

GrantCopy GrantCopy::from_grant(DomainId granter, GrantRef ref, std::uint16_t offset, Gfn to, std::uint16_t to_offset,
                                std::uint16_t len)
{
    GrantCopy c;
    c.op_.source.u.ref = ref.raw();
    c.op_.source.domid = granter.raw();
    c.op_.source.offset = offset;
    c.op_.dest.u.gmfn = to.raw();
    c.op_.dest.domid = DOMID_SELF;
    c.op_.dest.offset = to_offset;
    c.op_.len = len;
    c.op_.flags = GNTCOPY_source_gref;
    c.op_.status = kGrantStatusUnset;
    return c;
}

GrantCopy GrantCopy::to_grant(Gfn from, std::uint16_t from_offset, DomainId granter, GrantRef ref,
                              std::uint16_t offset, std::uint16_t len)
{
    GrantCopy c;
    c.op_.source.u.gmfn = from.raw();
    c.op_.source.domid = DOMID_SELF;
    c.op_.source.offset = from_offset;
    c.op_.dest.u.ref = ref.raw();
    c.op_.dest.domid = granter.raw();
    c.op_.dest.offset = offset;
    c.op_.len = len;
    c.op_.flags = GNTCOPY_dest_gref;
    c.op_.status = kGrantStatusUnset;
    return c;
}

Status GrantCopy::result() const
{
    if (op_.status == kGrantStatusUnset) return Err(Errno::XEN_ENODATA);
    if (op_.status != GNTST_okay) return Err(errno_of_grant_status(op_.status));
    return {};
}

Status grant_copy(std::span<GrantCopy> ops)
{
    if (ops.empty()) return {};
    // Re-armed, so a record the hypervisor never reached says so.
    for (GrantCopy& op : ops) op.op_.status = kGrantStatusUnset;
    // Our writes to the source frames before the hypervisor reads them (and
    // its writes seen after the call: the hypercall returns after it is done).
    shm::full_barrier();
    return grant_table_op(GNTTABOP_copy, ops.data(), static_cast<unsigned>(ops.size()));
}

} // namespace keel::guest
