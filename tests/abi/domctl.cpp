// domctl: what a toolstack does to run a domain — create it, give it memory,
// load a program through a foreign mapping, set its first vCPU, unpause it,
// watch it run, pause it, let it shut down, destroy it — and the errors on the
// way. The child is a few instructions (below) that answer a domctl of their
// own (a domU may not), beat a heartbeat counter, and shut down when told.
// <xen/domctl.h> is for node control tools, which this check is; tools get the
// latest interface version (the same value keel_lib sets), and its headers use
// anonymous unions (built with -std=gnu++20 for that, see CMakeLists.txt).
#define __XEN_TOOLS__ 1
#undef __XEN_INTERFACE_VERSION__
#include "check.hpp"
#include "env.hpp"
#include "hypercall.hpp"

#include <keel/guest/console.hpp>
#include <xen/domctl.h>
#include <xen/memory.h>
#include <xen/sched.h>
#include <xen/xen.h>

#include <cstring>

// The child's program, position-independent, run with its MMU off from the
// start of its RAM. Offsets into that page: 0x400 a domctl the parent prepared,
// 0x800 the child's answer to it, 0x808 the heartbeat, 0x810 the stop request,
// 0x818 the sched_shutdown argument.
extern "C" const std::uint32_t abi_child_start[], abi_child_end[];
asm(R"(
    .pushsection .rodata.abi_child, "a"
    .balign 4
    .global abi_child_start
abi_child_start:
    adr x19, abi_child_start
    add x0, x19, #0x400
    mov x16, #36            // __HYPERVISOR_domctl
    hvc #0xea1
    str x0, [x19, #0x800]
1:  ldr x1, [x19, #0x808]
    add x1, x1, #1
    str x1, [x19, #0x808]
    ldr x2, [x19, #0x810]
    cbz x2, 1b
    mov x0, #2              // SCHEDOP_shutdown
    add x1, x19, #0x818
    mov x16, #29            // __HYPERVISOR_sched_op
    hvc #0xea1
2:  wfi
    b 2b
    .global abi_child_end
abi_child_end:
    .popsection
)");

namespace abi {
namespace {

constexpr std::uint64_t kChildRamGfn = 0x40000;  // GUEST_RAM0_BASE >> 12
constexpr unsigned kChildPages = 16;
constexpr std::uint64_t kProbe = 0x400, kAnswer = 0x800, kHeartbeat = 0x808, kStop = 0x810, kShutdown = 0x818;
constexpr std::uint32_t kEl1hMasked = 0x3c5;  // EL1h, D/A/I/F masked
constexpr std::uint32_t kEl2hMasked = 0x3c9;
constexpr std::uint64_t kSctlrReset = 0x30d00800;  // RES1 bits, MMU and caches off
constexpr unsigned kLine = 64;

long domctl(xen_domctl& d) { return hypercall(__HYPERVISOR_domctl, arg(&d)); }

xen_domctl make(std::uint32_t cmd, std::uint16_t domid)
{
    xen_domctl d;
    std::memset(&d, 0, sizeof d);
    d.cmd = cmd;
    d.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    d.domain = domid;
    return d;
}

xen_domctl create_request(std::uint16_t domid)
{
    xen_domctl d = make(XEN_DOMCTL_createdomain, domid);
    auto& c = d.u.createdomain;
    c.flags = XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap;
    c.max_vcpus = 1;
    c.max_evtchn_port = 1023;
    c.max_grant_frames = 1;
    c.max_maptrack_frames = 1;
    c.grant_opts = XEN_DOMCTL_GRANT_version(1);
    c.arch.gic_version = XEN_DOMCTL_CONFIG_GIC_NATIVE;
    c.arch.tee_type = XEN_DOMCTL_CONFIG_TEE_NONE;
    return d;
}

long simple(std::uint32_t cmd, std::uint16_t domid)
{
    xen_domctl d = make(cmd, domid);
    return domctl(d);
}

// getdomaininfo for `domid` (or the next domain after it): the answer, or an errno.
long info(std::uint16_t domid, xen_domctl_getdomaininfo& out)
{
    xen_domctl d = make(XEN_DOMCTL_getdomaininfo, domid);
    const long r = domctl(d);
    out = d.u.getdomaininfo;
    return r;
}

bool has(const xen_domctl_getdomaininfo& i, std::uint32_t flag) { return (i.flags & flag) != 0; }

// The child runs with its caches off: push what we write to memory, and drop
// stale lines before reading what it wrote.
void clean(volatile void* p, std::size_t n)
{
    auto a = reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t(kLine - 1);
    for (; a < reinterpret_cast<std::uintptr_t>(p) + n; a += kLine) asm volatile("dc cvac, %0" ::"r"(a) : "memory");
    asm volatile("dsb ish\n ic ialluis\n dsb ish\n isb" ::: "memory");
}

std::uint64_t read_child(volatile std::uint8_t* page, std::uint64_t off)
{
    auto* p = reinterpret_cast<volatile std::uint64_t*>(page + off);
    asm volatile("dc civac, %0\n dsb ish" ::"r"(p) : "memory");
    return *p;
}

void write_child(volatile std::uint8_t* page, std::uint64_t off, std::uint64_t value)
{
    auto* p = reinterpret_cast<volatile std::uint64_t*>(page + off);
    *p = value;
    clean(p, sizeof *p);
}

void yield() { hypercall(__HYPERVISOR_sched_op, SCHEDOP_yield, 0); }

// Waits (yielding the CPU) until `done()` holds; false if it never does.
template <typename F>
bool wait_for(F done)
{
    for (unsigned i = 0; i < 200000; ++i) {
        if (done()) return true;
        yield();
    }
    return false;
}

long foreign_map(std::uint16_t foreign, const xen_ulong_t* idxs, const xen_pfn_t* gpfns, int* errs, unsigned n)
{
    xen_add_to_physmap_batch_t b{};
    b.domid = kDomidSelf;
    b.space = XENMAPSPACE_gmfn_foreign;
    b.size = static_cast<std::uint16_t>(n);
    b.u.foreign_domid = foreign;
    set_xen_guest_handle(b.idxs, const_cast<xen_ulong_t*>(idxs));
    set_xen_guest_handle(b.gpfns, const_cast<xen_pfn_t*>(gpfns));
    set_xen_guest_handle(b.errs, errs);
    return hypercall(__HYPERVISOR_memory_op, XENMEM_add_to_physmap_batch, arg(&b));
}

long unmap(std::uint64_t gfn)
{
    xen_remove_from_physmap_t r{};
    r.domid = kDomidSelf;
    r.gpfn = gfn;
    return hypercall(__HYPERVISOR_memory_op, XENMEM_remove_from_physmap, arg(&r));
}

// A domain that exists just long enough to be mapped from and destroyed.
std::uint16_t create_with_one_page()
{
    xen_domctl d = create_request(0);
    if (domctl(d) != 0) return 0;
    const std::uint16_t id = d.domain;
    d = make(XEN_DOMCTL_max_vcpus, id);
    d.u.max_vcpus.max = 1;
    (void)domctl(d);
    d = make(XEN_DOMCTL_max_mem, id);
    d.u.max_mem.max_memkb = 64;
    (void)domctl(d);
    xen_pfn_t frame = kChildRamGfn;
    xen_memory_reservation_t r{};
    set_xen_guest_handle(r.extent_start, &frame);
    r.nr_extents = 1;
    r.domid = id;
    (void)hypercall(__HYPERVISOR_memory_op, XENMEM_populate_physmap, arg(&r));
    return id;
}
} // namespace

// Keel only (bootargs "abi keel"): where Keel deliberately differs from Xen.
// Xen keeps a destroyed domain as a zombie while others still map its pages;
// Keel revokes those mappings at once and frees the memory.
void check_domctl_keel(Env& env)
{
    const char* area = "domctl (keel)";
    const std::uint16_t id = create_with_one_page();
    check(area, "a second domain with one page", "%s", yes_no(id != 0));
    if (id == 0) return;
    const xen_ulong_t idx = kChildRamGfn;
    const xen_pfn_t at = env.region_gfn(102);
    int err = 1;
    check(area, "foreign map its page", "%s / %s", rc(foreign_map(id, &idx, &at, &err, 1)), rc(err));
    check(area, "destroydomain while mapped", "%s", rc(simple(XEN_DOMCTL_destroydomain, id)));
    xen_domctl_getdomaininfo i{};
    check(area, "destroyed domain is gone at once", "%s", yes_no(info(id, i) != 0 || i.domain != id));
    check(area, "our mapping of its page was revoked", "%s", rc(unmap(at)));
}

void check_domctl(Env& env)
{
    const char* area = "domctl";
    xen_domctl_getdomaininfo i{};

    // The interface version and the call itself.
    xen_domctl d = make(XEN_DOMCTL_getdomaininfo, 0);
    d.interface_version = XEN_DOMCTL_INTERFACE_VERSION - 1;
    check(area, "older interface version", "%s", rc(domctl(d)));
    check(area, "bad pointer", "%s", rc(hypercall(__HYPERVISOR_domctl, kBadPointer)));
    check(area, "unknown command 9999", "%s", rc(simple(9999, 0)));
    check(area, "getdomaininfo dom0", "%s", rc(info(0, i)));
    check(area, "getdomaininfo dom0: domain 0, hvm guest, not paused", "%s",
          yes_no(i.domain == 0 && has(i, XEN_DOMINF_hvm_guest) && !has(i, XEN_DOMINF_paused)));
    check(area, "getdomaininfo dom0: online vCPUs (only the boot vCPU is up)", "%u", i.nr_online_vcpus);
    check(area, "getdomaininfo past every domain", "%s", rc(info(0x7f00, i)));
    check(area, "getdomaininfo DOMID_SELF", "%s", rc(info(kDomidSelf, i)));

    // createdomain's checks, then a domain.
    d = create_request(0);
    d.u.createdomain.flags = 0;
    check(area, "createdomain without hvm|hap", "%s", rc(domctl(d)));
    d = create_request(0);
    d.u.createdomain.max_vcpus = 0;
    check(area, "createdomain 0 vCPUs", "%s", rc(domctl(d)));
    d = create_request(0);
    d.u.createdomain.arch.gic_version = 9;
    check(area, "createdomain GIC version 9", "%s", rc(domctl(d)));
    d = create_request(0);
    d.u.createdomain.grant_opts = XEN_DOMCTL_GRANT_version(7);
    check(area, "createdomain grant version 7", "%s", rc(domctl(d)));
    d = create_request(0);
    const long created = domctl(d);
    check(area, "createdomain", "%s", rc(created));
    if (created != 0) return;
    const std::uint16_t child = d.domain;
    check(area, "createdomain: an ordinary domid", "%s", yes_no(child > 0 && child < DOMID_FIRST_RESERVED));
    check(area, "createdomain: GIC version out", "%u", d.u.createdomain.arch.gic_version);
    d = create_request(child);
    check(area, "createdomain an id in use", "%s", rc(domctl(d)));

    check(area, "getdomaininfo new domain", "%s", rc(info(child, i)));
    check(area, "new domain: paused, not shut down, not dying", "%s",
          yes_no(has(i, XEN_DOMINF_paused) && !has(i, XEN_DOMINF_shutdown) && !has(i, XEN_DOMINF_dying)));
    check(area, "new domain: online vCPUs, max vCPU id, pages", "%u %u %lu", i.nr_online_vcpus, i.max_vcpu_id,
          static_cast<unsigned long>(i.tot_pages));
    check(area, "getdomaininfo finds the next domain", "%s", yes_no(info(1, i) == 0 && i.domain == child));

    // Its vCPUs: as many as createdomain said, no more, no fewer.
    d = make(XEN_DOMCTL_max_vcpus, child);
    d.u.max_vcpus.max = 2;
    check(area, "max_vcpus 2 of 1", "%s", rc(domctl(d)));
    d.u.max_vcpus.max = 1;
    check(area, "max_vcpus 1", "%s", rc(domctl(d)));
    check(area, "max_vcpus 1 again", "%s", rc(domctl(d)));
    d.domain = 0;
    check(area, "max_vcpus own domain", "%s", rc(domctl(d)));
    check(area, "new domain: online vCPUs, max vCPU id", "%u %u", info(child, i) == 0 ? i.nr_online_vcpus : 99u,
          i.max_vcpu_id);

    // A new Arm domain is 32-bit until the toolstack says otherwise, before it has memory.
    d = make(XEN_DOMCTL_set_address_size, child);
    d.u.address_size.size = 48;
    check(area, "set_address_size 48", "%s", rc(domctl(d)));
    d.u.address_size.size = 64;
    check(area, "set_address_size 64", "%s", rc(domctl(d)));

    // Memory: a limit, the stage-2 pool Xen 4.17 wants, pages.
    d = make(XEN_DOMCTL_max_mem, kNoSuchDomain);
    d.u.max_mem.max_memkb = 1024;
    check(area, "max_mem bad domid", "%s", rc(domctl(d)));
    d.domain = child;
    check(area, "max_mem 1 MiB", "%s", rc(domctl(d)));
    d = make(XEN_DOMCTL_set_paging_mempool_size, child);
    d.u.paging_mempool.size = 123;
    check(area, "set_paging_mempool_size not page-aligned", "%s", rc(domctl(d)));
    d.u.paging_mempool.size = 1 << 20;
    check(area, "set_paging_mempool_size 1 MiB", "%s", rc(domctl(d)));

    xen_pfn_t frames[kChildPages];
    for (unsigned k = 0; k < kChildPages; ++k) frames[k] = kChildRamGfn + k;
    xen_memory_reservation_t r{};
    set_xen_guest_handle(r.extent_start, frames);
    r.nr_extents = kChildPages;
    r.domid = child;
    check(area, "populate_physmap 16 pages for it", "%s",
          rc(hypercall(__HYPERVISOR_memory_op, XENMEM_populate_physmap, arg(&r))));
    check(area, "new domain: pages after populate", "%lu",
          static_cast<unsigned long>(info(child, i) == 0 ? i.tot_pages : 0));
    d = make(XEN_DOMCTL_set_address_size, child);
    d.u.address_size.size = 32;
    check(area, "set_address_size 32 with memory", "%s", rc(domctl(d)));
    domid_t cd = child;
    check(area, "current_reservation of it", "%s", rc(hypercall(__HYPERVISOR_memory_op, XENMEM_current_reservation, arg(&cd))));

    // Its first page in our physmap, and a page it does not have.
    const xen_ulong_t idxs[2] = {kChildRamGfn, kChildRamGfn + 0x100};
    const xen_pfn_t at[2] = {env.region_gfn(100), env.region_gfn(101)};
    int errs[2] = {1, 1};
    check(area, "add_to_physmap_batch gmfn_foreign", "%s", rc(foreign_map(child, idxs, at, errs, 2)));
    check(area, "foreign map: a populated page", "%s", rc(errs[0]));
    check(area, "foreign map: an unpopulated page", "%s", rc(errs[1]));
    errs[0] = 1;
    const long nobody = foreign_map(kNoSuchDomain, idxs, at + 1, errs, 1);
    check(area, "foreign map from no domain", "%s / %s", rc(nobody), rc(errs[0]));
    if (errs[0] == 0) (void)unmap(at[1]);

    auto* page = reinterpret_cast<volatile std::uint8_t*>(env.region_gfn(100) * kPage);
    const auto code_bytes = reinterpret_cast<const std::uint8_t*>(abi_child_end) -
                            reinterpret_cast<const std::uint8_t*>(abi_child_start);
    std::memcpy(const_cast<std::uint8_t*>(page), abi_child_start, code_bytes);
    xen_domctl probe = make(XEN_DOMCTL_getdomaininfo, 0);
    std::memcpy(const_cast<std::uint8_t*>(page + kProbe), &probe, sizeof probe);
    sched_shutdown_t reason{SHUTDOWN_poweroff};
    std::memcpy(const_cast<std::uint8_t*>(page + kShutdown), &reason, sizeof reason);
    *reinterpret_cast<volatile std::uint64_t*>(page + kAnswer) = 1;
    clean(page, kPage);

    // Its first vCPU.
    vcpu_guest_context_t ctx;
    std::memset(&ctx, 0, sizeof ctx);
    ctx.flags = VGCF_online;
    ctx.user_regs.pc64 = kChildRamGfn * kPage;
    ctx.user_regs.cpsr = kEl1hMasked;
    ctx.sctlr = kSctlrReset;
    d = make(XEN_DOMCTL_setvcpucontext, child);
    d.u.vcpucontext.vcpu = 1;
    set_xen_guest_handle(d.u.vcpucontext.ctxt, &ctx);
    check(area, "setvcpucontext vCPU 1 of 1", "%s", rc(domctl(d)));
    d.u.vcpucontext.vcpu = 0;
    ctx.user_regs.cpsr = kEl2hMasked;
    check(area, "setvcpucontext EL2 mode", "%s", rc(domctl(d)));
    ctx.user_regs.cpsr = kEl1hMasked;
    d.domain = 0;
    check(area, "setvcpucontext own domain", "%s", rc(domctl(d)));
    d.domain = child;
    set_xen_guest_handle(d.u.vcpucontext.ctxt, reinterpret_cast<vcpu_guest_context_t*>(kBadPointer));
    check(area, "setvcpucontext bad pointer", "%s", rc(domctl(d)));
    set_xen_guest_handle(d.u.vcpucontext.ctxt, &ctx);
    check(area, "setvcpucontext vCPU 0", "%s", rc(domctl(d)));
    check(area, "new domain: online vCPUs after setvcpucontext", "%u",
          info(child, i) == 0 ? i.nr_online_vcpus : 99u);

    // Pause and unpause.
    check(area, "pausedomain self", "%s", rc(simple(XEN_DOMCTL_pausedomain, 0)));
    check(area, "pausedomain bad domid", "%s", rc(simple(XEN_DOMCTL_pausedomain, kNoSuchDomain)));
    check(area, "unpausedomain", "%s", rc(simple(XEN_DOMCTL_unpausedomain, child)));
    check(area, "unpausedomain again", "%s", rc(simple(XEN_DOMCTL_unpausedomain, child)));
    const bool ran = wait_for([&] { return read_child(page, kHeartbeat) > 0; });
    check(area, "the child runs", "%s", yes_no(ran));
    check(area, "the child's own domctl", "%s", rc(static_cast<long>(read_child(page, kAnswer))));

    check(area, "pausedomain", "%s", rc(simple(XEN_DOMCTL_pausedomain, child)));
    check(area, "paused domain: flag", "%s", yes_no(info(child, i) == 0 && has(i, XEN_DOMINF_paused)));
    const std::uint64_t before = read_child(page, kHeartbeat);
    for (unsigned k = 0; k < 2000; ++k) yield();
    check(area, "paused domain: heartbeat stands still", "%s", yes_no(read_child(page, kHeartbeat) == before));
    check(area, "unpausedomain after pause", "%s", rc(simple(XEN_DOMCTL_unpausedomain, child)));
    check(area, "unpaused domain: heartbeat moves", "%s",
          yes_no(wait_for([&] { return read_child(page, kHeartbeat) > before; })));

    // Shutdown leaves the domain for its toolstack to reap.
    write_child(page, kStop, 1);
    const bool down = wait_for([&] { return info(child, i) == 0 && has(i, XEN_DOMINF_shutdown); });
    check(area, "the child shuts down", "%s", yes_no(down));
    check(area, "shut-down domain: reason, dying", "%u %s",
          (i.flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask, yes_no(has(i, XEN_DOMINF_dying)));
    check(area, "remove_from_physmap the foreign page", "%s", rc(unmap(env.region_gfn(100))));

    // Destroy.
    check(area, "destroydomain self", "%s", rc(simple(XEN_DOMCTL_destroydomain, 0)));
    check(area, "destroydomain", "%s", rc(simple(XEN_DOMCTL_destroydomain, child)));
    const bool gone = wait_for([&] { return info(child, i) != 0 || i.domain != child; });
    check(area, "destroyed domain is gone", "%s", yes_no(gone));
    check(area, "destroydomain again", "%s", rc(simple(XEN_DOMCTL_destroydomain, child)));
    check(area, "unpausedomain destroyed", "%s", rc(simple(XEN_DOMCTL_unpausedomain, child)));
}

} // namespace abi
