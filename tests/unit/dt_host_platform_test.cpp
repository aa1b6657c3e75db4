// Reading the host tree: QEMU virt's own (trimmed, tests/unit/data/qemu_virt_*.dts)
// plus the /chosen properties Xen's boot documentation describes.
#include "dt/host_platform.hpp"

#include "dt_test_support.hpp"

#include <gtest/gtest.h>
#include <libfdt.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>

using namespace keel;
using namespace keel::dt;

namespace {

constexpr PhysAddr kFdtAddr{0x48000000};

struct Parsed {
    Status status;
    HostPlatform host;
};

// HostPlatform is large; keep it off the test's stack frame.
std::unique_ptr<Parsed> parse(const void* fdt)
{
    auto p = std::make_unique<Parsed>();
    p->status = parse_host_platform(fdt, kFdtAddr, p->host);
    return p;
}

Errno parse_error(const void* fdt)
{
    auto p = parse(fdt);
    return p->status.ok() ? Errno::OK : p->status.error();
}

test::EditableFdt virt_v3() { return test::EditableFdt(test::compile_dts("qemu_virt_gicv3.dts")); }

bool has_reserved(const HostPlatform& h, std::uint64_t base, std::uint64_t size)
{
    for (unsigned i = 0; i < h.nr_reserved; ++i)
        if (h.reserved[i].base.raw() == base && h.reserved[i].size == size) return true;
    return false;
}

} // namespace

TEST(DtHostPlatform, QemuVirtGicV3)
{
    auto t = virt_v3();
    auto p = parse(t.fdt());
    ASSERT_TRUE(p->status.ok()) << errno_name(p->status.error());
    const HostPlatform& h = p->host;

    ASSERT_EQ(h.nr_memory, 1u);
    EXPECT_EQ(h.memory[0].base.raw(), 0x40000000u);
    EXPECT_EQ(h.memory[0].size, 0x80000000u);

    ASSERT_EQ(h.nr_cpus, 2u);
    EXPECT_EQ(h.cpu_mpidr[0], 0u);
    EXPECT_EQ(h.cpu_mpidr[1], 1u);
    EXPECT_STREQ(h.cpu_compatible, "arm,cortex-a57");
    EXPECT_EQ(h.cpu_compatible_len, sizeof "arm,cortex-a57");
    EXPECT_EQ(h.cpu_clock_frequency, 0u);

    EXPECT_EQ(h.gic.version, 3);
    EXPECT_EQ(h.gic.gicd.raw(), 0x08000000u);
    EXPECT_EQ(h.gic.gicr.raw(), 0x080a0000u);
    EXPECT_EQ(h.gic.gicr_size, 0xf60000u);
    EXPECT_EQ(h.gic.gicc.raw(), 0u);  // QEMU's GICv3 tree lists no GICC/GICH/GICV
    EXPECT_EQ(h.gic.gich.raw(), 0u);
    EXPECT_EQ(h.gic.gicv.raw(), 0u);
    EXPECT_EQ(h.gic.maintenance_intid, 25u);

    EXPECT_EQ(h.timer.phys_intid, 30u);
    EXPECT_EQ(h.timer.virt_intid, 27u);
    EXPECT_EQ(h.timer.hyp_intid, 26u);
    EXPECT_EQ(h.timer.clock_frequency, 0u);

    EXPECT_EQ(h.uart.raw(), 0x09000000u);  // from /chosen stdout-path
    EXPECT_EQ(h.uart_intid, 33u);
    EXPECT_TRUE(h.psci_smc);
    EXPECT_STREQ(h.hyp_bootargs, "");

    ASSERT_EQ(h.nr_reserved, 1u);  // the DTB itself
    EXPECT_EQ(h.reserved[0].base, kFdtAddr);
    EXPECT_EQ(h.reserved[0].size, fdt_totalsize(t.fdt()));
}

TEST(DtHostPlatform, QemuVirtGicV2)
{
    test::EditableFdt t(test::compile_dts("qemu_virt_gicv2.dts"));
    auto p = parse(t.fdt());
    ASSERT_TRUE(p->status.ok()) << errno_name(p->status.error());
    const HostGic& g = p->host.gic;
    EXPECT_EQ(g.version, 2);
    EXPECT_EQ(g.gicd.raw(), 0x08000000u);
    EXPECT_EQ(g.gicc.raw(), 0x08010000u);
    EXPECT_EQ(g.gich.raw(), 0x08030000u);
    EXPECT_EQ(g.gicv.raw(), 0x08040000u);
    EXPECT_EQ(g.gicr.raw(), 0u);
    EXPECT_EQ(g.maintenance_intid, 25u);
    // QEMU puts a CPU mask in GICv2 PPI flags (0x304); it does not change the INTIDs.
    EXPECT_EQ(p->host.timer.hyp_intid, 26u);
    EXPECT_EQ(p->host.timer.virt_intid, 27u);
}

TEST(DtHostPlatform, XenBootargsNameTheConsole)
{
    auto t = virt_v3();
    t.remove("/chosen", "stdout-path");
    t.set_string("/chosen", "xen,xen-bootargs", "console=dtuart dtuart=/pl011@9000000 dom0_mem=512M");
    auto p = parse(t.fdt());
    ASSERT_TRUE(p->status.ok());
    EXPECT_STREQ(p->host.hyp_bootargs, "console=dtuart dtuart=/pl011@9000000 dom0_mem=512M");
    EXPECT_EQ(p->host.uart.raw(), 0x09000000u);
    EXPECT_EQ(p->host.uart_intid, 33u);
}

TEST(DtHostPlatform, ConsoleByAliasWithOptions)
{
    auto t = virt_v3();
    t.add("/", "aliases");
    t.set_string("/aliases", "serial0", "/pl011@9000000");
    t.set_string("/chosen", "stdout-path", "serial0:115200n8");
    auto p = parse(t.fdt());
    ASSERT_TRUE(p->status.ok());
    EXPECT_EQ(p->host.uart.raw(), 0x09000000u);

    t.set_string("/chosen", "stdout-path", "/nowhere");
    t.set_string("/chosen", "xen,xen-bootargs", "dtuart=serial0");
    p = parse(t.fdt());
    ASSERT_TRUE(p->status.ok());
    EXPECT_EQ(p->host.uart.raw(), 0x09000000u);
}

TEST(DtHostPlatform, NoConsoleIsNotAnError)
{
    auto t = virt_v3();
    t.set_string("/chosen", "xen,xen-bootargs", "console=none");
    auto p = parse(t.fdt());
    ASSERT_TRUE(p->status.ok());
    EXPECT_EQ(p->host.uart.raw(), 0u);

    t.set_string("/chosen", "xen,xen-bootargs", "dtuart=/nowhere");
    p = parse(t.fdt());
    ASSERT_TRUE(p->status.ok());
    EXPECT_EQ(p->host.uart.raw(), 0u);

    t.set_string("/chosen", "xen,xen-bootargs", "dtuart=/psci");  // not a UART Keel can drive
    p = parse(t.fdt());
    ASSERT_TRUE(p->status.ok());
    EXPECT_EQ(p->host.uart.raw(), 0u);
}

TEST(DtHostPlatform, UartBehindABusIsTranslated)
{
    auto t = virt_v3();
    t.add("/", "soc");
    t.set_cells("/soc", "#address-cells", {1});
    t.set_cells("/soc", "#size-cells", {1});
    t.set_cells("/soc", "ranges", {0x0, 0x0, 0x0c000000, 0x100000});
    t.add("/soc", "uart@1000");
    t.set_strings("/soc/uart@1000", "compatible", {"arm,pl011", "arm,primecell"});
    t.set_cells("/soc/uart@1000", "reg", {0x1000, 0x1000});
    t.set_cells("/soc/uart@1000", "interrupts", {0, 5, 4});
    t.set_string("/chosen", "xen,xen-bootargs", "dtuart=/soc/uart@1000");
    auto p = parse(t.fdt());
    ASSERT_TRUE(p->status.ok()) << errno_name(p->status.error());
    EXPECT_EQ(p->host.uart.raw(), 0x0c001000u);
    EXPECT_EQ(p->host.uart_intid, 37u);

    // Outside every range: the bus cannot reach it.
    t.set_cells("/soc/uart@1000", "reg", {0x200000, 0x1000});
    EXPECT_EQ(parse_error(t.fdt()), Errno::XEN_ENXIO);
}

TEST(DtHostPlatform, MemoryBanksSortedEmptyAndDisabledDropped)
{
    auto t = virt_v3();
    t.add("/", "memory@100000000");
    t.set_cells("/memory@100000000", "reg", {0x1, 0x0, 0x0, 0x40000000, 0x0, 0x30000000, 0x0, 0x0});
    t.set_string("/memory@100000000", "device_type", "memory");
    t.add("/", "memory@80000000");
    t.set_cells("/memory@80000000", "reg", {0x0, 0x80000000, 0x0, 0x1000});
    t.set_string("/memory@80000000", "status", "disabled");
    auto p = parse(t.fdt());
    ASSERT_TRUE(p->status.ok());
    const HostPlatform& h = p->host;
    ASSERT_EQ(h.nr_memory, 2u);
    EXPECT_EQ(h.memory[0].base.raw(), 0x40000000u);
    EXPECT_EQ(h.memory[1].base.raw(), 0x100000000u);
    EXPECT_EQ(h.memory[1].size, 0x40000000u);
}

TEST(DtHostPlatform, TooManyMemoryBanks)
{
    auto t = virt_v3();
    std::initializer_list<std::uint32_t> nine = {0, 0x40000000, 0, 0x1000, 0, 0x50000000, 0, 0x1000, 0, 0x60000000,
                                                 0, 0x1000, 0, 0x70000000, 0, 0x1000, 1, 0x0, 0, 0x1000,
                                                 2, 0x0, 0, 0x1000, 3, 0x0, 0, 0x1000, 4, 0x0,
                                                 0, 0x1000, 5, 0x0, 0, 0x1000};
    t.set_cells("/memory@40000000", "reg", nine);
    EXPECT_EQ(parse_error(t.fdt()), Errno::XEN_ENOSPC);
}

TEST(DtHostPlatform, ReservedRegions)
{
    auto t = virt_v3();
    ASSERT_EQ(fdt_add_mem_rsv(t.fdt(), 0x7f000000, 0x10000), 0);
    t.add("/", "reserved-memory");
    t.set_cells("/reserved-memory", "#address-cells", {2});
    t.set_cells("/reserved-memory", "#size-cells", {2});
    t.set_empty("/reserved-memory", "ranges");
    t.add("/reserved-memory", "fw@7e000000");
    t.set_cells("/reserved-memory/fw@7e000000", "reg", {0, 0x7e000000, 0, 0x100000});
    t.add("/reserved-memory", "pool");  // a size-only request: nothing fixed to reserve
    t.set_cells("/reserved-memory/pool", "size", {0, 0x400000});

    t.set_cells("/chosen", "#address-cells", {2});
    t.set_cells("/chosen", "#size-cells", {2});
    t.add("/chosen", "module@44000000");
    t.set_strings("/chosen/module@44000000", "compatible", {"multiboot,kernel", "multiboot,module"});
    t.set_cells("/chosen/module@44000000", "reg", {0, 0x44000000, 0, 0x1000000});
    t.add("/chosen", "domU1");
    t.set_strings("/chosen/domU1", "compatible", {"xen,domain"});
    t.add("/chosen/domU1", "module@4a000000");
    t.set_strings("/chosen/domU1/module@4a000000", "compatible", {"multiboot,kernel", "multiboot,module"});
    t.set_cells("/chosen/domU1/module@4a000000", "reg", {0, 0x4a000000, 0, 0x200000});
    t.set_cells("/chosen", "linux,initrd-start", {0, 0x4c000000});
    t.set_cells("/chosen", "linux,initrd-end", {0, 0x4c800000});

    auto p = parse(t.fdt());
    ASSERT_TRUE(p->status.ok()) << errno_name(p->status.error());
    const HostPlatform& h = p->host;
    EXPECT_EQ(h.nr_reserved, 6u);
    EXPECT_TRUE(has_reserved(h, 0x7f000000, 0x10000));
    EXPECT_TRUE(has_reserved(h, 0x7e000000, 0x100000));
    EXPECT_TRUE(has_reserved(h, 0x44000000, 0x1000000));
    EXPECT_TRUE(has_reserved(h, 0x4a000000, 0x200000));
    EXPECT_TRUE(has_reserved(h, 0x4c000000, 0x800000));
    EXPECT_TRUE(has_reserved(h, kFdtAddr.raw(), fdt_totalsize(t.fdt())));
}

TEST(DtHostPlatform, HypervisorCommandLinePrecedence)
{
    // Without xen,xen-bootargs, /chosen bootargs are Xen's only if dom0 has its own.
    auto t = virt_v3();
    t.set_string("/chosen", "bootargs", "shared");
    auto p = parse(t.fdt());
    ASSERT_TRUE(p->status.ok());
    EXPECT_STREQ(p->host.hyp_bootargs, "");

    t.set_string("/chosen", "xen,dom0-bootargs", "for dom0");
    p = parse(t.fdt());
    EXPECT_STREQ(p->host.hyp_bootargs, "shared");

    t.remove("/chosen", "xen,dom0-bootargs");
    t.add("/chosen", "module@44000000");
    t.set_strings("/chosen/module@44000000", "compatible", {"multiboot,kernel", "multiboot,module"});
    t.set_cells("/chosen/module@44000000", "reg", {0, 0x44000000, 0, 0x1000000});
    t.set_string("/chosen/module@44000000", "bootargs", "console=hvc0");
    p = parse(t.fdt());
    EXPECT_STREQ(p->host.hyp_bootargs, "shared");

    t.set_string("/chosen", "xen,xen-bootargs", "sync_console");
    p = parse(t.fdt());
    EXPECT_STREQ(p->host.hyp_bootargs, "sync_console");
}

TEST(DtHostPlatform, CpusPastTheLimitStayOffline)
{
    std::string more = "/ { cpus {\n";
    for (unsigned i = 2; i < 10; ++i)
        more += "cpu@" + std::to_string(i) + " { device_type = \"cpu\"; reg = <" + std::to_string(i) + ">; };\n";
    more += "}; };\n";
    test::EditableFdt t(test::compile_dts("qemu_virt_gicv3.dts", more));
    auto p = parse(t.fdt());
    ASSERT_TRUE(p->status.ok());
    EXPECT_EQ(p->host.nr_cpus, kMaxCpus);
    for (unsigned i = 0; i < kMaxCpus; ++i) EXPECT_EQ(p->host.cpu_mpidr[i], i);
}

TEST(DtHostPlatform, MalformedTreesAreErrors)
{
    struct Case {
        const char* what;
        void (*edit)(test::EditableFdt&);
        Errno want;
    };
    const Case cases[] = {
        {"memory reg not whole entries", [](test::EditableFdt& t) { t.set_cells("/memory@40000000", "reg", {0, 0x40000000, 0}); }, Errno::XEN_EINVAL},
        {"no memory", [](test::EditableFdt& t) { ASSERT_EQ(fdt_del_node(t.fdt(), t.node("/memory@40000000")), 0); }, Errno::XEN_ENOENT},
        {"memory wraps", [](test::EditableFdt& t) { t.set_cells("/memory@40000000", "reg", {0xffffffff, 0xfffff000, 0, 0x2000}); }, Errno::XEN_EINVAL},
        {"cpu compatible unterminated", [](test::EditableFdt& t) { t.set("/cpus/cpu@0", "compatible", "arm", 3); }, Errno::XEN_EINVAL},
        {"cpu compatible too long", [](test::EditableFdt& t) { t.set_string("/cpus/cpu@0", "compatible", std::string(80, 'a').c_str()); }, Errno::XEN_E2BIG},
        {"cpu without reg", [](test::EditableFdt& t) { t.remove("/cpus/cpu@1", "reg"); }, Errno::XEN_EINVAL},
        {"duplicate MPIDR", [](test::EditableFdt& t) { t.set_cells("/cpus/cpu@1", "reg", {0}); }, Errno::XEN_EINVAL},
        {"MPIDR with non-affinity bits", [](test::EditableFdt& t) { t.set_cells("/cpus/cpu@1", "reg", {0x80000000}); }, Errno::XEN_EINVAL},
        {"#address-cells of /cpus too wide", [](test::EditableFdt& t) { t.set_cells("/cpus", "#address-cells", {3}); }, Errno::XEN_EINVAL},
        {"#size-cells malformed", [](test::EditableFdt& t) { t.set("/", "#size-cells", "\0\0", 2); }, Errno::XEN_EINVAL},
        {"no GIC", [](test::EditableFdt& t) { t.remove("/intc@8000000", "interrupt-controller"); }, Errno::XEN_ENODEV},
        {"GIC reg missing redistributors", [](test::EditableFdt& t) { t.set_cells("/intc@8000000", "reg", {0, 0x8000000, 0, 0x10000}); }, Errno::XEN_EINVAL},
        {"GIC bad #interrupt-cells", [](test::EditableFdt& t) { t.set_cells("/intc@8000000", "#interrupt-cells", {1}); }, Errno::XEN_EINVAL},
        {"timer without hyp PPI", [](test::EditableFdt& t) { t.set_cells("/timer", "interrupts", {1, 13, 4, 1, 14, 4, 1, 11, 4}); }, Errno::XEN_EINVAL},
        {"timer PPI number out of range", [](test::EditableFdt& t) { t.set_cells("/timer", "interrupts", {1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 99, 4}); }, Errno::XEN_EINVAL},
        {"no timer", [](test::EditableFdt& t) { ASSERT_EQ(fdt_del_node(t.fdt(), t.node("/timer")), 0); }, Errno::XEN_ENODEV},
        {"no PSCI", [](test::EditableFdt& t) { ASSERT_EQ(fdt_del_node(t.fdt(), t.node("/psci")), 0); }, Errno::XEN_ENODEV},
        {"PSCI method unknown", [](test::EditableFdt& t) { t.set_string("/psci", "method", "svc"); }, Errno::XEN_EINVAL},
        {"xen,xen-bootargs unterminated", [](test::EditableFdt& t) { t.set("/chosen", "xen,xen-bootargs", "abc", 3); }, Errno::XEN_EINVAL},
        {"xen,xen-bootargs too long", [](test::EditableFdt& t) { t.set_string("/chosen", "xen,xen-bootargs", std::string(kMaxCmdline, 'x').c_str()); }, Errno::XEN_E2BIG},
        {"console UART without reg", [](test::EditableFdt& t) { t.remove("/pl011@9000000", "reg"); }, Errno::XEN_EINVAL},
        {"console UART on another controller", [](test::EditableFdt& t) { t.set_cells("/pl011@9000000", "interrupt-parent", {0x8000}); }, Errno::XEN_ENXIO},
        {"module without reg", [](test::EditableFdt& t) {
             t.add("/chosen", "module@0");
             t.set_strings("/chosen/module@0", "compatible", {"multiboot,module"});
         }, Errno::XEN_EINVAL},
        {"initrd end without start", [](test::EditableFdt& t) { t.set_cells("/chosen", "linux,initrd-end", {0x4c000000}); }, Errno::XEN_EINVAL},
        {"initrd end before start", [](test::EditableFdt& t) {
             t.set_cells("/chosen", "linux,initrd-start", {0x4c000000});
             t.set_cells("/chosen", "linux,initrd-end", {0x4b000000});
         }, Errno::XEN_EINVAL},
    };
    for (const Case& c : cases) {
        auto t = virt_v3();
        c.edit(t);
        EXPECT_EQ(parse_error(t.fdt()), c.want) << c.what;
    }
}

TEST(DtHostPlatform, BrokenBlobsAreRejected)
{
    auto t = virt_v3();
    t.pack();
    std::vector<char> blob(static_cast<const char*>(t.fdt()), static_cast<const char*>(t.fdt()) + fdt_totalsize(t.fdt()));
    EXPECT_NE(parse_error(nullptr), Errno::OK);

    auto bad_magic = blob;
    bad_magic[0] = 0;
    EXPECT_EQ(parse_error(bad_magic.data()), Errno::XEN_EINVAL);

    // A structure block that claims to run past the end of the blob.
    auto bad_struct = blob;
    const std::uint32_t huge = cpu_to_fdt32(0x100000);
    std::memcpy(bad_struct.data() + 36, &huge, 4);  // size_dt_struct
    EXPECT_EQ(parse_error(bad_struct.data()), Errno::XEN_EINVAL);
}

TEST(DtHostPlatform, RandomCorruptionNeverCrashes)
{
    // Whatever the bytes, the parser returns: ASan and UBSan watch the reads.
    auto t = virt_v3();
    t.set_string("/chosen", "xen,xen-bootargs", "console=dtuart dtuart=/pl011@9000000 dom0_mem=512M");
    t.pack();
    const auto* base = static_cast<const char*>(t.fdt());
    const std::vector<char> blob(base, base + fdt_totalsize(t.fdt()));
    std::mt19937 rng(1234);
    unsigned accepted = 0;
    for (int round = 0; round < 3000; ++round) {
        auto copy = blob;
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int i = 0; i < flips; ++i) {
            // Keep the header's size fields intact so the tree stays inside its buffer.
            const std::size_t at = 40 + rng() % (copy.size() - 40);
            copy[at] = static_cast<char>(rng());
        }
        auto p = parse(copy.data());
        accepted += p->status.ok();
    }
    EXPECT_GT(accepted, 0u);  // some flips land in harmless places
}
