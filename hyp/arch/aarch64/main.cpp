// The boot path after head.S: CPU 0 reads the host device tree, sets up the
// console, memory, GIC and domains, then starts the other CPUs; every CPU then
// enters the scheduler and never comes back here.
#include "console.hpp"
#include "domain.hpp"
#include "firmware.hpp"
#include "gic.hpp"
#include "hyp_memory.hpp"
#include "irq.hpp"
#include "panic.hpp"
#include "pcpu.hpp"
#include "scheduler.hpp"
#include "sysreg.hpp"
#include "vcpu_context.hpp"

#include "dt/domain_spec.hpp"
#include "dt/host_platform.hpp"

#include <libfdt.h>

extern "C" char __image_start[], __image_end[];
extern "C" void (*__init_array_start[])(), (*__init_array_end[])();
extern "C" void keel_secondary_entry();
extern "C" [[noreturn]] void keel_enter_guest(keel::arch::GuestFrame*);

namespace keel::arch {

namespace {
dt::HostPlatform host;
}

const dt::HostPlatform& host_platform() { return host; }

namespace {
dt::DomainSpec specs[dt::kMaxDomains];
unsigned nr_specs = 0;
alignas(8) std::uint64_t page_bitmaps[dt::kMaxMemBanks][mm::PageAllocator::bitmap_words(16ull << 30) / dt::kMaxMemBanks + 1];
volatile bool boot_done = false;

void setup_memory()
{
    mm::PageAllocator& a = page_allocator();
    for (unsigned i = 0; i < host.nr_memory && i < mm::PageAllocator::kMaxBanks; ++i) {
        std::uint64_t size = host.memory[i].size;
        const std::uint64_t words = sizeof page_bitmaps[i] / sizeof(std::uint64_t);
        if (mm::PageAllocator::bitmap_words(size) > words) size = words * 64 * kPageSize;  // beyond 16 GiB: unused
        if (!a.add_bank(host.memory[i].base, size, page_bitmaps[i]))
            panic("cannot add RAM bank %lx", host.memory[i].base.raw());
    }
    a.reserve(PhysAddr(reinterpret_cast<std::uint64_t>(__image_start)), __image_end - __image_start);
    for (unsigned i = 0; i < host.nr_reserved; ++i) a.reserve(host.reserved[i].base, host.reserved[i].size);
    printk("memory: %lu MiB, %lu MiB free for domains\n", a.total_pages() * kPageSize >> 20,
           a.free_pages() * kPageSize >> 20);
}

void setup_cpu(unsigned cpu)
{
    Pcpu& p = pcpus[cpu];
    p.index = cpu;
    sysreg::tpidr_el2::write(reinterpret_cast<std::uint64_t>(&p));
    el2_configure_traps();
    gic().init_cpu(cpu);
    // ICC_SRE_EL1.SRE: a GICv3 guest uses the system-register interface (its virtual one).
    if (host.gic.version == 3) {
        sysreg::icc_sre_el1::write(1);
        isb();
    }
    p.online = true;
}

void start_secondaries()
{
    for (unsigned cpu = 1; cpu < nr_pcpus; ++cpu) {
        const std::int64_t r = firmware_cpu_on(host.cpu_mpidr[cpu], reinterpret_cast<std::uint64_t>(&keel_secondary_entry), cpu);
        if (r != 0) printk("CPU%u (MPIDR %lx) did not start: PSCI %ld\n", cpu, host.cpu_mpidr[cpu], r);
    }
    for (unsigned cpu = 1; cpu < nr_pcpus; ++cpu) {
        while (!__atomic_load_n(&pcpus[cpu].online, __ATOMIC_ACQUIRE)) {
        }
    }
}

[[noreturn]] void run(Pcpu& p) { keel_enter_guest(schedule(p)); }

[[noreturn]] void boot_primary(const void* fdt)
{
    for (auto* f = __init_array_start; f != __init_array_end; ++f) (*f)();
    if (fdt_check_header(fdt) != 0) halt_cpu();  // no usable DTB: nowhere even to print
    const PhysAddr fdt_pa(reinterpret_cast<std::uint64_t>(fdt));
    const Status parsed = dt::parse_host_platform(fdt, fdt_pa, host);
    if (host.uart.raw() != 0) console_init(host.uart.raw());
    printk("Keel hypervisor starting at EL2\n");
    if (!parsed) panic("host device tree: %s", errno_name(parsed.error()));
    firmware_init(host.psci_smc);
    nr_pcpus = host.nr_cpus < kMaxCpus ? host.nr_cpus : kMaxCpus;

    setup_memory();
    HostGicInfo gi{host.gic.version, host.gic.gicd.raw(), host.gic.gicr.raw(), host.gic.gicc.raw(),
                   host.gic.gich.raw(), host.cpu_mpidr, nr_pcpus};
    gic_probe(gi).init_distributor();
    scheduler_init();
    setup_cpu(0);
    printk("GICv%u, %u CPU(s), %u list registers\n", host.gic.version, nr_pcpus, gic().nr_lrs());

    const Status ds = dt::parse_domains(fdt, host, specs, dt::kMaxDomains, nr_specs);
    if (!ds) panic("boot domains: %s", errno_name(ds.error()));
    if (nr_specs == 0) panic("no domains to boot: give /chosen a dom0 kernel or xen,domain nodes");
    start_secondaries();
    for (unsigned i = 0; i < nr_specs; ++i) (void)domain_create(specs[i], host);
    if (nr_live_domains() == 0) {
        printk("no domain could be built: powering off\n");
        firmware_system_off();
    }
    if (host.uart.raw() != 0 && host.uart_intid >= 32) {
        set_console_intid(host.uart_intid);
        gic().enable_spi(host.uart_intid);
        console_enable_input_interrupt();
    }
    __atomic_store_n(&boot_done, true, __ATOMIC_RELEASE);
    // Secondaries may be idle with runnable vCPUs now: wake them.
    for (unsigned cpu = 1; cpu < nr_pcpus; ++cpu) gic().send_sgi(cpu, kSgiKick);
    run(pcpus[0]);
}

[[noreturn]] void boot_secondary(unsigned cpu)
{
    setup_cpu(cpu);
    while (!__atomic_load_n(&boot_done, __ATOMIC_ACQUIRE)) {
    }
    run(pcpus[cpu]);
}
} // namespace

} // namespace keel::arch

extern "C" [[noreturn]] void keel_cpu_main(unsigned cpu, const void* fdt)
{
    if (cpu == 0) keel::arch::boot_primary(fdt);
    keel::arch::boot_secondary(cpu);
}
