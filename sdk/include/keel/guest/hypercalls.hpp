// Typed hypercall wrappers, one group per Xen hypercall family, each named
// after the Xen command it issues (EVTCHNOP_send -> evtchnop_send; the Xen
// headers already use names like evtchn_send for the structs). Each returns
// the hypervisor's answer as a Result/Status carrying the Xen errno; nothing
// here keeps state, retries or allocates. The higher-level objects
// (shared_info.hpp, events.hpp, grants.hpp) are built on these.
//
// Grant operations report per record with GNTST_* codes rather than errnos.
// Where a wrapper folds such a status into a Status, it uses
// errno_of_grant_status(), a one-to-one mapping, so grant_status_of() gives the
// GNTST_* code back.
#pragma once

#include <keel/guest/hypercall.hpp>
#include <keel/guest/types.hpp>
#include <keel/guest/xen_abi.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

namespace keel::guest {

// --- xen_version ------------------------------------------------------------

struct XenVersion {
    std::uint16_t major;
    std::uint16_t minor;
};
// XENVER_version.
Result<XenVersion> xenver_version();
// XENVER_extraversion: the version suffix (".0", "-keel", ...), NUL-terminated.
Status xenver_extraversion(char (&out)[XEN_EXTRAVERSION_LEN]);
// XENVER_get_features: feature word `submap` (XENFEAT_* bit numbers).
Result<std::uint32_t> xenver_get_features(unsigned submap);

// --- memory_op --------------------------------------------------------------

// XENMEM_add_to_physmap for this domain: put hypervisor page `idx` of `space`
// (XENMAPSPACE_shared_info, XENMAPSPACE_grant_table) at guest frame `at`,
// which must be a hole (not RAM, not already used).
Status xenmem_add_to_physmap(unsigned space, std::uint64_t idx, Gfn at);
// XENMEM_remove_from_physmap for this domain.
Status xenmem_remove_from_physmap(Gfn at);

// --- event_channel_op -------------------------------------------------------

// EVTCHNOP_alloc_unbound: a port of `dom` (this domain by default) that
// `remote` may bind to.
Result<Port> evtchnop_alloc_unbound(DomainId remote, DomainId dom = kDomidSelf);
// EVTCHNOP_bind_interdomain: a local port joined to remote's `remote_port`.
// Xen sets the new port pending once (events sent before the bind were lost).
Result<Port> evtchnop_bind_interdomain(DomainId remote, Port remote_port);
// EVTCHNOP_bind_virq: VIRQ_* on `vcpu` (global VIRQs only on vCPU 0).
Result<Port> evtchnop_bind_virq(unsigned virq, unsigned vcpu);
// EVTCHNOP_bind_ipi: a port that signals `vcpu` of this domain.
Result<Port> evtchnop_bind_ipi(unsigned vcpu);
Status evtchnop_close(Port port);
Status evtchnop_send(Port port);
// EVTCHNOP_unmask: clear the mask bit; a pending port is delivered now.
Status evtchnop_unmask(Port port);
// EVTCHNOP_bind_vcpu: deliver the port's upcalls to `vcpu` from now on.
Status evtchnop_bind_vcpu(Port port, unsigned vcpu);
// EVTCHNOP_status, the whole answer record.
Result<evtchn_status_t> evtchnop_status(Port port, DomainId dom = kDomidSelf);

// --- grant_table_op ---------------------------------------------------------

// GNTST_* -> errno, one to one:
//   general_error EIO, bad_domain ESRCH, bad_gntref EINVAL, bad_handle EBADF,
//   bad_virt_addr EADDRNOTAVAIL, bad_dev_addr ENXIO, no_device_space ENOSPC,
//   permission_denied EPERM, bad_page EFAULT, bad_copy_arg ERANGE,
//   address_too_big E2BIG, eagain EAGAIN, no_space ENOBUFS; anything else EIO.
Errno errno_of_grant_status(std::int16_t gntst);
// The inverse: GNTST_okay for Errno::OK, GNTST_general_error for an errno
// that is not the image of a status.
std::int16_t grant_status_of(Errno e);

// A batch of records of one GNTTABOP_* command: the call's own answer (EFAULT,
// EINVAL, ...). Per-record statuses are in the records. Xen and Keel continue
// long batches internally; the guest sees one call.
Status grant_table_op(unsigned cmd, void* records, unsigned count);

struct GrantTableSize {
    unsigned nr_frames;
    unsigned max_nr_frames;
};
// GNTTABOP_query_size for this domain.
Result<GrantTableSize> gnttabop_query_size();
// GNTTABOP_setup_table for this domain: grow the table to frames.size()
// frames; on Arm the answer in each slot is the frame it is mapped at, or
// INVALID_GFN (Arm guests place frames with xenmem_add_to_physmap instead).
Status gnttabop_setup_table(std::span<xen_pfn_t> frames);
// GNTTABOP_set_version / get_version (Xen on Arm and Keel: version 1 only).
Status gnttabop_set_version(unsigned version);
Result<unsigned> gnttabop_get_version();

// --- sched_op ---------------------------------------------------------------

Status schedop_yield();
// SCHEDOP_block: sleep until an event is pending for this vCPU.
Status schedop_block();
// SCHEDOP_poll: return once one of `ports` is pending (whatever its mask) or
// at `timeout` (Xen system time in ns; 0: none). May return early. At most
// kMaxPollPorts ports (EINVAL beyond, as Xen).
inline constexpr std::size_t kMaxPollPorts = 128;
Status schedop_poll(std::span<const Port> ports, std::uint64_t timeout_ns = 0);
// SCHEDOP_shutdown with SHUTDOWN_* `reason`. Returns only if refused.
Status schedop_shutdown(unsigned reason);

// --- vcpu_op ----------------------------------------------------------------

// VCPUOP_register_vcpu_info: vCPU `vcpu`'s vcpu_info lives at `offset` in
// guest frame `frame` from now on (the vCPU must be this one or offline).
Status vcpuop_register_vcpu_info(unsigned vcpu, Gfn frame, std::uint32_t offset);

// --- hvm_op -----------------------------------------------------------------

// HVMOP_get_param / set_param on this domain's HVM_PARAM_* `index`.
Result<std::uint64_t> hvmop_get_param(unsigned index);
Status hvmop_set_param(unsigned index, std::uint64_t value);

// --- console_io -------------------------------------------------------------

// CONSOLEIO_write: the hypervisor's own console. Xen answers EPERM to a
// domain that is not its console domain (unless built with VERBOSE_DEBUG).
Status consoleio_write(const char* text, std::size_t length);
// CONSOLEIO_read: up to `length` bytes; how many were read.
Result<std::size_t> consoleio_read(char* buffer, std::size_t length);

} // namespace keel::guest
