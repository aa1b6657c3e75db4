// Building a boot-time domain: memory, stage-2, images, device tree, vCPU 0.
// The placement follows Xen 4.17 so a guest finds things where Xen puts them:
// RAM at 0x40000000, the kernel at RAM + text_offset, the device tree and
// initrd near the top of the first 512 MiB.
#include "cache.hpp"
#include "console.hpp"
#include "domain.hpp"
#include "hyp_memory.hpp"
#include "pcpu.hpp"
#include "scheduler.hpp"
#include "sysreg.hpp"
#include "vcpu_context.hpp"

#include "dt/domain_spec.hpp"
#include "dt/guest_fdt.hpp"
#include "dt/host_platform.hpp"
#include "mm/stage2_format.hpp"

#include "evtchn/shared_layout.hpp"

#include <keel/format.hpp>

#include <cstring>
#include <xen/hvm/params.h>
#include <xen/xen.h>

namespace keel::arch {

Domain domains[kMaxDomains];

namespace {
constexpr std::uint64_t MiB = 1ull << 20;
constexpr std::uint64_t kImageMagic = 0x644d5241;  // "ARM\x64"
unsigned next_pcpu = 0;
constexpr std::uint16_t kPickDomid = DOMID_INVALID;
std::uint16_t next_domid = 1;
alignas(16) std::uint8_t fdt_scratch[64 * 1024];

struct ImageHeader {
    std::uint32_t code0, code1;
    std::uint64_t text_offset, image_size, flags, res2, res3, res4;
    std::uint32_t magic, res5;
};

// Copies into the guest's RAM at `ipa`, which the caller has range-checked.
void copy_to_guest(Domain& d, IpAddr ipa, const void* src, std::uint64_t size)
{
    const std::uint64_t pa = d.ram_pa.raw() + (ipa - guest_layout::kRam0);
    std::memcpy(reinterpret_cast<void*>(pa), src, size);
    clean_dcache_to_poc(pa, size);
}

Result<IpAddr> load_kernel(Domain& d, const dt::BootModule& k)
{
    const auto* h = phys_to_ptr<const ImageHeader>(k.base);
    if (k.size < sizeof(ImageHeader) || h->magic != kImageMagic) {
        printk("%s: kernel module is not an arm64 Image\n", d.name);
        return Err(Errno::XEN_ENOEXEC);
    }
    // Old kernels (image_size == 0) have an unreliable text_offset: the boot protocol says 0x80000.
    const std::uint64_t text_offset = h->image_size == 0 ? 0x80000 : h->text_offset;
    const std::uint64_t footprint = h->image_size > k.size ? h->image_size : k.size;
    if (text_offset + footprint > d.ram_size) return Err(Errno::XEN_ENOMEM);
    const IpAddr at = guest_layout::kRam0 + text_offset;
    copy_to_guest(d, at, phys_to_ptr(k.base), k.size);
    return at;
}

Status setup_memory(Domain& d, std::uint64_t bytes)
{
    KEEL_TRY(domain_reserve_ram(d, bytes));
    d.max_pages = d.ram_size >> kPageShift;
    return d.s2.map(guest_layout::kRam0, d.ram_pa, d.ram_size, mm::MemType::Normal, {});
}

Status setup_devices(Domain& d, const dt::HostPlatform& host)
{
    vgic::Layout layout{};
    layout.version = host.gic.version == 3 ? vgic::GicVersion::V3 : vgic::GicVersion::V2;
    layout.gicd = guest_layout::kGicd;
    layout.gicr = guest_layout::kGicr;
    d.vgic.init(layout, d.nr_vcpus, &d);
    if (host.gic.version == 2) {
        // The guest's CPU interface is the hardware's virtual CPU interface.
        KEEL_TRY(d.s2.map(guest_layout::kGicc, host.gic.gicv, guest_layout::kGiccSize, mm::MemType::Device, {}));
    }
    if (d.has_vpl011) d.vpl011.init(&d);
    return {};
}

Result<std::size_t> write_device_tree(Domain& d, const dt::DomainSpec& spec, const dt::HostPlatform& host, IpAddr initrd,
                                     std::uint64_t initrd_size)
{
    dt::GuestFdtParams p{};
    p.memory[0] = {guest_layout::kRam0, d.ram_size};
    p.nr_memory = 1;
    p.vcpus = d.nr_vcpus;
    p.cpu_compatible = host.cpu_compatible;
    p.cpu_compatible_len = host.cpu_compatible_len;
    p.cpu_clock_frequency = host.cpu_clock_frequency;
    p.timer_clock_frequency = host.timer.clock_frequency;
    p.gic_version = host.gic.version;
    if (host.gic.version == 3) {
        p.gicd = {guest_layout::kGicd, guest_layout::kGicdSizeV3};
        p.gicr_or_gicc = {guest_layout::kGicr, guest_layout::kGicrStride * d.nr_vcpus};
    } else {
        p.gicd = {guest_layout::kGicd, guest_layout::kGicdSizeV2};
        p.gicr_or_gicc = {guest_layout::kGicc, guest_layout::kGiccSize};
    }
    p.vpl011 = d.has_vpl011;
    p.vpl011_base = guest_layout::kVpl011;
    p.vpl011_intid = guest_layout::kVpl011Intid;
    p.bootargs = spec.bootargs;
    p.initrd = {initrd, initrd_size};
    // The hypervisor node, as Xen 4.17 gives a domU with xen,enhanced (dom0 always has it):
    // the grant-table window first, then the unused parts of the RAM windows.
    p.xen_node = spec.is_dom0 || spec.enhanced != dt::Enhanced::None;
    p.xen_regions[0] = {guest_layout::kGrantTable, guest_layout::kGrantTableSize};
    const std::uint64_t used[2] = {d.ram_size, 0};
    p.nr_xen_regions = 1 + dt::xen_extended_regions(used, mm::s2::kIpaBits, p.xen_regions + 1, 3);
    p.evtchn_ppi = guest_layout::kEventPpi;
    return dt::build_guest_fdt(fdt_scratch, sizeof fdt_scratch, p);
}

// What every domain has from birth: shared_info, event channels, a grant table,
// the upcall parameter, the virtual GIC (and the vpl011 if it has one).
Status setup_xen_state(Domain& d, const dt::HostPlatform& host)
{
    auto si = page_allocator().alloc(1);
    if (!si) return Err(si.error());
    d.shared_info = *si;
    zero_memory(si->raw(), kPageSize);
    KEEL_TRY(d.events.init(DomainId(d.id), phys_to_ptr<evtchn::SharedInfo>(d.shared_info), d.nr_vcpus));
    KEEL_TRY(domain_activate_grants(d));
    // The event upcall, as HVM_PARAM_CALLBACK_IRQ reports it on Arm: type PPI, the INTID.
    // Xen 4.17 fills it in for its dom0 only (domUs read the PPI from the DT node).
    if (d.privileged)
        d.hvm_params[HVM_PARAM_CALLBACK_IRQ] = std::uint64_t(HVM_PARAM_CALLBACK_TYPE_PPI) << 56 | guest_layout::kEventPpi;
    return setup_devices(d, host);
}

// vCPUs, pinned round-robin over the physical CPUs, all offline.
Status add_vcpus(Domain& d)
{
    for (unsigned i = 0; i < d.nr_vcpus; ++i) {
        Vcpu& v = d.vcpus[i];
        v.domain = &d;
        v.id = i;
        v.pcpu = next_pcpu++ % nr_pcpus;
        vcpu_reset(v, 0, 0);
        v.sched.state = sched::State::Offline;
        v.sched.paused = d.controller_pauses != 0;
        Pcpu& p = pcpus[v.pcpu];
        LockGuard g(p.rq.lock);
        KEEL_TRY(p.rq.add(&v.sched));
    }
    return {};
}

Status build(Domain& d, const dt::DomainSpec& spec, const dt::HostPlatform& host)
{
    KEEL_TRY(d.s2.init(table_memory()));
    KEEL_TRY(setup_memory(d, spec.mem_bytes));
    KEEL_TRY(setup_xen_state(d, host));

    auto entry = load_kernel(d, spec.kernel);
    if (!entry) return Err(entry.error());

    // Device tree and initrd at the top of the first 512 MiB (below the kernel's reach limits).
    const std::uint64_t low = d.ram_size < 512 * MiB ? d.ram_size : 512 * MiB;
    const IpAddr low_end = guest_layout::kRam0 + low;
    const IpAddr fdt_at = (low_end - sizeof fdt_scratch).align_down(2 * MiB);
    IpAddr initrd_at{0};
    std::uint64_t initrd_size = 0;
    if (spec.ramdisk.present) {
        initrd_size = spec.ramdisk.size;
        initrd_at = (fdt_at - initrd_size).align_down(kPageSize);
        if (initrd_at < *entry + spec.kernel.size || initrd_at < guest_layout::kRam0) return Err(Errno::XEN_ENOMEM);
        copy_to_guest(d, initrd_at, phys_to_ptr(spec.ramdisk.base), initrd_size);
    }
    auto fdt_size = write_device_tree(d, spec, host, initrd_at, initrd_size);
    if (!fdt_size) return Err(fdt_size.error());
    if (fdt_at < *entry + spec.kernel.size) return Err(Errno::XEN_ENOMEM);
    copy_to_guest(d, fdt_at, fdt_scratch, *fdt_size);
    invalidate_icache_all();

    // Only vCPU 0 starts; the others wait for PSCI CPU_ON.
    KEEL_TRY(add_vcpus(d));
    {
        Vcpu& v0 = d.vcpus[0];
        LockGuard g(pcpus[v0.pcpu].rq.lock);
        vcpu_reset(v0, entry->raw(), fdt_at.raw());
        v0.sched.state = sched::State::Runnable;
    }
    printk("d%u (%s): %lu MiB at %lx, %u vCPU(s), kernel at %lx, dtb at %lx%s\n", d.id, d.name, d.ram_size / MiB,
           d.ram_pa.raw(), d.nr_vcpus, entry->raw(), fdt_at.raw(), d.has_vpl011 ? ", vpl011" : "");
    return {};
}

// A free slot in the domain table, claimed (state Running) under the table lock,
// with id `wanted_id` or, for kPickDomid, the next free one.
Result<Domain*> claim_slot(std::uint16_t wanted_id)
{
    LockGuard g(domain_table_lock);
    for (const Domain& o : domains)
        if (o.state != DomainState::Free && o.id == wanted_id) return Err(Errno::XEN_EEXIST);
    for (unsigned slot = 0; slot < kMaxDomains; ++slot) {
        Domain& d = domains[slot];
        if (d.state != DomainState::Free) continue;
        if (wanted_id != kPickDomid) {
            d.id = wanted_id;
        } else {
            // The next unused id after the last one given, as Xen's allocator does.
            for (;;) {
                const std::uint16_t id = next_domid;
                next_domid = next_domid + 1u >= DOMID_FIRST_RESERVED ? 1 : static_cast<std::uint16_t>(next_domid + 1);
                bool used = false;
                for (const Domain& o : domains) used |= o.state != DomainState::Free && o.id == id;
                if (!used) {
                    d.id = id;
                    break;
                }
            }
        }
        d.vmid = static_cast<std::uint16_t>(slot + 1);
        d.cntvoff = sysreg::cntpct_el0::read();
        d.state = DomainState::Running;
        return &d;
    }
    return Err(Errno::XEN_ENOSPC);
}

// Undoes a half-built domain.
void abandon(Domain& d)
{
    d.state = DomainState::Dying;
    domain_release(d);
}
} // namespace

Spinlock domain_table_lock;

Status domain_reserve_ram(Domain& d, std::uint64_t bytes)
{
    if (bytes == 0 || bytes > guest_layout::kRam0MaxSize) return Err(Errno::XEN_EINVAL);
    if (d.ram_size != 0) return Err(Errno::XEN_EBUSY);
    bytes = (bytes + 2 * MiB - 1) & ~(2 * MiB - 1);
    auto ram = page_allocator().alloc(bytes / kPageSize, 2 * MiB);
    if (!ram) return Err(ram.error());
    // A domain never sees what a previous one left in this memory.
    zero_memory(ram->raw(), bytes);
    d.ram_pa = *ram;
    d.ram_size = bytes;
    return {};
}

Result<Domain*> domain_create_controlled(const ControlledDomainConfig& cfg)
{
    if (cfg.max_vcpus == 0 || cfg.max_vcpus > kMaxVcpusPerDomain || cfg.max_vcpus > vgic::kMaxVcpus)
        return Err(Errno::XEN_EINVAL);
    auto slot = claim_slot(cfg.domid == 0 || cfg.domid >= DOMID_FIRST_RESERVED ? kPickDomid : cfg.domid);
    if (!slot) return Err(slot.error());
    Domain& d = **slot;
    format(d.name, sizeof d.name, "d%u", d.id);
    d.toolstack_managed = true;
    d.vcpus_created = false;
    d.aarch64 = false;  // as on Xen/Arm: 32-bit until XEN_DOMCTL_set_address_size
    d.controller_pauses = 1;
    d.nr_vcpus = cfg.max_vcpus;
    for (unsigned i = 0; i < 16; ++i) d.handle[i] = cfg.handle[i];
    Status s = d.s2.init(table_memory());
    if (s) s = setup_xen_state(d, host_platform());
    if (s) s = add_vcpus(d);
    if (!s) {
        abandon(d);
        return Err(s.error());
    }
    printk("d%u: created by the control domain, %u vCPU(s)\n", d.id, d.nr_vcpus);
    return &d;
}

Result<Domain*> domain_create(const dt::DomainSpec& spec, const dt::HostPlatform& host)
{
    if (spec.vcpus == 0 || spec.vcpus > kMaxVcpusPerDomain || spec.vcpus > vgic::kMaxVcpus) return Err(Errno::XEN_EINVAL);
    if (!spec.kernel.present) return Err(Errno::XEN_EINVAL);
    // dom0 is 0; boot domUs are numbered from 1 in the order they are described.
    auto slot = claim_slot(spec.is_dom0 ? 0 : kPickDomid);
    if (!slot) return Err(slot.error());
    Domain* d = *slot;
    d->privileged = spec.is_dom0;
    std::strncpy(d->name, spec.name, sizeof d->name - 1);
    d->nr_vcpus = spec.vcpus;
    // Keel keeps the physical UART for itself and passes no devices through yet, so
    // dom0 gets the emulated UART as its console too (Xen's dom0 uses hvc0 instead).
    d->has_vpl011 = spec.vpl011 || spec.is_dom0;
    const Status s = build(*d, spec, host);
    if (!s) {
        printk("%s: cannot build domain: %s\n", spec.name, errno_name(s.error()));
        abandon(*d);
        return Err(s.error());
    }
    return d;
}

} // namespace keel::arch

namespace keel::arch {

Status domain_map_page(Domain& d, std::uint64_t gfn, PhysAddr page, std::uint64_t* previous_gfn)
{
    LockGuard g(d.p2m_lock);
    const IpAddr at(gfn << kPageShift);
    if (gfn >= (1ull << (mm::s2::kIpaBits - kPageShift))) return Err(Errno::XEN_EINVAL);
    // Never over a device the hypervisor placed (GIC CPU interface): only RAM or holes.
    if (auto t = d.s2.translate(at); t.ok() && t->type != mm::MemType::Normal) return Err(Errno::XEN_EINVAL);
    if (previous_gfn && *previous_gfn != ~0ull) {
        KEEL_TRY(d.s2.unmap(IpAddr(*previous_gfn << kPageShift), kPageSize));
        *previous_gfn = ~0ull;
    }
    KEEL_TRY(d.s2.unmap(at, kPageSize));
    domain_flush_tlb(d);
    KEEL_TRY(d.s2.map(at, page, kPageSize, mm::MemType::Normal, {true, true, false}));
    if (previous_gfn) *previous_gfn = gfn;
    return {};
}

} // namespace keel::arch
