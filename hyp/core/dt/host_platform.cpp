#include "dt/host_platform.hpp"

#include "dt/boot_modules.hpp"
#include "dt/fdt_read.hpp"
#include "dt/xen_cmdline.hpp"

#include <libfdt.h>

namespace keel::dt {

namespace {

constexpr std::uint64_t kMpidrHwidMask = 0xff00ffffffull;  // Aff3..Aff0

bool add_region(PhysRegion* table, unsigned& count, unsigned max, std::uint64_t base, std::uint64_t size)
{
    if (count == max) return false;
    table[count++] = PhysRegion{PhysAddr(base), size};
    return true;
}

void sort_by_base(PhysRegion* r, unsigned n)
{
    for (unsigned i = 1; i < n; ++i)
        for (unsigned j = i; j > 0 && r[j].base < r[j - 1].base; --j) {
            const PhysRegion t = r[j];
            r[j] = r[j - 1];
            r[j - 1] = t;
        }
}

// An optional string property: absent gives an empty view, malformed an error.
Result<TextView> optional_string(const void* fdt, int node, const char* name)
{
    auto s = prop_string(fdt, node, name);
    if (s) return *s;
    if (s.error() == Errno::XEN_ENOENT) return TextView{};
    return Err(s.error());
}

// Xen's precedence for its own command line (boot_fdt_cmdline).
Status read_hyp_bootargs(const void* fdt, const BootModules& mods, HostPlatform& out)
{
    out.hyp_bootargs[0] = '\0';
    const int chosen = fdt_path_offset(fdt, "/chosen");
    if (chosen < 0) return {};

    auto xen_args = prop_string(fdt, chosen, "xen,xen-bootargs");
    TextView args{};
    if (xen_args) {
        args = *xen_args;
    } else if (xen_args.error() != Errno::XEN_ENOENT) {
        return Err(xen_args.error());
    } else {
        bool dom0_has_own = fdt_getprop(fdt, chosen, "xen,dom0-bootargs", nullptr) != nullptr;
        for (unsigned i = 0; i < mods.count && !dom0_has_own; ++i) {
            const BootModuleNode& m = mods.mod[i];
            if (!m.domu && m.kind == ModuleKind::Kernel && m.has_bootargs) {
                dom0_has_own = !m.bootargs.empty();
                break;  // Xen looks at the first dom0 kernel command line only
            }
        }
        if (dom0_has_own) {
            auto plain = optional_string(fdt, chosen, "bootargs");
            if (!plain) return Err(plain.error());
            args = *plain;
        }
    }
    if (!copy_text(out.hyp_bootargs, sizeof out.hyp_bootargs, args)) return Err(Errno::XEN_E2BIG);
    return {};
}

Status read_memory(const void* fdt, HostPlatform& out)
{
    int node;
    fdt_for_each_subnode(node, fdt, 0) {
        if (!name_matches(fdt, node, "memory") || !is_available(fdt, node)) continue;
        auto count = reg_count(fdt, node);
        if (!count) return Err(Errno::XEN_EINVAL);
        for (unsigned i = 0; i < *count; ++i) {
            auto bank = reg_entry(fdt, node, i);
            if (!bank) return Err(bank.error());
            if (bank->size == 0) continue;  // some trees describe empty banks
            if (bank->base + bank->size < bank->base) return Err(Errno::XEN_EINVAL);
            if (!add_region(out.memory, out.nr_memory, kMaxMemBanks, bank->base, bank->size))
                return Err(Errno::XEN_ENOSPC);
        }
    }
    if (out.nr_memory == 0) return Err(Errno::XEN_ENOENT);
    sort_by_base(out.memory, out.nr_memory);
    return {};
}

Status read_cpus(const void* fdt, HostPlatform& out)
{
    const int cpus = fdt_path_offset(fdt, "/cpus");
    if (cpus < 0) return Err(Errno::XEN_ENOENT);

    unsigned seen = 0;
    int node;
    fdt_for_each_subnode(node, fdt, cpus) {
        auto type = prop_string(fdt, node, "device_type");
        if (!type || !type->equals("cpu")) continue;
        auto reg = reg_entry(fdt, node, 0);
        if (!reg) return Err(Errno::XEN_EINVAL);
        const std::uint64_t mpidr = reg->base;
        if ((mpidr & ~kMpidrHwidMask) != 0) return Err(Errno::XEN_EINVAL);
        for (unsigned i = 0; i < out.nr_cpus; ++i)
            if (out.cpu_mpidr[i] == mpidr) return Err(Errno::XEN_EINVAL);

        if (seen++ == 0) {
            // The guest's CPUs copy the first host CPU's compatible, as Xen's do.
            auto compat = prop_bytes(fdt, node, "compatible");
            if (!compat) return Err(compat.error() == Errno::XEN_ENOENT ? Errno::XEN_ENOENT : Errno::XEN_EINVAL);
            const char* c = static_cast<const char*>(compat->data);
            if (compat->size == 0 || c[compat->size - 1] != '\0') return Err(Errno::XEN_EINVAL);
            if (compat->size > sizeof out.cpu_compatible) return Err(Errno::XEN_E2BIG);
            for (std::size_t i = 0; i < compat->size; ++i) out.cpu_compatible[i] = c[i];
            out.cpu_compatible_len = compat->size;

            // Xen reads the first cell, whatever the property's width.
            auto freq = prop_bytes(fdt, node, "clock-frequency");
            if (freq && freq->size >= 4) out.cpu_clock_frequency = static_cast<std::uint32_t>(read_cells(freq->data, 1));
        }
        if (out.nr_cpus < kMaxCpus) out.cpu_mpidr[out.nr_cpus++] = mpidr;
    }
    if (out.nr_cpus == 0) return Err(Errno::XEN_ENOENT);
    return {};
}

enum class GicKind : std::uint8_t { None, V2, V3 };

GicKind gic_kind(const void* fdt, int node)
{
    if (fdt_getprop(fdt, node, "interrupt-controller", nullptr) == nullptr) return GicKind::None;
    if (is_compatible(fdt, node, "arm,gic-v3")) return GicKind::V3;
    if (is_compatible(fdt, node, "arm,gic-400") || is_compatible(fdt, node, "arm,cortex-a15-gic") ||
        is_compatible(fdt, node, "arm,cortex-a7-gic"))
        return GicKind::V2;
    return GicKind::None;
}

// Entry `index` of the GIC's reg if present; 0 if the list is shorter.
Result<RegEntry> optional_reg(const void* fdt, int node, unsigned index, unsigned count)
{
    if (index >= count) return RegEntry{0, 0};
    return reg_cpu_address(fdt, node, index);
}

Result<int> read_gic(const void* fdt, HostPlatform& out)
{
    int gic = -1;
    GicKind kind = GicKind::None;
    for (int node = fdt_next_node(fdt, -1, nullptr); node >= 0; node = fdt_next_node(fdt, node, nullptr)) {
        kind = gic_kind(fdt, node);
        if (kind != GicKind::None) {
            gic = node;
            break;
        }
    }
    if (gic < 0) return Err(Errno::XEN_ENODEV);

    auto count = reg_count(fdt, gic);
    if (!count) return Err(Errno::XEN_EINVAL);
    HostGic& g = out.gic;
    auto gicd = reg_cpu_address(fdt, gic, 0);
    if (!gicd) return Err(gicd.error());
    g.gicd = PhysAddr(gicd->base);

    // GICv3: GICD, the redistributor regions, then optional GICC, GICH, GICV.
    // GICv2: GICD, GICC, then optional GICH, GICV.
    unsigned next = 1;
    if (kind == GicKind::V3) {
        g.version = 3;
        unsigned nr_rdist = 1;
        auto n = prop_u32(fdt, gic, "#redistributor-regions");
        if (n) nr_rdist = *n;
        else if (n.error() != Errno::XEN_ENOENT) return Err(n.error());
        if (nr_rdist == 0 || 1 + nr_rdist > *count) return Err(Errno::XEN_EINVAL);
        auto gicr = reg_cpu_address(fdt, gic, 1);
        if (!gicr) return Err(gicr.error());
        g.gicr = PhysAddr(gicr->base);
        g.gicr_size = gicr->size;
        next = 1 + nr_rdist;
    } else {
        g.version = 2;
        if (*count < 2) return Err(Errno::XEN_EINVAL);
        auto gicc = reg_cpu_address(fdt, gic, 1);
        if (!gicc) return Err(gicc.error());
        g.gicc = PhysAddr(gicc->base);
        next = 2;
    }
    PhysAddr* tail[3] = {&g.gicc, &g.gich, &g.gicv};
    for (unsigned i = kind == GicKind::V3 ? 0 : 1; i < 3; ++i, ++next) {
        auto r = optional_reg(fdt, gic, next, *count);
        if (!r) return Err(r.error());
        *tail[i] = PhysAddr(r->base);
    }

    auto maint = gic_interrupt(fdt, gic, 0, gic);
    if (maint) g.maintenance_intid = *maint;
    else if (maint.error() != Errno::XEN_ENOENT) return Err(maint.error());
    return gic;
}

Status read_timer(const void* fdt, int gic, HostPlatform& out)
{
    int timer = fdt_node_offset_by_compatible(fdt, -1, "arm,armv8-timer");
    if (timer < 0) timer = fdt_node_offset_by_compatible(fdt, -1, "arm,armv7-timer");
    if (timer < 0) return Err(Errno::XEN_ENODEV);

    // The binding's order: secure physical, non-secure physical, virtual, hypervisor.
    unsigned intid[4];
    for (unsigned i = 0; i < 4; ++i) {
        auto irq = gic_interrupt(fdt, timer, i, gic);
        if (!irq) return Err(Errno::XEN_EINVAL);
        intid[i] = *irq;
    }
    out.timer.phys_intid = intid[1];
    out.timer.virt_intid = intid[2];
    out.timer.hyp_intid = intid[3];

    auto freq = prop_u32(fdt, timer, "clock-frequency");
    if (freq) out.timer.clock_frequency = *freq;
    else if (freq.error() != Errno::XEN_ENOENT) return Err(freq.error());
    return {};
}

Status read_psci(const void* fdt, HostPlatform& out)
{
    int psci = fdt_node_offset_by_compatible(fdt, -1, "arm,psci-1.0");
    if (psci < 0) psci = fdt_node_offset_by_compatible(fdt, -1, "arm,psci-0.2");
    if (psci < 0) psci = fdt_node_offset_by_compatible(fdt, -1, "arm,psci");
    if (psci < 0) return Err(Errno::XEN_ENODEV);
    auto method = prop_string(fdt, psci, "method");
    if (!method) return Err(Errno::XEN_EINVAL);
    if (method->equals("smc")) out.psci_smc = true;
    else if (method->equals("hvc")) out.psci_smc = false;
    else return Err(Errno::XEN_EINVAL);
    return {};
}

// The console: Xen's dtuart rules (see the header).
Status read_console(const void* fdt, int gic, HostPlatform& out)
{
    TextView console{"dtuart", 6};
    find_option(out.hyp_bootargs, "console", console);
    if (!list_contains(console, "dtuart")) return {};

    TextView path{};
    find_option(out.hyp_bootargs, "dtuart", path);
    if (path.empty()) {
        const int chosen = fdt_path_offset(fdt, "/chosen");
        if (chosen < 0) return {};
        auto stdout_path = optional_string(fdt, chosen, "stdout-path");
        if (!stdout_path) return Err(stdout_path.error());
        path = *stdout_path;
        if (path.empty()) {
            auto legacy = optional_string(fdt, chosen, "linux,stdout-path");
            if (!legacy) return Err(legacy.error());
            path = *legacy;
        }
    }
    std::size_t len = 0;
    while (len < path.size && path.data[len] != ':') ++len;
    if (len == 0) return {};

    // A path, or an alias when it does not start with '/'.
    const int uart = fdt_path_offset_namelen(fdt, path.data, static_cast<int>(len));
    if (uart < 0) return {};
    if (!is_compatible(fdt, uart, "arm,pl011") && !is_compatible(fdt, uart, "arm,sbsa-uart")) return {};

    auto reg = reg_cpu_address(fdt, uart, 0);
    if (!reg) return Err(reg.error() == Errno::XEN_ENXIO ? Errno::XEN_ENXIO : Errno::XEN_EINVAL);
    auto irq = gic_interrupt(fdt, uart, 0, gic);
    if (!irq) return Err(irq.error());
    out.uart = PhysAddr(reg->base);
    out.uart_intid = *irq;
    return {};
}

Status read_reserved(const void* fdt, PhysAddr fdt_paddr, const BootModules& mods, HostPlatform& out)
{
    auto add = [&](std::uint64_t base, std::uint64_t size) -> Status {
        if (size == 0) return {};
        if (base + size < base) return Err(Errno::XEN_EINVAL);
        if (!add_region(out.reserved, out.nr_reserved, kMaxReserved, base, size)) return Err(Errno::XEN_ENOSPC);
        return {};
    };

    const int nr_rsv = fdt_num_mem_rsv(fdt);
    if (nr_rsv < 0) return Err(Errno::XEN_EINVAL);
    for (int i = 0; i < nr_rsv; ++i) {
        std::uint64_t base = 0, size = 0;
        if (fdt_get_mem_rsv(fdt, i, &base, &size) != 0) return Err(Errno::XEN_EINVAL);
        KEEL_TRY(add(base, size));
    }

    // Every node below /reserved-memory with a reg (nodes with only `size`
    // ask the OS to allocate; Xen ignores them too).
    int resv = -1;
    int top;
    fdt_for_each_subnode(top, fdt, 0) {
        int len = 0;
        const char* name = fdt_get_name(fdt, top, &len);
        if (name != nullptr && TextView{name, static_cast<std::size_t>(len)}.equals("reserved-memory")) {
            resv = top;
            break;
        }
    }
    if (resv >= 0) {
        int depth = 0;
        for (int n = fdt_next_node(fdt, resv, &depth); n >= 0 && depth > 0; n = fdt_next_node(fdt, n, &depth)) {
            if (!is_available(fdt, n) || fdt_getprop(fdt, n, "reg", nullptr) == nullptr) continue;
            auto count = reg_count(fdt, n);
            if (!count) return Err(Errno::XEN_EINVAL);
            for (unsigned i = 0; i < *count; ++i) {
                auto r = reg_entry(fdt, n, i);
                if (!r) return Err(r.error());
                KEEL_TRY(add(r->base, r->size));
            }
        }
    }

    for (unsigned i = 0; i < mods.count; ++i) KEEL_TRY(add(mods.mod[i].base.raw(), mods.mod[i].size));

    // An initrd the bootloader put in /chosen is a boot module to Xen as well.
    const int chosen = fdt_path_offset(fdt, "/chosen");
    if (chosen >= 0) {
        auto start = prop_bytes(fdt, chosen, "linux,initrd-start");
        auto end = prop_bytes(fdt, chosen, "linux,initrd-end");
        if (start && end) {
            if ((start->size != 4 && start->size != 8) || (end->size != 4 && end->size != 8))
                return Err(Errno::XEN_EINVAL);
            const std::uint64_t s = read_cells(start->data, static_cast<unsigned>(start->size / 4));
            const std::uint64_t e = read_cells(end->data, static_cast<unsigned>(end->size / 4));
            if (s >= e) return Err(Errno::XEN_EINVAL);
            KEEL_TRY(add(s, e - s));
        } else if (start || end) {
            return Err(Errno::XEN_EINVAL);
        }
    }

    KEEL_TRY(add(fdt_paddr.raw(), fdt_totalsize(fdt)));
    return {};
}

} // namespace

Status parse_host_platform(const void* fdt, PhysAddr fdt_paddr, HostPlatform& out)
{
    KEEL_TRY(check_tree(fdt));
    out = HostPlatform{};

    BootModules mods;
    KEEL_TRY(collect_boot_modules(fdt, mods));
    KEEL_TRY(read_hyp_bootargs(fdt, mods, out));
    KEEL_TRY(read_memory(fdt, out));
    KEEL_TRY(read_cpus(fdt, out));
    auto gic = read_gic(fdt, out);
    if (!gic) return Err(gic.error());
    KEEL_TRY(read_timer(fdt, *gic, out));
    KEEL_TRY(read_psci(fdt, out));
    KEEL_TRY(read_console(fdt, *gic, out));
    KEEL_TRY(read_reserved(fdt, fdt_paddr, mods, out));
    return {};
}

} // namespace keel::dt
