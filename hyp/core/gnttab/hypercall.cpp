#include "gnttab/hypercall.hpp"

#include "gnttab/domain_lookup.hpp"
#include "gnttab/ops.hpp"

#include <cstddef>

namespace keel::gnttab {

namespace {

// Xen keeps bits above the command for cache_flush's own continuation state
// (GNTTABOP_CONTINUATION_ARG_SHIFT); for every other command they must be zero.
constexpr std::uint32_t kCmdMask = (1u << 12) - 1;

constexpr long err(Errno e) { return -static_cast<long>(e); }

template <typename T>
bool write_field(GuestBuffer& mem, std::uint64_t at, const T& v)
{
    return mem.write(at, &v, sizeof v);
}

// The guest address a XEN_GUEST_HANDLE field holds (a pointer on x86 hosts,
// a pointer-or-u64 union on arm: 8 bytes either way).
template <typename Handle>
std::uint64_t handle_addr(const Handle& h)
{
    static_assert(sizeof(Handle) == 8);
    std::uint64_t a;
    __builtin_memcpy(&a, &h, sizeof a);
    return a;
}

// The loop every multi-record command shares: read record i, handle it (the
// handler writes back what Xen writes back), stop at the first EFAULT, and
// continue in a fresh entry after `budget` records.
template <typename Rec, typename Fn>
long each_record(GuestBuffer& mem, std::uint64_t uop, std::uint32_t count, unsigned budget, Continuation& cont,
                 Fn&& handle)
{
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::uint64_t at = uop + std::uint64_t{i} * sizeof(Rec);
        if (i == budget) {
            cont = Continuation{true, at, count - i};
            return 0;
        }
        Rec rec;
        if (!mem.read(at, &rec, sizeof rec)) return err(Errno::XEN_EFAULT);
        if (!handle(rec, at)) return err(Errno::XEN_EFAULT);
    }
    return 0;
}

long do_setup_table(GrantHost& host, GrantDomain& caller, GuestBuffer& mem, std::uint64_t uop)
{
    gnttab_setup_table_t op;
    if (!mem.read(uop, &op, sizeof op)) return err(Errno::XEN_EFAULT);
    FrameList frames;
    setup_table(host, caller, op, frames);
    if (op.status == GNTST_okay) {
        const std::uint64_t list = handle_addr(op.frame_list);
        // Xen keeps going after a bad frame_list slot and reports it in the status.
        for (std::uint32_t i = 0; i < op.nr_frames; ++i)
            if (!mem.write(list + i * sizeof(std::uint64_t), &frames[i], sizeof frames[i]))
                op.status = GNTST_bad_virt_addr;
    }
    return write_field(mem, uop + offsetof(gnttab_setup_table_t, status), op.status) ? 0 : err(Errno::XEN_EFAULT);
}

long do_get_status_frames(GrantHost& host, GrantDomain& caller, GuestBuffer& mem, std::uint64_t uop)
{
    gnttab_get_status_frames_t op;
    if (!mem.read(uop, &op, sizeof op)) return err(Errno::XEN_EFAULT);
    GrantDomain* d = live_domain_or_self(host, caller, op.dom);
    if (d == nullptr) op.status = GNTST_bad_domain;
    else if (d != &caller && !host.may_control(caller.id(), d->id())) op.status = GNTST_permission_denied;
    else op.status = op.nr_frames > 0 ? GNTST_general_error : GNTST_okay;  // v1 has no status frames
    return write_field(mem, uop + offsetof(gnttab_get_status_frames_t, status), op.status) ? 0 : err(Errno::XEN_EFAULT);
}

} // namespace

long grant_table_op(GrantHost& host, GrantDomain& caller, GuestBuffer& mem, std::uint32_t cmd, std::uint64_t uop,
                    std::uint32_t count, Continuation& cont, unsigned budget)
{
    cont = Continuation{};
    if (static_cast<std::int32_t>(count) < 0) return err(Errno::XEN_EINVAL);
    if ((cmd & kCmdMask) != GNTTABOP_cache_flush && (cmd & ~kCmdMask) != 0) return err(Errno::XEN_EINVAL);
    if (budget == 0) budget = 1;

    switch (cmd & kCmdMask) {
    case GNTTABOP_map_grant_ref:
        // The whole record goes back: status, handle, dev_bus_addr.
        return each_record<gnttab_map_grant_ref_t>(mem, uop, count, budget, cont, [&](auto& op, std::uint64_t at) {
            map_grant_ref(host, caller, op);
            return mem.write(at, &op, sizeof op);
        });
    case GNTTABOP_unmap_grant_ref:
        return each_record<gnttab_unmap_grant_ref_t>(mem, uop, count, budget, cont, [&](auto& op, std::uint64_t at) {
            unmap_grant_ref(host, caller, op);
            return write_field(mem, at + offsetof(gnttab_unmap_grant_ref_t, status), op.status);
        });
    case GNTTABOP_unmap_and_replace:
        return each_record<gnttab_unmap_and_replace_t>(mem, uop, count, budget, cont,
                                                       [&](auto& op, std::uint64_t at) {
            // Arm's replace_grant_host_mapping refuses any new_addr: the handle is
            // checked, then the request fails. With new_addr 0 it is a plain unmap.
            gnttab_unmap_grant_ref_t u{};
            u.host_addr = op.host_addr;
            u.handle = op.handle;
            GrantDomain::Mapping m;
            if (op.new_addr != 0 && op.host_addr != 0)
                u.status = caller.mapping(op.handle, m) ? GNTST_general_error : GNTST_bad_handle;
            else
                unmap_grant_ref(host, caller, u);
            return write_field(mem, at + offsetof(gnttab_unmap_and_replace_t, status), u.status);
        });
    case GNTTABOP_setup_table:
        if (count != 1) return err(Errno::XEN_EINVAL);
        return do_setup_table(host, caller, mem, uop);
    case GNTTABOP_transfer:
        // Arm cannot give a page away (steal_page is not supported): every record
        // fails, bad_page for a frame that is not the caller's RAM.
        return each_record<gnttab_transfer_t>(mem, uop, count, budget, cont, [&](auto& op, std::uint64_t at) {
            HostPage page;
            op.status = host.ram_page(caller.id(), op.mfn, true, page) ? GNTST_general_error : GNTST_bad_page;
            return write_field(mem, at + offsetof(gnttab_transfer_t, status), op.status);
        });
    case GNTTABOP_copy:
        return each_record<gnttab_copy_t>(mem, uop, count, budget, cont, [&](auto& op, std::uint64_t at) {
            copy(host, caller, op);
            return write_field(mem, at + offsetof(gnttab_copy_t, status), op.status);
        });
    case GNTTABOP_query_size: {
        if (count != 1) return err(Errno::XEN_EINVAL);
        gnttab_query_size_t op;
        if (!mem.read(uop, &op, sizeof op)) return err(Errno::XEN_EFAULT);
        query_size(host, caller, op);
        return mem.write(uop, &op, sizeof op) ? 0 : err(Errno::XEN_EFAULT);
    }
    case GNTTABOP_set_version: {
        gnttab_set_version_t op;
        if (!mem.read(uop, &op, sizeof op)) return err(Errno::XEN_EFAULT);
        const Status s = set_version(caller, op);
        // Written back whatever the outcome: the guest learns the version in force.
        if (!mem.write(uop, &op, sizeof op)) return err(Errno::XEN_EFAULT);
        return s.as_xen_ret();
    }
    case GNTTABOP_get_status_frames:
        if (count != 1) return err(Errno::XEN_EINVAL);
        return do_get_status_frames(host, caller, mem, uop);
    case GNTTABOP_get_version: {
        gnttab_get_version_t op;
        if (!mem.read(uop, &op, sizeof op)) return err(Errno::XEN_EFAULT);
        const Status s = get_version(host, caller, op);
        if (!s) return s.as_xen_ret();
        return write_field(mem, uop + offsetof(gnttab_get_version_t, version), op.version) ? 0
                                                                                          : err(Errno::XEN_EFAULT);
    }
    case GNTTABOP_swap_grant_ref:
        return each_record<gnttab_swap_grant_ref_t>(mem, uop, count, budget, cont, [&](auto& op, std::uint64_t at) {
            op.status = raw(swap_grant_ref(caller, op.ref_a, op.ref_b));
            return write_field(mem, at + offsetof(gnttab_swap_grant_ref_t, status), op.status);
        });
    default:
        // GNTTABOP_dump_table is gone from Xen; cache_flush (for non-coherent DMA
        // into foreign pages) is not offered: no device is passed through.
        return err(Errno::XEN_ENOSYS);
    }
}

} // namespace keel::gnttab
