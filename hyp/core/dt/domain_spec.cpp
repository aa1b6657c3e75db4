#include "dt/domain_spec.hpp"

#include "dt/boot_modules.hpp"
#include "dt/fdt_read.hpp"
#include "dt/xen_cmdline.hpp"

#include <libfdt.h>

namespace keel::dt {

namespace {

BootModule as_boot_module(const BootModuleNode& m) { return BootModule{m.base, m.size, true}; }

const BootModuleNode* module_at(const BootModules& mods, int node)
{
    for (unsigned i = 0; i < mods.count; ++i)
        if (mods.mod[i].node == node) return &mods.mod[i];
    return nullptr;
}

Status set_bootargs(DomainSpec& d, TextView args)
{
    if (!copy_text(d.bootargs, sizeof d.bootargs, args)) return Err(Errno::XEN_E2BIG);
    return {};
}

// `memory` in KiB. Xen reads exactly a 64-bit value; Keel also takes one cell.
Result<std::uint64_t> read_domain_memory(const void* fdt, int node)
{
    auto mem = prop_bytes(fdt, node, "memory");
    if (!mem || (mem->size != 4 && mem->size != 8)) return Err(Errno::XEN_EINVAL);
    const std::uint64_t kib = read_cells(mem->data, static_cast<unsigned>(mem->size / 4));
    if (kib == 0 || kib > (UINT64_MAX >> 10)) return Err(Errno::XEN_EINVAL);
    const std::uint64_t bytes = kib << 10;
    if (bytes % kPageSize != 0) return Err(Errno::XEN_EINVAL);
    return bytes;
}

// xen,enhanced as Xen reads it: an empty or unreadable value means "enabled".
Enhanced read_enhanced(const void* fdt, int node)
{
    auto p = prop_bytes(fdt, node, "xen,enhanced");
    if (!p) return Enhanced::None;
    const char* s = static_cast<const char*>(p->data);
    const std::size_t n = bounded_length(s, p->size);
    if (p->size == 0 || n == p->size) return Enhanced::Full;
    const TextView v{s, n};
    if (v.equals("enabled")) return Enhanced::Full;
    if (v.equals("no-xenstore")) return Enhanced::NoXenstore;
    return Enhanced::None;
}

Status parse_dom0(const void* fdt, const HostPlatform& host, const BootModules& mods, DomainSpec& d)
{
    const int chosen = fdt_path_offset(fdt, "/chosen");
    d = DomainSpec{};
    copy_text(d.name, sizeof d.name, "dom0");
    d.is_dom0 = true;

    const BootModuleNode* kernel_args = nullptr;  // the first dom0 kernel module with bootargs
    for (unsigned i = 0; i < mods.count; ++i) {
        const BootModuleNode& m = mods.mod[i];
        if (m.domu) continue;
        if (m.kind == ModuleKind::Kernel && !d.kernel.present) d.kernel = as_boot_module(m);
        if (m.kind == ModuleKind::Ramdisk && !d.ramdisk.present) d.ramdisk = as_boot_module(m);
        if (m.kind == ModuleKind::Kernel && m.has_bootargs && kernel_args == nullptr) kernel_args = &m;
    }
    if (!d.kernel.present || d.kernel.size == 0) return Err(Errno::XEN_ENOENT);

    // An initrd the bootloader put in /chosen comes first in Xen's module list.
    auto start = prop_bytes(fdt, chosen, "linux,initrd-start");
    auto end = prop_bytes(fdt, chosen, "linux,initrd-end");
    if (start && end) {
        if ((start->size != 4 && start->size != 8) || (end->size != 4 && end->size != 8)) return Err(Errno::XEN_EINVAL);
        const std::uint64_t s = read_cells(start->data, static_cast<unsigned>(start->size / 4));
        const std::uint64_t e = read_cells(end->data, static_cast<unsigned>(end->size / 4));
        if (s >= e) return Err(Errno::XEN_EINVAL);
        d.ramdisk = BootModule{PhysAddr(s), e - s, true};
    } else if (start || end) {
        return Err(Errno::XEN_EINVAL);
    }

    // Command line: xen,dom0-bootargs, else the kernel module's, else /chosen bootargs.
    auto dom0_args = prop_string(fdt, chosen, "xen,dom0-bootargs");
    if (dom0_args) {
        KEEL_TRY(set_bootargs(d, *dom0_args));
    } else if (dom0_args.error() != Errno::XEN_ENOENT) {
        return Err(dom0_args.error());
    } else if (kernel_args != nullptr && !kernel_args->bootargs.empty()) {
        KEEL_TRY(set_bootargs(d, kernel_args->bootargs));
    } else {
        auto plain = prop_string(fdt, chosen, "bootargs");
        if (plain) KEEL_TRY(set_bootargs(d, *plain));
        else if (plain.error() != Errno::XEN_ENOENT) return Err(plain.error());
    }

    TextView opt{};
    d.vcpus = host.nr_cpus;
    if (find_option(host.hyp_bootargs, "dom0_max_vcpus", opt)) {
        auto n = parse_number(opt);
        if (!n) return Err(Errno::XEN_EINVAL);
        if (*n != 0) d.vcpus = *n > kMaxGuestVcpus ? kMaxGuestVcpus : static_cast<unsigned>(*n);
    }

    d.mem_bytes = kDefaultDom0Mem;
    if (find_option(host.hyp_bootargs, "dom0_mem", opt)) {
        auto bytes = parse_size(opt);
        if (!bytes || *bytes % kPageSize != 0) return Err(Errno::XEN_EINVAL);
        if (*bytes != 0) d.mem_bytes = *bytes;
    }
    return {};
}

Status parse_domu(const void* fdt, int node, const BootModules& mods, bool have_dom0, DomainSpec& d)
{
    d = DomainSpec{};
    int len = 0;
    const char* name = fdt_get_name(fdt, node, &len);
    if (name == nullptr) return Err(Errno::XEN_EINVAL);
    if (!copy_text(d.name, sizeof d.name, TextView{name, static_cast<std::size_t>(len)}))
        return Err(Errno::XEN_ENAMETOOLONG);

    if (fdt_getprop(fdt, node, "xen,static-mem", nullptr) != nullptr ||
        fdt_getprop(fdt, node, "direct-map", nullptr) != nullptr)
        return Err(Errno::XEN_EOPNOTSUPP);

    auto cpus = prop_u32(fdt, node, "cpus");
    if (!cpus || *cpus == 0 || *cpus > kMaxGuestVcpus) return Err(Errno::XEN_EINVAL);
    d.vcpus = *cpus;

    auto mem = read_domain_memory(fdt, node);
    if (!mem) return Err(mem.error());
    d.mem_bytes = *mem;

    d.vpl011 = fdt_getprop(fdt, node, "vpl011", nullptr) != nullptr;
    d.enhanced = read_enhanced(fdt, node);
    // Xen panics here: full enhanced mode needs dom0 to run xenstore.
    if (d.enhanced == Enhanced::Full && !have_dom0) return Err(Errno::XEN_EINVAL);

    // Xen takes the last kernel and ramdisk child, and the first bootargs of any module.
    bool have_args = false;
    int child;
    fdt_for_each_subnode(child, fdt, node) {
        const BootModuleNode* m = module_at(mods, child);
        if (m == nullptr) continue;
        if (is_compatible(fdt, child, "multiboot,device-tree")) return Err(Errno::XEN_EOPNOTSUPP);
        if (is_compatible(fdt, child, "multiboot,kernel")) d.kernel = as_boot_module(*m);
        else if (is_compatible(fdt, child, "multiboot,ramdisk")) d.ramdisk = as_boot_module(*m);
        if (m->has_bootargs && !have_args) {
            KEEL_TRY(set_bootargs(d, m->bootargs));
            have_args = true;
        }
    }
    if (!d.kernel.present || d.kernel.size == 0) return Err(Errno::XEN_ENOENT);
    return {};
}

Status parse_all(const void* fdt, const HostPlatform& host, DomainSpec* out, unsigned max, unsigned& count)
{
    if (out == nullptr && max != 0) return Err(Errno::XEN_EINVAL);
    if (max > kMaxDomains) max = kMaxDomains;
    KEEL_TRY(check_tree(fdt));

    BootModules mods;
    KEEL_TRY(collect_boot_modules(fdt, mods));
    const int chosen = fdt_path_offset(fdt, "/chosen");
    if (chosen < 0) return Err(Errno::XEN_ENOENT);

    // Like Xen, there is a dom0 unless the only kernels belong to domUs.
    bool dom0_kernel = false, domu_kernel = false;
    for (unsigned i = 0; i < mods.count; ++i) {
        if (mods.mod[i].kind != ModuleKind::Kernel) continue;
        (mods.mod[i].domu ? domu_kernel : dom0_kernel) = true;
    }
    const bool have_dom0 = dom0_kernel || !domu_kernel;

    if (have_dom0) {
        if (count == max) return Err(Errno::XEN_ENOSPC);
        KEEL_TRY(parse_dom0(fdt, host, mods, out[count]));
        ++count;
    }
    int node;
    fdt_for_each_subnode(node, fdt, chosen) {
        if (!is_compatible(fdt, node, "xen,domain")) continue;
        if (count == max) return Err(Errno::XEN_ENOSPC);
        KEEL_TRY(parse_domu(fdt, node, mods, have_dom0, out[count]));
        ++count;
    }
    return {};
}

} // namespace

Status parse_domains(const void* fdt, const HostPlatform& host, DomainSpec* out, unsigned max, unsigned& count)
{
    count = 0;
    Status s = parse_all(fdt, host, out, max, count);
    if (!s) count = 0;
    return s;
}

} // namespace keel::dt
