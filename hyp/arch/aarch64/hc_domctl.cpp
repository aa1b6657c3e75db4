// HYPERVISOR_domctl: the control domain creates, configures, starts, pauses,
// inspects and destroys domains at run time, with Xen 4.17's interface
// (XEN_DOMCTL_INTERFACE_VERSION 0x15). The sub-ops are the ones a toolstack
// needs to run an Arm guest; each answers as Xen 4.17 does, checked line by line
// against Xen by tests/abi/domctl.cpp. One domctl runs at a time (Xen's domctl lock).
//
// <xen/domctl.h> is a tools header: it needs __XEN_TOOLS__ and GNU anonymous
// unions (this file is built with -std=gnu++20, see hyp/CMakeLists.txt).
#define __XEN_TOOLS__ 1
#undef __XEN_INTERFACE_VERSION__
#include "hypercall_context.hpp"
#include "scheduler.hpp"
#include "vcpu_context.hpp"

#include "dt/host_platform.hpp"
#include "mm/stage2_format.hpp"

#include <keel/spinlock.hpp>
#include <xen/domctl.h>

#include <cstddef>

namespace keel::arch {

// The C layout, which Xen's tools and Keel's guests use.
static_assert(sizeof(xen_domctl_t) == 144 && offsetof(xen_domctl_t, u) == 16);
static_assert(offsetof(xen_domctl_getdomaininfo, tot_pages) == 8);
static_assert(sizeof(vcpu_guest_context_t) == 352 && offsetof(vcpu_guest_context_t, sctlr) == 320);

namespace {
Spinlock domctl_lock;

constexpr std::uint32_t kPsrAarch32 = 1u << 4;
constexpr std::uint32_t kModeEl0t = 0x0, kModeEl1t = 0x4, kModeEl1h = 0x5;

// A PSR an AArch64 guest may start with: EL0t, EL1t or EL1h, 64-bit.
bool valid_aarch64_psr(std::uint64_t psr)
{
    if (psr & kPsrAarch32) return false;
    const std::uint64_t mode = psr & 0xf;
    return mode == kModeEl0t || mode == kModeEl1t || mode == kModeEl1h;
}

std::uint64_t tot_pages(const Domain& d) { return (d.ram_size >> kPageShift) - d.ballooned_pages; }

std::uint8_t gic_config(const dt::HostPlatform& host)
{
    return host.gic.version == 3 ? XEN_DOMCTL_CONFIG_GIC_V3 : XEN_DOMCTL_CONFIG_GIC_V2;
}

void fill_info(const Domain& d, xen_domctl_getdomaininfo& info)
{
    info = {};
    info.domain = d.id;
    // Xen's rule: "blocked" only if every online vCPU is; "running" if any is on a CPU.
    std::uint32_t flags = XEN_DOMINF_blocked;
    unsigned online = 0;
    if (d.vcpus_created) {
        for (unsigned i = 0; i < d.nr_vcpus; ++i) {
            const sched::State s = d.vcpus[i].sched.state;
            if (s == sched::State::Offline) continue;
            ++online;
            if (s != sched::State::Blocked) flags &= ~XEN_DOMINF_blocked;
            if (s == sched::State::Running) flags |= XEN_DOMINF_running;
        }
    }
    info.flags = (online ? flags : 0) | XEN_DOMINF_hvm_guest | XEN_DOMINF_hap |
                 (d.state == DomainState::Dying ? XEN_DOMINF_dying : 0) | (d.shut_down ? XEN_DOMINF_shutdown : 0) |
                 (d.controller_pauses ? XEN_DOMINF_paused : 0) |
                 static_cast<std::uint32_t>(d.shutdown_code << XEN_DOMINF_shutdownshift);
    info.tot_pages = tot_pages(d);
    info.max_pages = d.max_pages;
    info.shared_info_frame = d.shared_info_gfn;
    info.nr_online_vcpus = online;
    info.max_vcpu_id = d.vcpus_created ? d.nr_vcpus - 1 : XEN_INVALID_MAX_VCPU_ID;
    for (unsigned i = 0; i < 16; ++i) info.handle[i] = d.handle[i];
    info.gpaddr_bits = mm::s2::kIpaBits;
    info.arch_config.gic_version = gic_config(host_platform());
}

// The live (or dying) domain with the lowest id >= `from`: how a toolstack lists domains.
Domain* next_domain(std::uint16_t from)
{
    Domain* best = nullptr;
    for (Domain& d : domains) {
        const bool live = d.state == DomainState::Running || d.state == DomainState::Dying;
        if (live && d.id >= from && (!best || d.id < best->id)) best = &d;
    }
    return best;
}

long create(xen_domctl_t& op)
{
    auto& c = op.u.createdomain;
    constexpr std::uint32_t kRequired = XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap;
    // Arm guests are always HVM with hardware paging; Keel has no IOMMU, nested
    // virtualisation, vPMU or vmtrace to offer.
    if (c.flags != kRequired || c.iommu_opts != 0 || c.vmtrace_size != 0) return xen_err(Errno::XEN_EINVAL);
    if (XEN_DOMCTL_GRANT_version(c.grant_opts) != 1 || (c.grant_opts & ~XEN_DOMCTL_GRANT_version_mask))
        return xen_err(Errno::XEN_EINVAL);
    const std::uint8_t native = gic_config(host_platform());
    if (c.arch.gic_version != XEN_DOMCTL_CONFIG_GIC_NATIVE && c.arch.gic_version != native)
        return xen_err(Errno::XEN_EINVAL);
    if (c.arch.tee_type != XEN_DOMCTL_CONFIG_TEE_NONE) return xen_err(Errno::XEN_EINVAL);

    ControlledDomainConfig cfg{};
    cfg.domid = op.domain;
    cfg.max_vcpus = c.max_vcpus;
    for (unsigned i = 0; i < 16; ++i) cfg.handle[i] = c.handle[i];
    auto d = domain_create_controlled(cfg);
    if (!d) return xen_err(d.error());
    op.domain = (*d)->id;
    c.arch.gic_version = native;
    c.arch.clock_frequency = 0;
    return 0;
}

long max_mem(Domain& d, std::uint64_t max_kb)
{
    const std::uint64_t pages = max_kb >> (kPageShift - 10);
    // Keel's domains draw on one contiguous block of RAM, reserved at the first
    // limit a run-time domain is given; a later, higher limit cannot grow it.
    if (d.ram_size == 0 && pages != 0) {
        const std::uint64_t bytes = pages << kPageShift;
        const std::uint64_t capped = bytes < guest_layout::kRam0MaxSize ? bytes : guest_layout::kRam0MaxSize;
        if (Status s = domain_reserve_ram(d, capped); !s) return s.as_xen_ret();
        d.ballooned_pages = d.ram_size >> kPageShift;  // reserved, not yet populated
    }
    d.max_pages = pages;
    return 0;
}

long set_address_size(Domain& d, std::uint32_t size)
{
    if (size != 32 && size != 64) return xen_err(Errno::XEN_EINVAL);
    if (tot_pages(d) != 0) return xen_err(Errno::XEN_EBUSY);  // the mode is fixed once there is memory
    d.aarch64 = size == 64;
    return 0;
}

long set_vcpu_context(HypercallContext& c, Domain& d, const xen_domctl_vcpucontext& vc)
{
    if (&d == &c.dom || !d.vcpus_created || vc.vcpu >= d.nr_vcpus) return xen_err(Errno::XEN_EINVAL);
    Vcpu& v = d.vcpus[vc.vcpu];
    const bool reset = vc.ctxt.q == 0;
    vcpu_guest_context_t ctx{};
    if (!reset) {
        if (Status s = c.mem.read_obj(IpAddr(vc.ctxt.q), ctx); !s) return s.as_xen_ret();
        const auto& r = ctx.user_regs;
        if (!d.aarch64) {
            // A 32-bit domain: Xen would accept an AArch32 PSR; Keel runs 64-bit guests only.
            return (r.cpsr & kPsrAarch32) ? xen_err(Errno::XEN_EOPNOTSUPP) : xen_err(Errno::XEN_EINVAL);
        }
        if (!valid_aarch64_psr(r.cpsr) || (r.spsr_el1 != 0 && !valid_aarch64_psr(r.spsr_el1)))
            return xen_err(Errno::XEN_EINVAL);
    }
    // As on Xen, the domain is held still while its vCPU's state changes.
    if (Status s = domain_pause_by_controller(d); !s) return s.as_xen_ret();
    {
        LockGuard g(pcpus[v.pcpu].rq.lock);
        vcpu_reset(v, 0, 0);
        if (!reset) {
            const auto& r = ctx.user_regs;
            const std::uint64_t* x = &r.x0;  // x0..x30 are consecutive 64-bit fields
            for (unsigned i = 0; i < 31; ++i) v.frame.x[i] = x[i];
            v.frame.elr = r.pc64;
            v.frame.spsr = r.cpsr;
            v.el1.sp_el0 = r.sp_el0;
            v.el1.sp_el1 = r.sp_el1;
            v.el1.elr_el1 = r.elr_el1;
            v.el1.spsr_el1 = r.spsr_el1;
            v.el1.sctlr = ctx.sctlr;
            v.el1.tcr = ctx.ttbcr;
            v.el1.ttbr0 = ctx.ttbr0;
            v.el1.ttbr1 = ctx.ttbr1;
        }
        v.sched.state = !reset && (ctx.flags & VGCF_online) ? sched::State::Runnable : sched::State::Offline;
    }
    (void)domain_unpause_by_controller(d);
    return 0;
}

long paging_mempool(Domain& d, xen_domctl_t& op, bool set)
{
    if (!set) {
        op.u.paging_mempool.size = d.paging_pool_bytes;
        return 0;
    }
    // Keel's stage-2 tables come from the hypervisor's own table pool; the size is
    // kept so the toolstack reads back what it set.
    if (op.u.paging_mempool.size % kPageSize) return xen_err(Errno::XEN_EINVAL);
    d.paging_pool_bytes = op.u.paging_mempool.size;
    return 0;
}

// The sub-ops that act on an existing domain `d` (nullptr: none has op.domain).
// `copy_back` is set when the answer is in `op`.
long on_domain(HypercallContext& c, xen_domctl_t& op, Domain* d, bool& copy_back)
{
    if (op.cmd == XEN_DOMCTL_getdomaininfo) {
        if (!d) {
            if (op.domain >= DOMID_FIRST_RESERVED) return xen_err(Errno::XEN_EINVAL);
            d = next_domain(op.domain);
            if (!d) return xen_err(Errno::XEN_ESRCH);
        }
        fill_info(*d, op.u.getdomaininfo);
        op.domain = d->id;
        copy_back = true;
        return 0;
    }
    if (!d) return xen_err(Errno::XEN_ESRCH);
    const bool self = d == &c.dom;
    switch (op.cmd) {
    case XEN_DOMCTL_max_vcpus:
        if (self || op.u.max_vcpus.max != d->nr_vcpus) return xen_err(Errno::XEN_EINVAL);
        d->vcpus_created = true;
        return 0;
    case XEN_DOMCTL_max_mem: {
        LockGuard g(d->p2m_lock);
        return max_mem(*d, op.u.max_mem.max_memkb);
    }
    case XEN_DOMCTL_set_address_size: return set_address_size(*d, op.u.address_size.size);
    case XEN_DOMCTL_get_address_size:
        op.u.address_size.size = d->aarch64 ? 64 : 32;
        copy_back = true;
        return 0;
    case XEN_DOMCTL_set_paging_mempool_size: return paging_mempool(*d, op, true);
    case XEN_DOMCTL_get_paging_mempool_size:
        copy_back = true;
        return paging_mempool(*d, op, false);
    case XEN_DOMCTL_setvcpucontext: return set_vcpu_context(c, *d, op.u.vcpucontext);
    case XEN_DOMCTL_pausedomain:
        if (self) return xen_err(Errno::XEN_EINVAL);  // it could never unpause itself
        return xen_ret(domain_pause_by_controller(*d));
    case XEN_DOMCTL_unpausedomain: return xen_ret(domain_unpause_by_controller(*d));
    case XEN_DOMCTL_destroydomain:
        if (self) return xen_err(Errno::XEN_EINVAL);
        domain_kill(*d);
        return 0;
    case XEN_DOMCTL_setdomainhandle:
        for (unsigned i = 0; i < 16; ++i) d->handle[i] = op.u.setdomainhandle.handle[i];
        return 0;
    default: return xen_err(Errno::XEN_ENOSYS);
    }
}
} // namespace

long hc_domctl(HypercallContext& c, IpAddr arg)
{
    xen_domctl_t op;
    if (Status s = c.mem.read_obj(arg, op); !s) return s.as_xen_ret();
    if (op.interface_version != XEN_DOMCTL_INTERFACE_VERSION) return xen_err(Errno::XEN_EACCES);
    if (!c.dom.privileged) return xen_err(Errno::XEN_EPERM);  // the control domain's alone (Xen's XSM dummy policy)

    LockGuard g(domctl_lock);
    bool copy_back = false;
    long r;
    if (op.cmd == XEN_DOMCTL_createdomain) {
        r = create(op);
        copy_back = r == 0;
    } else {
        r = on_domain(c, op, domain_by_id(DomainId(op.domain), true), copy_back);
    }
    if (copy_back) {
        if (Status s = c.mem.write_obj(arg, op); !s) return s.as_xen_ret();
    }
    return r;
}

} // namespace keel::arch
