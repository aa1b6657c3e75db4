// The guest device tree against what Xen 4.17 wrote for a dom0less domU
// (tests/unit/data/xen417_dom0less_domU_guest_dt_*.dts, dumped from a guest).
#include "dt/guest_fdt.hpp"

#include "dt_test_support.hpp"

#include <gtest/gtest.h>
#include <libfdt.h>

#include <cstring>
#include <string>
#include <vector>

using namespace keel;
using namespace keel::dt;

namespace {

constexpr std::uint64_t MiB = 1ull << 20;

// The domain behind the reference trees: 1 vCPU, 64 MiB, "probe", vpl011, GICv3.
GuestFdtParams reference_params()
{
    GuestFdtParams p{};
    p.memory[0] = {IpAddr(0x40000000), 64 * MiB};
    p.nr_memory = 1;
    p.vcpus = 1;
    p.cpu_compatible = "arm,cortex-a57";
    p.gic_version = 3;
    p.gicd = {IpAddr(0x03001000), 0x10000};
    p.gicr_or_gicc = {IpAddr(0x03020000), 0x1000000};
    p.vpl011 = true;
    p.vpl011_base = IpAddr(0x22000000);
    p.vpl011_intid = 32;
    p.bootargs = "probe";
    return p;
}

// The hypervisor node's contents as Xen computes them for the same domain.
void add_xen_node(GuestFdtParams& p)
{
    p.xen_node = true;
    p.xen_regions[0] = {IpAddr(0x38000000), 16 * MiB};  // grant table
    const std::uint64_t used[2] = {p.memory[0].size, 0};
    p.nr_xen_regions = 1 + xen_extended_regions(used, 40, &p.xen_regions[1], 3);
    p.evtchn_ppi = 31;
}

std::vector<char> build(const GuestFdtParams& p, std::size_t size = 4096)
{
    std::vector<char> buf(size);
    auto r = build_guest_fdt(buf.data(), buf.size(), p);
    EXPECT_TRUE(r.ok()) << errno_name(r.error());
    if (!r.ok()) return {};
    EXPECT_EQ(fdt_check_full(buf.data(), *r), 0);
    buf.resize(*r);
    return buf;
}

std::string prop_hex(const std::vector<char>& fdt, const char* path, const char* prop)
{
    const int node = fdt_path_offset(fdt.data(), path);
    if (node < 0) return "<no node>";
    int len = 0;
    const void* v = fdt_getprop(fdt.data(), node, prop, &len);
    if (v == nullptr) return "<absent>";
    return test::detail::hex(v, len);
}

std::vector<std::string> child_names(const std::vector<char>& fdt, const char* path)
{
    std::vector<std::string> names;
    int child;
    fdt_for_each_subnode(child, fdt.data(), fdt_path_offset(fdt.data(), path)) {
        names.emplace_back(fdt_get_name(fdt.data(), child, nullptr));
    }
    return names;
}

} // namespace

TEST(DtGuestFdt, MatchesXenPlainReference)
{
    const auto want = test::compile_dts("xen417_dom0less_domU_guest_dt_plain.dts");
    ASSERT_FALSE(want.empty());
    const auto got = build(reference_params());
    ASSERT_FALSE(got.empty());
    // No skips: Keel also writes Xen's 0/0 initrd placeholders (see guest_fdt.hpp).
    EXPECT_TRUE(test::same_tree(got.data(), want.data()));
}

TEST(DtGuestFdt, MatchesXenEnhancedReference)
{
    const auto want = test::compile_dts("xen417_dom0less_domU_guest_dt_enhanced.dts");
    ASSERT_FALSE(want.empty());
    GuestFdtParams p = reference_params();
    add_xen_node(p);
    const auto got = build(p);
    ASSERT_FALSE(got.empty());
    EXPECT_TRUE(test::same_tree(got.data(), want.data()));
}

TEST(DtGuestFdt, ComparisonNoticesADifference)
{
    // Guard against a comparison that passes everything.
    const auto want = test::compile_dts("xen417_dom0less_domU_guest_dt_plain.dts");
    GuestFdtParams p = reference_params();
    p.bootargs = "probe2";
    EXPECT_FALSE(test::same_tree(build(p).data(), want.data()));
    p = reference_params();
    p.vpl011 = false;
    EXPECT_FALSE(test::same_tree(build(p).data(), want.data()));
}

TEST(DtGuestFdt, ExtendedRegionsFollowXen)
{
    IpRegion r[3];
    const std::uint64_t used[2] = {64 * MiB, 0};
    ASSERT_EQ(xen_extended_regions(used, 40, r, 3), 2u);
    EXPECT_EQ(r[0].base.raw(), 0x44000000u);
    EXPECT_EQ(r[0].size, 0xbc000000u);
    EXPECT_EQ(r[1].base.raw(), 0x200000000u);
    EXPECT_EQ(r[1].size, 0xfe00000000u);

    // A 32-bit IPA space ends inside the first window and leaves out the second.
    ASSERT_EQ(xen_extended_regions(used, 32, r, 3), 1u);
    EXPECT_EQ(r[0].size, 0x100000000u - 0x44000000u);

    // Ends rounded up to 2 MiB; a remainder under 64 MiB is not offered.
    const std::uint64_t odd[2] = {64 * MiB + 4096, 0};
    ASSERT_EQ(xen_extended_regions(odd, 40, r, 3), 2u);
    EXPECT_EQ(r[0].base.raw(), 0x44200000u);
    const std::uint64_t full[2] = {0xc0000000 - 32 * MiB, 0};
    ASSERT_EQ(xen_extended_regions(full, 40, r, 3), 1u);
    EXPECT_EQ(r[0].base.raw(), 0x200000000u);
    EXPECT_EQ(xen_extended_regions(used, 40, r, 1), 1u);
}

TEST(DtGuestFdt, OneCpuNodePerVcpu)
{
    GuestFdtParams p = reference_params();
    p.vcpus = 2;
    const auto fdt = build(p);
    EXPECT_EQ(child_names(fdt, "/cpus"), (std::vector<std::string>{"cpu@0", "cpu@1"}));
    EXPECT_EQ(prop_hex(fdt, "/cpus/cpu@1", "reg"), "00000001");
    EXPECT_EQ(prop_hex(fdt, "/cpus/cpu@1", "enable-method"), test::detail::hex("psci", 5));
    EXPECT_EQ(prop_hex(fdt, "/cpus/cpu@1", "compatible"), test::detail::hex("arm,cortex-a57", 15));
    EXPECT_EQ(prop_hex(fdt, "/cpus/cpu@1", "device_type"), test::detail::hex("cpu", 4));
    EXPECT_EQ(prop_hex(fdt, "/cpus/cpu@1", "clock-frequency"), "<absent>");
}

TEST(DtGuestFdt, CpuNodesUseXenVirtualAffinity)
{
    // Sixteen vCPUs per Aff0 cluster: vCPU 16 is MPIDR 0x100.
    GuestFdtParams p = reference_params();
    p.vcpus = 18;
    const auto fdt = build(p, 16384);
    const auto names = child_names(fdt, "/cpus");
    ASSERT_EQ(names.size(), 18u);
    EXPECT_EQ(names[15], "cpu@f");
    EXPECT_EQ(names[16], "cpu@100");
    EXPECT_EQ(names[17], "cpu@101");
    EXPECT_EQ(prop_hex(fdt, "/cpus/cpu@100", "reg"), "00000100");
}

TEST(DtGuestFdt, CopiesHostCpuCompatibleListAndClocks)
{
    static const char compat[] = "arm,cortex-a72\0arm,armv8";
    GuestFdtParams p = reference_params();
    p.cpu_compatible = compat;
    p.cpu_compatible_len = sizeof compat;
    p.cpu_clock_frequency = 1800000000;
    p.timer_clock_frequency = 62500000;
    const auto fdt = build(p);
    EXPECT_EQ(prop_hex(fdt, "/cpus/cpu@0", "compatible"), test::detail::hex(compat, sizeof compat));
    EXPECT_EQ(prop_hex(fdt, "/cpus/cpu@0", "clock-frequency"), "6b49d200");
    EXPECT_EQ(prop_hex(fdt, "/timer", "clock-frequency"), "03b9aca0");
}

TEST(DtGuestFdt, GicV2NodeIsXensGic400)
{
    GuestFdtParams p = reference_params();
    p.gic_version = 2;
    p.gicd = {IpAddr(0x03001000), 0x1000};
    p.gicr_or_gicc = {IpAddr(0x03002000), 0x2000};
    const auto fdt = build(p);
    const char* gic = "/interrupt-controller@3001000";
    EXPECT_EQ(prop_hex(fdt, gic, "compatible"), test::detail::hex("arm,gic-400", 12));
    EXPECT_EQ(prop_hex(fdt, gic, "reg"),
              "00000000 03001000 00000000 00001000 00000000 03002000 00000000 00002000");
    EXPECT_EQ(prop_hex(fdt, gic, "#interrupt-cells"), "00000003");
    EXPECT_EQ(prop_hex(fdt, gic, "#address-cells"), "00000000");
    EXPECT_EQ(prop_hex(fdt, gic, "interrupt-controller"), "");
    EXPECT_EQ(prop_hex(fdt, gic, "phandle"), "0000fde8");
    EXPECT_EQ(prop_hex(fdt, gic, "linux,phandle"), "0000fde8");
    // Unlike QEMU's host tree for a GICv2, Xen 4.17 keeps the PPI CPU mask at 0xf for every GIC version.
    EXPECT_EQ(prop_hex(fdt, "/timer", "interrupts"),
              "00000001 0000000d 00000f08 00000001 0000000e 00000f08 00000001 0000000b 00000f08");
    EXPECT_EQ(prop_hex(fdt, "/timer", "interrupt-parent"), "0000fde8");
}

TEST(DtGuestFdt, InitrdRangeInChosen)
{
    GuestFdtParams p = reference_params();
    p.initrd = {IpAddr(0x48000000), 0x123456};
    const auto fdt = build(p);
    EXPECT_EQ(prop_hex(fdt, "/chosen", "linux,initrd-start"), "00000000 48000000");
    EXPECT_EQ(prop_hex(fdt, "/chosen", "linux,initrd-end"), "00000000 48123456");
}

TEST(DtGuestFdt, NoBootargsNoProperty)
{
    GuestFdtParams p = reference_params();
    p.bootargs = nullptr;
    EXPECT_EQ(prop_hex(build(p), "/chosen", "bootargs"), "<absent>");
    p.bootargs = "";
    EXPECT_EQ(prop_hex(build(p), "/chosen", "bootargs"), "<absent>");
}

TEST(DtGuestFdt, TwoMemoryBanksInOneNode)
{
    GuestFdtParams p = reference_params();
    p.memory[0] = {IpAddr(0x40000000), 0xc0000000};
    p.memory[1] = {IpAddr(0x200000000), 1ull << 30};
    p.nr_memory = 2;
    const auto fdt = build(p);
    EXPECT_EQ(prop_hex(fdt, "/memory@40000000", "reg"),
              "00000000 40000000 00000000 c0000000 00000002 00000000 00000000 40000000");
}

TEST(DtGuestFdt, TooSmallBufferIsAnErrorAtEverySize)
{
    GuestFdtParams p = reference_params();
    add_xen_node(p);
    const std::size_t need = build(p).size();
    ASSERT_GT(need, 0u);
    for (std::size_t size = 0; size < need; ++size) {
        // Exactly `size` bytes (one for size 0, for a valid pointer), so ASan catches any write past the end.
        std::vector<char> buf(size == 0 ? 1 : size);
        auto r = build_guest_fdt(buf.data(), size, p);
        ASSERT_FALSE(r.ok()) << size;
        EXPECT_EQ(r.error(), Errno::XEN_ENOSPC) << size;
    }
    std::vector<char> exact(need);
    EXPECT_TRUE(build_guest_fdt(exact.data(), exact.size(), p).ok());
}

TEST(DtGuestFdt, RejectsInconsistentParameters)
{
    std::vector<char> buf(4096);
    auto bad = [&](auto&& change) {
        GuestFdtParams p = reference_params();
        change(p);
        auto r = build_guest_fdt(buf.data(), buf.size(), p);
        return !r.ok() && r.error() == Errno::XEN_EINVAL;
    };
    EXPECT_TRUE(bad([](GuestFdtParams& p) { p.vcpus = 0; }));
    EXPECT_TRUE(bad([](GuestFdtParams& p) { p.vcpus = 129; }));
    EXPECT_TRUE(bad([](GuestFdtParams& p) { p.nr_memory = 0; }));
    EXPECT_TRUE(bad([](GuestFdtParams& p) { p.nr_memory = 3; }));
    EXPECT_TRUE(bad([](GuestFdtParams& p) { p.memory[0].size = 0; }));
    EXPECT_TRUE(bad([](GuestFdtParams& p) { p.gic_version = 4; }));
    EXPECT_TRUE(bad([](GuestFdtParams& p) { p.cpu_compatible = nullptr; }));
    EXPECT_TRUE(bad([](GuestFdtParams& p) { p.cpu_compatible_len = 3; }));  // "arm" without its NUL
    EXPECT_TRUE(bad([](GuestFdtParams& p) { p.vpl011_intid = 31; }));
    EXPECT_TRUE(bad([](GuestFdtParams& p) { p.xen_node = true; p.nr_xen_regions = 0; p.evtchn_ppi = 31; }));
    EXPECT_TRUE(bad([](GuestFdtParams& p) { p.xen_node = true; p.nr_xen_regions = 1; p.evtchn_ppi = 32; }));
    EXPECT_TRUE(bad([](GuestFdtParams& p) {
        static const std::string endless(5000, 'x');  // no command line is this long
        p.bootargs = endless.c_str();
    }));
    GuestFdtParams p = reference_params();
    EXPECT_FALSE(build_guest_fdt(nullptr, 4096, p).ok());
}
