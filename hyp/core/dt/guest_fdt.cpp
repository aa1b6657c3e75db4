#include "dt/guest_fdt.hpp"

#include "dt/text.hpp"

#include <keel/format.hpp>

#include <libfdt.h>

namespace keel::dt {

namespace {

constexpr unsigned kRootAddressCells = 2;  // Xen's GUEST_ROOT_ADDRESS_CELLS
constexpr unsigned kRootSizeCells = 2;     // GUEST_ROOT_SIZE_CELLS

// Xen's guest timer PPIs (GUEST_TIMER_PHYS_S_PPI, _PHYS_NS_PPI, _VIRT_PPI).
constexpr unsigned kTimerSecurePhysIntid = 29;
constexpr unsigned kTimerPhysIntid = 30;
constexpr unsigned kTimerVirtIntid = 27;

// Interrupt trigger flags of the GIC binding, and the CPU mask Xen always
// writes for PPIs (0xf, whatever the GIC version or vCPU count).
constexpr std::uint32_t kLevelHigh = 4;
constexpr std::uint32_t kLevelLow = 8;
constexpr std::uint32_t kAllCpus = 0xf;

constexpr std::size_t kMaxStringProp = 4096;  // longer than any command line the guest could be given

constexpr std::uint32_t kPsciCpuOff = 1;  // the legacy PSCI 0.1 function ids Xen advertises
constexpr std::uint32_t kPsciCpuOn = 2;

constexpr char kPsciCompatible[] = "arm,psci-1.0\0arm,psci-0.2\0arm,psci";
constexpr char kXenCompatible[] = "xen,xen-4.17\0xen,xen";  // Linux wants the versioned string first

// Xen's guest RAM windows (GUEST_RAM0_*, GUEST_RAM1_* in public/arch-arm.h).
constexpr std::uint64_t kRamWindowBase[2] = {0x40000000ull, 0x200000000ull};
constexpr std::uint64_t kRamWindowSize[2] = {0xc0000000ull, 0xfe00000000ull};

// One interrupt specifier: <type number flags>, type 0 for SPIs, 1 for PPIs.
struct GicIrq {
    fdt32_t cells[3];
};

GicIrq gic_irq(unsigned intid, std::uint32_t trigger)
{
    const bool ppi = intid < 32;
    return GicIrq{{cpu_to_fdt32(ppi ? 1 : 0), cpu_to_fdt32(intid - (ppi ? 16 : 32)),
                   cpu_to_fdt32((kAllCpus << 8) | trigger)}};
}

// Xen's virtual MPIDR affinity: 16 vCPUs per Aff0 cluster, then Aff1.
std::uint32_t vcpu_affinity(unsigned vcpu) { return (vcpu & 0xf) | (((vcpu >> 4) & 0xff) << 8); }

// Sequential-write calls in order; the first libfdt error sticks and the rest
// become no-ops, so the node layout below reads top to bottom.
class Writer {
public:
    explicit Writer(void* fdt) : fdt_(fdt) {}

    int error() const { return err_; }
    void check(int r)
    {
        if (err_ == 0 && r < 0) err_ = r;
    }

    void begin(const char* name)
    {
        if (err_ == 0) check(fdt_begin_node(fdt_, name));
    }
    void begin_at(const char* prefix, std::uint64_t unit)
    {
        char name[48];
        format(name, sizeof name, "%s@%llx", prefix, static_cast<unsigned long long>(unit));
        begin(name);
    }
    void end()
    {
        if (err_ == 0) check(fdt_end_node(fdt_));
    }
    void bytes(const char* name, const void* v, std::size_t len)
    {
        if (err_ == 0) check(fdt_property(fdt_, name, v, static_cast<int>(len)));
    }
    void empty(const char* name) { bytes(name, nullptr, 0); }
    void string(const char* name, const char* v) { bytes(name, v, bounded_length(v, kMaxStringProp) + 1); }
    void cell(const char* name, std::uint32_t v)
    {
        const fdt32_t be = cpu_to_fdt32(v);
        bytes(name, &be, sizeof be);
    }
    void u64(const char* name, std::uint64_t v)
    {
        const fdt64_t be = cpu_to_fdt64(v);
        bytes(name, &be, sizeof be);
    }
    // `reg` with the root's 2+2 cells: (base, size) pairs.
    template <unsigned N>
    void reg(const IpRegion (&r)[N], unsigned n)
    {
        fdt64_t cells[N * 2];
        for (unsigned i = 0; i < n; ++i) {
            cells[i * 2] = cpu_to_fdt64(r[i].base.raw());
            cells[i * 2 + 1] = cpu_to_fdt64(r[i].size);
        }
        bytes("reg", cells, n * 2 * sizeof(fdt64_t));
    }
    template <unsigned N>
    void interrupts(const GicIrq (&irqs)[N])
    {
        bytes("interrupts", irqs, sizeof irqs);
        cell("interrupt-parent", kGuestGicPhandle);
    }

private:
    void* fdt_;
    int err_ = 0;
};

Status validate(const GuestFdtParams& p)
{
    if (p.nr_memory == 0 || p.nr_memory > 2) return Err(Errno::XEN_EINVAL);
    for (unsigned i = 0; i < p.nr_memory; ++i)
        if (p.memory[i].size == 0) return Err(Errno::XEN_EINVAL);
    if (p.vcpus == 0 || p.vcpus > kGuestMaxVcpus) return Err(Errno::XEN_EINVAL);
    if (p.cpu_compatible == nullptr) return Err(Errno::XEN_EINVAL);
    if (p.cpu_compatible_len == 0 ? bounded_length(p.cpu_compatible, kMaxStringProp) == kMaxStringProp
                                  : (p.cpu_compatible_len > kMaxStringProp ||
                                     p.cpu_compatible[p.cpu_compatible_len - 1] != '\0'))
        return Err(Errno::XEN_EINVAL);
    if (p.bootargs != nullptr && bounded_length(p.bootargs, kMaxStringProp) == kMaxStringProp) return Err(Errno::XEN_EINVAL);
    if (p.gic_version != 2 && p.gic_version != 3) return Err(Errno::XEN_EINVAL);
    if (p.vpl011 && (p.vpl011_intid < 32 || p.vpl011_intid > 1019)) return Err(Errno::XEN_EINVAL);
    if (p.xen_node) {
        if (p.nr_xen_regions == 0 || p.nr_xen_regions > 4) return Err(Errno::XEN_EINVAL);
        if (p.evtchn_ppi < 16 || p.evtchn_ppi > 31) return Err(Errno::XEN_EINVAL);
    }
    return {};
}

void write_chosen(Writer& w, const GuestFdtParams& p)
{
    w.begin("chosen");
    if (p.bootargs != nullptr && p.bootargs[0] != '\0') w.string("bootargs", p.bootargs);
    // Always present, 0/0 without an initrd: Xen 4.17's behaviour (see the header).
    const std::uint64_t start = p.initrd.size != 0 ? p.initrd.base.raw() : 0;
    const std::uint64_t end = p.initrd.size != 0 ? p.initrd.base.raw() + p.initrd.size : 0;
    w.u64("linux,initrd-start", start);
    w.u64("linux,initrd-end", end);
    w.end();
}

void write_psci(Writer& w)
{
    w.begin("psci");
    w.bytes("compatible", kPsciCompatible, sizeof kPsciCompatible);
    w.string("method", "hvc");
    w.cell("cpu_off", kPsciCpuOff);
    w.cell("cpu_on", kPsciCpuOn);
    w.end();
}

void write_cpus(Writer& w, const GuestFdtParams& p)
{
    const std::size_t compat_len =
        p.cpu_compatible_len != 0 ? p.cpu_compatible_len : bounded_length(p.cpu_compatible, kMaxStringProp) + 1;
    w.begin("cpus");
    w.cell("#address-cells", 1);
    w.cell("#size-cells", 0);
    for (unsigned v = 0; v < p.vcpus; ++v) {
        const std::uint32_t aff = vcpu_affinity(v);
        w.begin_at("cpu", aff);
        w.bytes("compatible", p.cpu_compatible, compat_len);
        w.string("device_type", "cpu");
        w.cell("reg", aff);
        if (p.cpu_clock_frequency != 0) w.cell("clock-frequency", p.cpu_clock_frequency);
        w.string("enable-method", "psci");
        w.end();
    }
    w.end();
}

void write_memory(Writer& w, const GuestFdtParams& p)
{
    w.begin_at("memory", p.memory[0].base.raw());
    w.string("device_type", "memory");
    w.reg(p.memory, p.nr_memory);
    w.end();
}

void write_gic(Writer& w, const GuestFdtParams& p)
{
    w.begin_at("interrupt-controller", p.gicd.base.raw());
    w.cell("#address-cells", 0);
    w.cell("#interrupt-cells", 3);
    w.empty("interrupt-controller");
    // Xen names the GICv2 it emulates a GIC-400.
    w.string("compatible", p.gic_version == 3 ? "arm,gic-v3" : "arm,gic-400");
    const IpRegion regs[2] = {p.gicd, p.gicr_or_gicc};
    w.reg(regs, 2);
    w.cell("linux,phandle", kGuestGicPhandle);
    w.cell("phandle", kGuestGicPhandle);
    w.end();
}

void write_timer(Writer& w, const GuestFdtParams& p)
{
    w.begin("timer");
    w.string("compatible", "arm,armv8-timer");
    const GicIrq irqs[3] = {gic_irq(kTimerSecurePhysIntid, kLevelLow), gic_irq(kTimerPhysIntid, kLevelLow),
                            gic_irq(kTimerVirtIntid, kLevelLow)};
    w.interrupts(irqs);
    if (p.timer_clock_frequency != 0) w.cell("clock-frequency", p.timer_clock_frequency);
    w.end();
}

void write_vpl011(Writer& w, const GuestFdtParams& p)
{
    w.begin_at("sbsa-uart", p.vpl011_base.raw());
    w.string("compatible", "arm,sbsa-uart");
    const IpRegion regs[1] = {{p.vpl011_base, kGuestVpl011Size}};
    w.reg(regs, 1);
    const GicIrq irqs[1] = {gic_irq(p.vpl011_intid, kLevelHigh)};
    w.interrupts(irqs);
    w.cell("current-speed", 115200);
    w.end();
}

void write_hypervisor(Writer& w, const GuestFdtParams& p)
{
    w.begin("hypervisor");
    w.bytes("compatible", kXenCompatible, sizeof kXenCompatible);
    w.reg(p.xen_regions, p.nr_xen_regions);
    const GicIrq irqs[1] = {gic_irq(p.evtchn_ppi, kLevelLow)};
    w.interrupts(irqs);
    w.end();
}

} // namespace

Result<std::size_t> build_guest_fdt(void* buf, std::size_t size, const GuestFdtParams& p)
{
    KEEL_TRY(validate(p));
    if (buf == nullptr || size > 0x7fffffff) return Err(Errno::XEN_EINVAL);

    // The order of nodes and properties is Xen's, so the two trees compare equal.
    Writer w(buf);
    w.check(fdt_create(buf, static_cast<int>(size)));
    if (w.error() == 0) w.check(fdt_finish_reservemap(buf));
    w.begin("");
    w.cell("#address-cells", kRootAddressCells);
    w.cell("#size-cells", kRootSizeCells);
    write_chosen(w, p);
    write_psci(w);
    write_cpus(w, p);
    write_memory(w, p);
    write_gic(w, p);
    write_timer(w, p);
    if (p.vpl011) write_vpl011(w, p);
    if (p.xen_node) write_hypervisor(w, p);
    w.end();
    if (w.error() == 0) w.check(fdt_finish(buf));

    if (w.error() != 0) return Err(w.error() == -FDT_ERR_NOSPACE ? Errno::XEN_ENOSPC : Errno::XEN_EINVAL);
    return static_cast<std::size_t>(fdt_totalsize(buf));
}

unsigned xen_extended_regions(const std::uint64_t used[2], unsigned ipa_bits, IpRegion* out, unsigned max)
{
    constexpr std::uint64_t k2M = 2ull << 20;
    constexpr std::uint64_t kMinRegion = 64ull << 20;
    const std::uint64_t ipa_last = ipa_bits >= 64 ? ~0ull : (1ull << ipa_bits) - 1;
    unsigned n = 0;
    for (unsigned i = 0; i < 2 && n < max; ++i) {
        const std::uint64_t start = (kRamWindowBase[i] + used[i] + k2M - 1) & ~(k2M - 1);
        std::uint64_t last = kRamWindowBase[i] + kRamWindowSize[i] - 1;
        if (last > ipa_last) last = ipa_last;
        if (last <= start) continue;
        const std::uint64_t size = last - start + 1;
        if (size < kMinRegion) continue;
        out[n++] = IpRegion{IpAddr(start), size};
    }
    return n;
}

} // namespace keel::dt
