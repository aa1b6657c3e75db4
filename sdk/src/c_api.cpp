// The C API: thin casts onto EventChannels and GrantTable, which keep the
// ownership checks (a port not open, a reference not granted) themselves.
#include <keel/guest/c_api.h>
#include <keel/guest/events.hpp>
#include <keel/guest/grants.hpp>

#include <new>

using namespace keel;
using namespace keel::guest;

namespace {

// The caller's slot array holds, for n slots, n C++ records followed by n C
// callbacks: the C++ handlers take a typed Port (and a typed Gfn), so a C
// function is never called through a C++ function type; a trampoline is.
struct CHandler {
    keel_event_handler fn;
    void* context;
};
struct CRelease {
    void (*fn)(void* context, uint64_t gfn);
    void* context;
};
static_assert(sizeof(PortSlot) + sizeof(CHandler) == sizeof(keel_port_slot) && alignof(PortSlot) <= 8);
static_assert(sizeof(GrantSlot) + sizeof(CRelease) == sizeof(keel_grant_slot) && alignof(GrantSlot) <= 8);
static_assert(sizeof(GrantCopy) == sizeof(keel_grant_copy) && alignof(GrantCopy) <= alignof(keel_grant_copy));

struct CEvents {
    EventChannels events;
    CHandler* handlers;
    std::size_t nr;
};
struct CGrants {
    GrantTable table;
    CRelease* released;
    std::size_t nr;
};
static_assert(sizeof(CEvents) <= sizeof(keel_events_storage) && alignof(CEvents) <= 8);
static_assert(sizeof(CGrants) <= sizeof(keel_grant_table_storage) && alignof(CGrants) <= 8);

CEvents& C(keel_events* e) { return *reinterpret_cast<CEvents*>(e); }
EventChannels& E(keel_events* e) { return C(e).events; }
CGrants& CG(keel_grant_table* t) { return *reinterpret_cast<CGrants*>(t); }
GrantTable& G(keel_grant_table* t) { return CG(t).table; }

int ret(const Status& s) { return static_cast<int>(s.as_xen_ret()); }

void event_trampoline(void* context, Port port)
{
    const auto* h = static_cast<const CHandler*>(context);
    h->fn(h->context, port.raw());
}

void release_trampoline(void* context, Gfn frame)
{
    const auto* r = static_cast<const CRelease*>(context);
    if (r->fn != nullptr) r->fn(r->context, frame.raw());
}

int open_port(keel_events* e, Result<Port> bound, PortKind kind, unsigned vcpu, keel_event_handler handler,
         void* context, std::uint32_t* port)
{
    if (!bound) return static_cast<int>(bound.as_xen_ret());
    CEvents& c = C(e);
    EventHandler h;
    // A port beyond the slots is given back by adopt(); only others get a record.
    if (handler != nullptr && bound->raw() < c.nr) {
        c.handlers[bound->raw()] = CHandler{handler, context};
        h = EventHandler{&event_trampoline, &c.handlers[bound->raw()]};
    }
    auto adopted = c.events.adopt(*bound, kind, vcpu, h);
    if (!adopted) return static_cast<int>(adopted.as_xen_ret());
    *port = adopted->raw();
    return 0;
}

} // namespace

extern "C" {

keel_events* keel_events_init(keel_events_storage* storage, void* shared_info, keel_port_slot* slots,
                              size_t nr_slots)
{
    if (storage == nullptr || shared_info == nullptr || (slots == nullptr && nr_slots != 0)) return nullptr;
    auto* records = reinterpret_cast<PortSlot*>(slots);
    auto* handlers = reinterpret_cast<CHandler*>(records + nr_slots);
    for (size_t i = 0; i < nr_slots; ++i) {
        new (&records[i]) PortSlot();
        new (&handlers[i]) CHandler{nullptr, nullptr};
    }
    auto* c = new (storage) CEvents{
        EventChannels(*static_cast<SharedInfo*>(shared_info), std::span<PortSlot>(records, nr_slots)), handlers,
        nr_slots};
    return reinterpret_cast<keel_events*>(c);
}

int keel_events_set_vcpu_info(keel_events* ev, unsigned vcpu, void* vcpu_info)
{
    return ret(E(ev).set_vcpu_info(vcpu, static_cast<VcpuInfo*>(vcpu_info)));
}

void keel_events_handle_upcall(keel_events* ev, unsigned vcpu) { E(ev).handle_upcall(vcpu); }

int keel_evtchn_alloc_unbound(keel_events* ev, uint16_t remote_domid, keel_event_handler handler, void* context,
                              uint32_t* port)
{
    return open_port(ev, evtchnop_alloc_unbound(DomainId(remote_domid)), PortKind::Unbound, 0, handler, context, port);
}

int keel_evtchn_bind_interdomain(keel_events* ev, uint16_t remote_domid, uint32_t remote_port,
                                 keel_event_handler handler, void* context, uint32_t* port)
{
    return open_port(ev, evtchnop_bind_interdomain(DomainId(remote_domid), Port(remote_port)), PortKind::Interdomain, 0,
                handler, context, port);
}

int keel_evtchn_bind_virq(keel_events* ev, uint32_t virq, uint32_t vcpu, keel_event_handler handler, void* context,
                          uint32_t* port)
{
    return open_port(ev, evtchnop_bind_virq(virq, vcpu), PortKind::Virq, vcpu, handler, context, port);
}

int keel_evtchn_bind_ipi(keel_events* ev, uint32_t vcpu, keel_event_handler handler, void* context, uint32_t* port)
{
    return open_port(ev, evtchnop_bind_ipi(vcpu), PortKind::Ipi, vcpu, handler, context, port);
}

int keel_evtchn_close(keel_events* ev, uint32_t port) { return ret(E(ev).close(Port(port))); }
int keel_evtchn_send(keel_events* ev, uint32_t port) { return ret(E(ev).send(Port(port))); }
int keel_evtchn_mask(keel_events* ev, uint32_t port) { return ret(E(ev).mask(Port(port))); }
int keel_evtchn_unmask(keel_events* ev, uint32_t port) { return ret(E(ev).unmask(Port(port))); }
int keel_evtchn_bind_vcpu(keel_events* ev, uint32_t port, uint32_t vcpu)
{
    return ret(E(ev).bind_vcpu(Port(port), vcpu));
}
uint32_t keel_evtchn_generation(keel_events* ev, uint32_t port) { return E(ev).generation(Port(port)); }
int keel_evtchn_wait(keel_events* ev, uint32_t port, uint32_t seen) { return ret(E(ev).wait(Port(port), seen)); }

keel_grant_table* keel_grant_table_init(keel_grant_table_storage* storage, const keel_frame* frames,
                                        size_t nr_frames, keel_grant_slot* slots, size_t nr_slots, int* error)
{
    if (storage == nullptr || frames == nullptr || nr_frames == 0 || nr_frames > kMaxGrantTableFrames) {
        if (error) *error = -static_cast<int>(Errno::XEN_EINVAL);
        return nullptr;
    }
    GuestFrame f[kMaxGrantTableFrames];
    for (size_t i = 0; i < nr_frames; ++i) f[i] = GuestFrame{Gfn(frames[i].gfn), frames[i].va};
    auto* records = reinterpret_cast<GrantSlot*>(slots);
    auto* released = reinterpret_cast<CRelease*>(records + nr_slots);
    for (size_t i = 0; i < nr_slots; ++i) {
        new (&records[i]) GrantSlot();
        new (&released[i]) CRelease{nullptr, nullptr};
    }
    auto* c = new (storage) CGrants;
    c->released = released;
    c->nr = nr_slots;
    const Status st =
        c->table.setup(std::span<const GuestFrame>(f, nr_frames), std::span<GrantSlot>(records, nr_slots));
    if (error) *error = ret(st);
    if (!st) {
        c->~CGrants();
        return nullptr;
    }
    return reinterpret_cast<keel_grant_table*>(c);
}

int keel_grant_access(keel_grant_table* table, uint16_t domid, uint64_t gfn, int readonly, uint32_t* ref)
{
    auto r = G(table).grant_access(DomainId(domid), Gfn(gfn), readonly ? Access::ReadOnly : Access::ReadWrite);
    if (!r) return static_cast<int>(r.as_xen_ret());
    *ref = r->raw();
    return 0;
}

int keel_grant_end(keel_grant_table* table, uint32_t ref) { return ret(G(table).end_access(GrantRef(ref))); }

int keel_grant_end_or_defer(keel_grant_table* table, uint32_t ref, void (*released)(void* context, uint64_t gfn),
                            void* context)
{
    CGrants& c = CG(table);
    // Checked first: a reference already waiting for its revoke keeps its callback.
    if (!c.table.is_granted(GrantRef(ref))) return -static_cast<int>(Errno::XEN_EINVAL);
    FrameReleased r;
    if (released != nullptr && ref < c.nr) {
        c.released[ref] = CRelease{released, context};
        r = FrameReleased{&release_trampoline, &c.released[ref]};
    }
    return ret(c.table.end_access_or_defer(GrantRef(ref), r));
}

unsigned keel_grant_reclaim(keel_grant_table* table) { return G(table).reclaim(); }
unsigned keel_grant_pending_revokes(keel_grant_table* table) { return G(table).pending_revokes(); }

int keel_grant_map(uint16_t granter, uint32_t ref, keel_frame at, int readonly, uint32_t* handle)
{
    if (at.va == nullptr) return -static_cast<int>(Errno::XEN_EINVAL);
    gnttab_map_grant_ref_t op{};
    op.host_addr = at.gfn << kPageShift;
    op.flags = GNTMAP_host_map | (readonly ? GNTMAP_readonly : 0);
    op.ref = ref;
    op.dom = granter;
    op.status = kGrantStatusUnset;
    if (Status s = grant_table_op(GNTTABOP_map_grant_ref, &op, 1); !s) return ret(s);
    if (op.status != GNTST_okay) return -static_cast<int>(errno_of_grant_status(op.status));
    *handle = op.handle;
    return 0;
}

int keel_grant_unmap(keel_frame at, uint32_t handle)
{
    gnttab_unmap_grant_ref_t op{};
    op.host_addr = at.gfn << kPageShift;
    op.handle = handle;
    op.status = kGrantStatusUnset;
    if (Status s = grant_table_op(GNTTABOP_unmap_grant_ref, &op, 1); !s) return ret(s);
    return -static_cast<int>(errno_of_grant_status(op.status));
}

void keel_grant_copy_from(keel_grant_copy* op, uint16_t granter, uint32_t ref, uint16_t offset, uint64_t to_gfn,
                          uint16_t to_offset, uint16_t len)
{
    new (op) GrantCopy(GrantCopy::from_grant(DomainId(granter), GrantRef(ref), offset, Gfn(to_gfn), to_offset, len));
}

void keel_grant_copy_to(keel_grant_copy* op, uint64_t from_gfn, uint16_t from_offset, uint16_t granter, uint32_t ref,
                        uint16_t offset, uint16_t len)
{
    new (op) GrantCopy(GrantCopy::to_grant(Gfn(from_gfn), from_offset, DomainId(granter), GrantRef(ref), offset, len));
}

int keel_grant_copy_run(keel_grant_copy* ops, size_t count)
{
    return ret(grant_copy(std::span<GrantCopy>(reinterpret_cast<GrantCopy*>(ops), count)));
}

int keel_grant_copy_result(const keel_grant_copy* op)
{
    return ret(reinterpret_cast<const GrantCopy*>(op)->result());
}

} // extern "C"
