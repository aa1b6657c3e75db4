#include <keel/guest/hypercalls.hpp>

namespace keel::guest {

namespace {

// Xen's Arm calling convention passes handles as guest virtual addresses.
template <typename T>
Status event_op(unsigned cmd, T& op)
{
    return hypercall_status(__HYPERVISOR_event_channel_op, cmd, handle(&op));
}

template <typename T>
Status sched_op(unsigned cmd, T* op)
{
    return hypercall_status(__HYPERVISOR_sched_op, cmd, handle(op));
}

struct GrantErrno {
    std::int16_t status;
    Errno error;
};

constexpr GrantErrno kGrantErrnos[] = {
    {GNTST_general_error, Errno::XEN_EIO},
    {GNTST_bad_domain, Errno::XEN_ESRCH},
    {GNTST_bad_gntref, Errno::XEN_EINVAL},
    {GNTST_bad_handle, Errno::XEN_EBADF},
    {GNTST_bad_virt_addr, Errno::XEN_EADDRNOTAVAIL},
    {GNTST_bad_dev_addr, Errno::XEN_ENXIO},
    {GNTST_no_device_space, Errno::XEN_ENOSPC},
    {GNTST_permission_denied, Errno::XEN_EPERM},
    {GNTST_bad_page, Errno::XEN_EFAULT},
    {GNTST_bad_copy_arg, Errno::XEN_ERANGE},
    {GNTST_address_too_big, Errno::XEN_E2BIG},
    {GNTST_eagain, Errno::XEN_EAGAIN},
    {GNTST_no_space, Errno::XEN_ENOBUFS},
};

} // namespace

// --- xen_version ---

Result<XenVersion> xenver_version()
{
    auto r = hypercall(__HYPERVISOR_xen_version, XENVER_version, 0);
    if (!r) return Err(r.error());
    return XenVersion{static_cast<std::uint16_t>(*r >> 16), static_cast<std::uint16_t>(*r & 0xffff)};
}

Status xenver_extraversion(char (&out)[XEN_EXTRAVERSION_LEN])
{
    xen_extraversion_t v{};
    KEEL_TRY(hypercall(__HYPERVISOR_xen_version, XENVER_extraversion, handle(&v)));
    for (std::size_t i = 0; i < XEN_EXTRAVERSION_LEN; ++i) out[i] = v[i];
    out[XEN_EXTRAVERSION_LEN - 1] = '\0';  // the hypervisor's string, terminated whatever it sent
    return {};
}

Result<std::uint32_t> xenver_get_features(unsigned submap)
{
    xen_feature_info_t f{};
    f.submap_idx = submap;
    KEEL_TRY(hypercall(__HYPERVISOR_xen_version, XENVER_get_features, handle(&f)));
    return f.submap;
}

// --- memory_op ---

Status xenmem_add_to_physmap(unsigned space, std::uint64_t idx, Gfn at)
{
    xen_add_to_physmap_t a{};
    a.domid = DOMID_SELF;
    a.space = space;
    a.idx = idx;
    a.gpfn = at.raw();
    return hypercall_status(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, handle(&a));
}

Status xenmem_remove_from_physmap(Gfn at)
{
    xen_remove_from_physmap_t r{};
    r.domid = DOMID_SELF;
    r.gpfn = at.raw();
    return hypercall_status(__HYPERVISOR_memory_op, XENMEM_remove_from_physmap, handle(&r));
}

// --- event_channel_op ---

Result<Port> evtchnop_alloc_unbound(DomainId remote, DomainId dom)
{
    evtchn_alloc_unbound_t op{};
    op.dom = dom.raw();
    op.remote_dom = remote.raw();
    KEEL_TRY(event_op(EVTCHNOP_alloc_unbound, op));
    return Port(op.port);
}

Result<Port> evtchnop_bind_interdomain(DomainId remote, Port remote_port)
{
    evtchn_bind_interdomain_t op{};
    op.remote_dom = remote.raw();
    op.remote_port = remote_port.raw();
    KEEL_TRY(event_op(EVTCHNOP_bind_interdomain, op));
    return Port(op.local_port);
}

Result<Port> evtchnop_bind_virq(unsigned virq, unsigned vcpu)
{
    evtchn_bind_virq_t op{};
    op.virq = virq;
    op.vcpu = vcpu;
    KEEL_TRY(event_op(EVTCHNOP_bind_virq, op));
    return Port(op.port);
}

Result<Port> evtchnop_bind_ipi(unsigned vcpu)
{
    evtchn_bind_ipi_t op{};
    op.vcpu = vcpu;
    KEEL_TRY(event_op(EVTCHNOP_bind_ipi, op));
    return Port(op.port);
}

Status evtchnop_close(Port port)
{
    evtchn_close_t op{port.raw()};
    return event_op(EVTCHNOP_close, op);
}

Status evtchnop_send(Port port)
{
    evtchn_send_t op{port.raw()};
    return event_op(EVTCHNOP_send, op);
}

Status evtchnop_unmask(Port port)
{
    evtchn_unmask_t op{port.raw()};
    return event_op(EVTCHNOP_unmask, op);
}

Status evtchnop_bind_vcpu(Port port, unsigned vcpu)
{
    evtchn_bind_vcpu_t op{port.raw(), vcpu};
    return event_op(EVTCHNOP_bind_vcpu, op);
}

Result<evtchn_status_t> evtchnop_status(Port port, DomainId dom)
{
    evtchn_status_t op{};
    op.dom = dom.raw();
    op.port = port.raw();
    KEEL_TRY(event_op(EVTCHNOP_status, op));
    return op;
}

// --- grant_table_op ---

Errno errno_of_grant_status(std::int16_t gntst)
{
    if (gntst == GNTST_okay) return Errno::OK;
    for (const GrantErrno& g : kGrantErrnos)
        if (g.status == gntst) return g.error;
    return Errno::XEN_EIO;
}

std::int16_t grant_status_of(Errno e)
{
    if (e == Errno::OK) return GNTST_okay;
    for (const GrantErrno& g : kGrantErrnos)
        if (g.error == e) return g.status;
    return GNTST_general_error;
}

Status grant_table_op(unsigned cmd, void* records, unsigned count)
{
    return hypercall_status(__HYPERVISOR_grant_table_op, cmd, handle(records), count);
}

Result<GrantTableSize> gnttabop_query_size()
{
    gnttab_query_size_t q{};
    q.dom = DOMID_SELF;
    q.status = kGrantStatusUnset;
    KEEL_TRY(grant_table_op(GNTTABOP_query_size, &q, 1));
    if (q.status != GNTST_okay) return Err(errno_of_grant_status(q.status));
    return GrantTableSize{q.nr_frames, q.max_nr_frames};
}

Status gnttabop_setup_table(std::span<xen_pfn_t> frames)
{
    gnttab_setup_table_t s{};
    s.dom = DOMID_SELF;
    s.nr_frames = static_cast<std::uint32_t>(frames.size());
    s.status = kGrantStatusUnset;
    set_xen_guest_handle(s.frame_list, frames.data());
    KEEL_TRY(grant_table_op(GNTTABOP_setup_table, &s, 1));
    if (s.status != GNTST_okay) return Err(errno_of_grant_status(s.status));
    return {};
}

Status gnttabop_set_version(unsigned version)
{
    gnttab_set_version_t v{version};
    return grant_table_op(GNTTABOP_set_version, &v, 1);
}

Result<unsigned> gnttabop_get_version()
{
    gnttab_get_version_t v{};
    v.dom = DOMID_SELF;
    KEEL_TRY(grant_table_op(GNTTABOP_get_version, &v, 1));
    return static_cast<unsigned>(v.version);
}

// --- sched_op ---

Status schedop_yield() { return sched_op<void>(SCHEDOP_yield, nullptr); }

Status schedop_block() { return sched_op<void>(SCHEDOP_block, nullptr); }

Status schedop_poll(std::span<const Port> ports, std::uint64_t timeout_ns)
{
    if (ports.size() > kMaxPollPorts) return Err(Errno::XEN_EINVAL);
    evtchn_port_t raw[kMaxPollPorts];
    for (std::size_t i = 0; i < ports.size(); ++i) raw[i] = ports[i].raw();
    sched_poll_t p{};
    set_xen_guest_handle(p.ports, raw);
    p.nr_ports = static_cast<unsigned>(ports.size());
    p.timeout = timeout_ns;
    return sched_op(SCHEDOP_poll, &p);
}

Status schedop_shutdown(unsigned reason)
{
    sched_shutdown_t s{reason};
    return sched_op(SCHEDOP_shutdown, &s);
}

// --- vcpu_op ---

Status vcpuop_register_vcpu_info(unsigned vcpu, Gfn frame, std::uint32_t offset)
{
    vcpu_register_vcpu_info_t r{};
    r.mfn = frame.raw();
    r.offset = offset;
    return hypercall_status(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, vcpu, handle(&r));
}

// --- hvm_op ---

Result<std::uint64_t> hvmop_get_param(unsigned index)
{
    xen_hvm_param_t p{};
    p.domid = DOMID_SELF;
    p.index = index;
    KEEL_TRY(hypercall(__HYPERVISOR_hvm_op, HVMOP_get_param, handle(&p)));
    return p.value;
}

Status hvmop_set_param(unsigned index, std::uint64_t value)
{
    xen_hvm_param_t p{};
    p.domid = DOMID_SELF;
    p.index = index;
    p.value = value;
    return hypercall_status(__HYPERVISOR_hvm_op, HVMOP_set_param, handle(&p));
}

// --- console_io ---

Status consoleio_write(const char* text, std::size_t length)
{
    // Xen writes what it is given and returns 0 (or the count); a long text
    // is cut into calls Xen takes in one go rather than trusting a count back.
    while (length > 0) {
        const std::size_t n = length < 1024 ? length : 1024;
        KEEL_TRY(hypercall(__HYPERVISOR_console_io, CONSOLEIO_write, n, handle(text)));
        text += n;
        length -= n;
    }
    return {};
}

Result<std::size_t> consoleio_read(char* buffer, std::size_t length)
{
    auto r = hypercall(__HYPERVISOR_console_io, CONSOLEIO_read, length, handle(buffer));
    if (!r) return Err(r.error());
    return static_cast<std::size_t>(*r);
}

} // namespace keel::guest
