// Boot-time domains from Xen's dom0less bindings under /chosen, added with
// libfdt to QEMU virt's tree (tests/unit/data/qemu_virt_gicv3.dts).
#include "dt/domain_spec.hpp"

#include "dt_test_support.hpp"

#include <gtest/gtest.h>
#include <libfdt.h>

#include <cstdio>
#include <memory>
#include <random>
#include <string>

using namespace keel;
using namespace keel::dt;

namespace {

constexpr std::uint64_t MiB = 1ull << 20;

struct Parsed {
    Status status;
    HostPlatform host;
    DomainSpec dom[kMaxDomains];
    unsigned count = 0;
};

std::unique_ptr<Parsed> parse(const void* fdt, unsigned max = kMaxDomains)
{
    auto p = std::make_unique<Parsed>();
    p->status = parse_host_platform(fdt, PhysAddr(0x48000000), p->host);
    if (p->status.ok()) p->status = parse_domains(fdt, p->host, p->dom, max, p->count);
    return p;
}

Errno parse_error(const void* fdt)
{
    auto p = parse(fdt);
    return p->status.ok() ? Errno::OK : p->status.error();
}

std::string hex(std::uint64_t v)
{
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

// A module@ADDR node in DTS syntax; `kind` nullptr gives only "multiboot,module".
std::string module(const char* kind, std::uint64_t addr, std::uint64_t size, const char* bootargs = nullptr)
{
    std::string s = "module@" + hex(addr).substr(2) + " { compatible = ";
    s += kind ? std::string("\"") + kind + "\", \"multiboot,module\"; " : std::string("\"multiboot,module\"; ");
    s += "reg = <" + hex(addr >> 32) + " " + hex(addr & 0xffffffff) + " " + hex(size >> 32) + " " +
         hex(size & 0xffffffff) + ">; ";
    if (bootargs) s += std::string("bootargs = \"") + bootargs + "\"; ";
    return s + "};\n";
}

// Dom0's kernel (with bootargs) and ramdisk, as in Xen's boot documentation.
std::string dom0_modules(const char* kernel_args = "console=hvc0")
{
    return module("multiboot,kernel", 0x44000000, 0x1000000, kernel_args) +
           module("multiboot,ramdisk", 0x4c000000, 0x800000);
}

// A domU the way ImageBuilder writes one: memory as two cells of KiB.
std::string domu(const char* name, std::uint64_t kernel_addr, const std::string& extra = "", unsigned cpus = 1,
                 std::uint32_t mem_kib = 65536)
{
    return std::string(name) + " { compatible = \"xen,domain\"; #address-cells = <2>; #size-cells = <2>; cpus = <" +
           std::to_string(cpus) + ">; memory = <0 " + std::to_string(mem_kib) + ">;\n" + extra +
           module("multiboot,kernel", kernel_addr, 0x200000, "probe") + "};\n";
}

// QEMU virt with Xen's /chosen: 2-cell addresses and sizes, a hypervisor command
// line, then `props` and `nodes` (DTS; dtc wants properties before subnodes).
test::EditableFdt host(const std::string& nodes, const std::string& props = "",
                       const char* xen_bootargs = "console=dtuart dtuart=/pl011@9000000 dom0_mem=512M")
{
    std::string chosen = "/ { chosen { #address-cells = <2>; #size-cells = <2>;\n";
    if (xen_bootargs) chosen += std::string("xen,xen-bootargs = \"") + xen_bootargs + "\";\n";
    chosen += props + "\n" + nodes + "}; };\n";
    return test::EditableFdt(test::compile_dts("qemu_virt_gicv3.dts", chosen));
}

} // namespace

TEST(DtDomainSpec, Dom0FromModulesAndXenBootargs)
{
    auto t = host(dom0_modules(), "xen,dom0-bootargs = \"console=hvc0 rdinit=/bin/sh\";");
    auto p = parse(t.fdt());
    ASSERT_TRUE(p->status.ok()) << errno_name(p->status.error());
    ASSERT_EQ(p->count, 1u);
    const DomainSpec& d = p->dom[0];
    EXPECT_STREQ(d.name, "dom0");
    EXPECT_TRUE(d.is_dom0);
    EXPECT_EQ(d.vcpus, 2u);  // one per host CPU
    EXPECT_EQ(d.mem_bytes, 512 * MiB);
    EXPECT_FALSE(d.vpl011);
    EXPECT_EQ(d.enhanced, Enhanced::None);
    EXPECT_TRUE(d.kernel.present);
    EXPECT_EQ(d.kernel.base.raw(), 0x44000000u);
    EXPECT_EQ(d.kernel.size, 0x1000000u);
    EXPECT_TRUE(d.ramdisk.present);
    EXPECT_EQ(d.ramdisk.base.raw(), 0x4c000000u);
    EXPECT_EQ(d.ramdisk.size, 0x800000u);
    // xen,dom0-bootargs wins over the kernel module's own.
    EXPECT_STREQ(d.bootargs, "console=hvc0 rdinit=/bin/sh");
}

TEST(DtDomainSpec, Dom0CommandLinePrecedence)
{
    auto t = host(dom0_modules("from module"), "bootargs = \"from chosen\";");
    auto p = parse(t.fdt());
    ASSERT_TRUE(p->status.ok());
    EXPECT_STREQ(p->dom[0].bootargs, "from module");

    auto u = host(dom0_modules(nullptr), "bootargs = \"from chosen\";");
    p = parse(u.fdt());
    ASSERT_TRUE(p->status.ok());
    EXPECT_STREQ(p->dom[0].bootargs, "from chosen");

    auto v = host(dom0_modules(nullptr));
    p = parse(v.fdt());
    ASSERT_TRUE(p->status.ok());
    EXPECT_STREQ(p->dom[0].bootargs, "");
}

TEST(DtDomainSpec, Dom0SizedByHypervisorOptions)
{
    auto t = host(dom0_modules(), "", "dom0_mem=0x20000 dom0_max_vcpus=1");  // no unit: KiB, as in Xen
    auto p = parse(t.fdt());
    ASSERT_TRUE(p->status.ok());
    EXPECT_EQ(p->dom[0].mem_bytes, 128 * MiB);
    EXPECT_EQ(p->dom[0].vcpus, 1u);

    auto u = host(dom0_modules(), "", "dom0-mem=1G dom0_mem=768M");  // the last one wins; '-' and '_' alike
    p = parse(u.fdt());
    ASSERT_TRUE(p->status.ok());
    EXPECT_EQ(p->dom[0].mem_bytes, 768 * MiB);

    auto v = host(dom0_modules(), "", nullptr);  // no dom0_mem: Xen's 512M fallback
    p = parse(v.fdt());
    ASSERT_TRUE(p->status.ok());
    EXPECT_EQ(p->dom[0].mem_bytes, 512 * MiB);

    for (const char* bad : {"dom0_mem=512Q", "dom0_mem=", "dom0_mem=1025b", "dom0_mem=99999999999999999999G",
                            "dom0_max_vcpus=two"}) {
        auto w = host(dom0_modules(), "", bad);
        EXPECT_EQ(parse_error(w.fdt()), Errno::XEN_EINVAL) << bad;
    }
}

TEST(DtDomainSpec, Dom0RamdiskFromChosenInitrd)
{
    // What QEMU's -initrd writes; Xen counts it before any ramdisk module.
    auto t = host(dom0_modules(), "linux,initrd-start = <0x4e000000>; linux,initrd-end = <0x4e100000>;");
    auto p = parse(t.fdt());
    ASSERT_TRUE(p->status.ok());
    EXPECT_EQ(p->dom[0].ramdisk.base.raw(), 0x4e000000u);
    EXPECT_EQ(p->dom[0].ramdisk.size, 0x100000u);
}

TEST(DtDomainSpec, UntypedModulesAreGuessedLikeXen)
{
    auto t = host(module(nullptr, 0x44000000, 0x1000000, "console=hvc0") + module(nullptr, 0x4c000000, 0x800000));
    auto p = parse(t.fdt());
    ASSERT_TRUE(p->status.ok());
    EXPECT_EQ(p->dom[0].kernel.base.raw(), 0x44000000u);
    EXPECT_EQ(p->dom[0].ramdisk.base.raw(), 0x4c000000u);
    EXPECT_STREQ(p->dom[0].bootargs, "console=hvc0");
}

TEST(DtDomainSpec, Dom0AndDomUs)
{
    auto t = host(dom0_modules() +
                  domu("domU1", 0x4a000000, "vpl011;\n" + module("multiboot,ramdisk", 0x4b000000, 0x300000), 2, 131072) +
                  domu("domU2", 0x4d000000, "xen,enhanced = \"no-xenstore\";\n"));
    auto p = parse(t.fdt());
    ASSERT_TRUE(p->status.ok()) << errno_name(p->status.error());
    ASSERT_EQ(p->count, 3u);
    EXPECT_TRUE(p->dom[0].is_dom0);

    const DomainSpec& a = p->dom[1];
    EXPECT_STREQ(a.name, "domU1");
    EXPECT_FALSE(a.is_dom0);
    EXPECT_EQ(a.vcpus, 2u);
    EXPECT_EQ(a.mem_bytes, 128 * MiB);
    EXPECT_TRUE(a.vpl011);
    EXPECT_EQ(a.enhanced, Enhanced::None);
    EXPECT_EQ(a.kernel.base.raw(), 0x4a000000u);
    EXPECT_EQ(a.kernel.size, 0x200000u);
    EXPECT_TRUE(a.ramdisk.present);
    EXPECT_EQ(a.ramdisk.base.raw(), 0x4b000000u);
    EXPECT_EQ(a.ramdisk.size, 0x300000u);
    EXPECT_STREQ(a.bootargs, "probe");

    const DomainSpec& b = p->dom[2];
    EXPECT_STREQ(b.name, "domU2");
    EXPECT_FALSE(b.vpl011);
    EXPECT_FALSE(b.ramdisk.present);
    EXPECT_EQ(b.enhanced, Enhanced::NoXenstore);
}

TEST(DtDomainSpec, DomUCommandLineIsTheFirstModuleBootargs)
{
    // Xen files each module's bootargs under its domain and takes the first.
    auto t = host(std::string("domU1 { compatible = \"xen,domain\"; cpus = <1>; memory = <0 65536>;\n") +
                  module("multiboot,ramdisk", 0x4b000000, 0x1000, "from ramdisk") +
                  module("multiboot,kernel", 0x4a000000, 0x1000, "from kernel") + "};\n");
    auto p = parse(t.fdt());
    ASSERT_TRUE(p->status.ok()) << errno_name(p->status.error());
    EXPECT_STREQ(p->dom[0].bootargs, "from ramdisk");
}

TEST(DtDomainSpec, MemoryInOneOrTwoCells)
{
    auto t = host(domu("domU1", 0x4a000000));
    auto p = parse(t.fdt());
    ASSERT_TRUE(p->status.ok());
    EXPECT_EQ(p->dom[0].mem_bytes, 64 * MiB);

    t.set_cells("/chosen/domU1", "memory", {65536});  // Keel also takes one cell; Xen 4.17 does not
    p = parse(t.fdt());
    ASSERT_TRUE(p->status.ok());
    EXPECT_EQ(p->dom[0].mem_bytes, 64 * MiB);

    t.set_cells("/chosen/domU1", "memory", {1, 0});  // 4 TiB in KiB
    p = parse(t.fdt());
    ASSERT_TRUE(p->status.ok());
    EXPECT_EQ(p->dom[0].mem_bytes, 1ull << 42);
}

TEST(DtDomainSpec, NoDom0IsValid)
{
    auto t = host(domu("domU1", 0x4a000000));
    auto p = parse(t.fdt());
    ASSERT_TRUE(p->status.ok()) << errno_name(p->status.error());
    ASSERT_EQ(p->count, 1u);
    EXPECT_FALSE(p->dom[0].is_dom0);
    EXPECT_STREQ(p->dom[0].name, "domU1");
    EXPECT_STREQ(p->dom[0].bootargs, "probe");
}

TEST(DtDomainSpec, EnhancedModes)
{
    struct Case {
        const char* property;
        Enhanced want;
    };
    for (const Case c : {Case{"xen,enhanced;", Enhanced::Full}, Case{"xen,enhanced = \"enabled\";", Enhanced::Full},
                         Case{"xen,enhanced = \"no-xenstore\";", Enhanced::NoXenstore},
                         Case{"xen,enhanced = \"something-else\";", Enhanced::None}}) {
        auto t = host(dom0_modules() + domu("domU1", 0x4a000000, std::string(c.property) + "\n"));
        auto p = parse(t.fdt());
        ASSERT_TRUE(p->status.ok());
        EXPECT_EQ(p->dom[1].enhanced, c.want) << c.property;
    }

    // Full mode needs xenstore, so dom0; Xen panics without one.
    auto t = host(domu("domU1", 0x4a000000, "xen,enhanced = \"enabled\";\n"));
    EXPECT_EQ(parse_error(t.fdt()), Errno::XEN_EINVAL);
    auto u = host(domu("domU1", 0x4a000000, "xen,enhanced = \"no-xenstore\";\n"));
    EXPECT_EQ(parse_error(u.fdt()), Errno::OK);
}

TEST(DtDomainSpec, MissingKernelIsAnError)
{
    auto t = host(domu("domU1", 0x4a000000) +
                  "domU2 { compatible = \"xen,domain\"; cpus = <1>; memory = <0 65536>;\n" +
                  module("multiboot,ramdisk", 0x4b000000, 0x1000) + "};\n");
    EXPECT_EQ(parse_error(t.fdt()), Errno::XEN_ENOENT);

    auto nothing = host("");
    EXPECT_EQ(parse_error(nothing.fdt()), Errno::XEN_ENOENT);

    auto empty_kernel = host(module("multiboot,kernel", 0x44000000, 0));
    EXPECT_EQ(parse_error(empty_kernel.fdt()), Errno::XEN_ENOENT);
}

TEST(DtDomainSpec, TooManyDomains)
{
    std::string chosen = dom0_modules();
    for (unsigned i = 0; i < kMaxDomains; ++i)  // dom0 + 8 domUs = 9
        chosen += domu(("domU" + std::to_string(i + 1)).c_str(), 0x50000000 + i * 0x400000);
    auto t = host(chosen);
    auto p = parse(t.fdt());
    EXPECT_EQ(p->status.error(), Errno::XEN_ENOSPC);
    EXPECT_EQ(p->count, 0u);

    auto u = host(dom0_modules() + domu("domU1", 0x4a000000));
    EXPECT_EQ(parse(u.fdt(), 1)->status.error(), Errno::XEN_ENOSPC);
    EXPECT_TRUE(parse(u.fdt(), 2)->status.ok());
}

TEST(DtDomainSpec, MalformedDomainsAreErrors)
{
    struct Case {
        const char* what;
        void (*edit)(test::EditableFdt&);
        Errno want;
    };
    constexpr const char* d = "/chosen/domU1";
    constexpr const char* k = "/chosen/domU1/module@4a000000";
    const Case cases[] = {
        {"no cpus", [](test::EditableFdt& t) { t.remove(d, "cpus"); }, Errno::XEN_EINVAL},
        {"cpus of two bytes", [](test::EditableFdt& t) { t.set(d, "cpus", "\0\1", 2); }, Errno::XEN_EINVAL},
        {"zero cpus", [](test::EditableFdt& t) { t.set_cells(d, "cpus", {0}); }, Errno::XEN_EINVAL},
        {"too many cpus", [](test::EditableFdt& t) { t.set_cells(d, "cpus", {129}); }, Errno::XEN_EINVAL},
        {"no memory", [](test::EditableFdt& t) { t.remove(d, "memory"); }, Errno::XEN_EINVAL},
        {"memory of three cells", [](test::EditableFdt& t) { t.set_cells(d, "memory", {0, 0, 65536}); }, Errno::XEN_EINVAL},
        {"zero memory", [](test::EditableFdt& t) { t.set_cells(d, "memory", {0, 0}); }, Errno::XEN_EINVAL},
        {"memory not whole pages", [](test::EditableFdt& t) { t.set_cells(d, "memory", {0, 6}); }, Errno::XEN_EINVAL},
        {"memory overflows", [](test::EditableFdt& t) { t.set_cells(d, "memory", {0xffffffff, 0xffffffff}); }, Errno::XEN_EINVAL},
        {"bootargs unterminated", [](test::EditableFdt& t) { t.set(k, "bootargs", "probe", 5); }, Errno::XEN_EINVAL},
        {"bootargs too long", [](test::EditableFdt& t) { t.set_string(k, "bootargs", std::string(kMaxCmdline, 'x').c_str()); }, Errno::XEN_E2BIG},
        {"module reg too short", [](test::EditableFdt& t) { t.set_cells(k, "reg", {0, 0x4a000000, 0}); }, Errno::XEN_EINVAL},
        {"module without reg", [](test::EditableFdt& t) { t.remove(k, "reg"); }, Errno::XEN_EINVAL},
        {"module reg with 3-cell addresses", [](test::EditableFdt& t) {
             t.set_cells(d, "#address-cells", {3});
             t.set_cells(k, "reg", {0, 0, 0x4a000000, 0, 0x1000});
         }, Errno::XEN_EINVAL},
        {"name too long", [](test::EditableFdt& t) {
             t.add("/chosen", "a-domain-name-far-longer-than-31-characters");
             t.set_strings("/chosen/a-domain-name-far-longer-than-31-characters", "compatible", {"xen,domain"});
         }, Errno::XEN_ENAMETOOLONG},
        {"static memory", [](test::EditableFdt& t) { t.set_cells(d, "xen,static-mem", {0, 0x60000000, 0, 0x1000000}); }, Errno::XEN_EOPNOTSUPP},
        {"direct map", [](test::EditableFdt& t) { t.set_empty(d, "direct-map"); }, Errno::XEN_EOPNOTSUPP},
        {"passthrough tree", [](test::EditableFdt& t) {
             t.add(d, "module@4f000000");
             t.set_strings("/chosen/domU1/module@4f000000", "compatible", {"multiboot,device-tree", "multiboot,module"});
             t.set_cells("/chosen/domU1/module@4f000000", "reg", {0, 0x4f000000, 0, 0x1000});
         }, Errno::XEN_EOPNOTSUPP},
        {"dom0-bootargs unterminated", [](test::EditableFdt& t) { t.set("/chosen", "xen,dom0-bootargs", "abc", 3); }, Errno::XEN_EINVAL},
    };
    for (const Case& c : cases) {
        auto t = host(dom0_modules() + domu("domU1", 0x4a000000));
        c.edit(t);
        EXPECT_EQ(parse_error(t.fdt()), c.want) << c.what;
    }
}

TEST(DtDomainSpec, RandomCorruptionNeverCrashes)
{
    auto t = host(dom0_modules() + domu("domU1", 0x4a000000, "vpl011;\n"));
    t.pack();
    const auto* base = static_cast<const char*>(t.fdt());
    const std::vector<char> blob(base, base + fdt_totalsize(t.fdt()));
    std::mt19937 rng(99);
    for (int round = 0; round < 3000; ++round) {
        auto copy = blob;
        for (int i = 0; i < 3; ++i) copy[40 + rng() % (copy.size() - 40)] = static_cast<char>(rng());
        auto p = parse(copy.data());
        if (p->status.ok()) {
            EXPECT_LE(p->count, kMaxDomains);
        }
    }
}
