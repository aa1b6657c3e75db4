#include "xen/version_info.hpp"

#include <gtest/gtest.h>
#include <cstring>
#include <vector>

#include <xen/version.h>

using namespace keel;
using namespace keel::xen;

namespace {
// A guest with one 4 KiB page of RAM at IPA 0x40000000.
struct FakeGuest final : GuestMemory {
    std::vector<std::uint8_t> ram = std::vector<std::uint8_t>(4096);
    static constexpr std::uint64_t kBase = 0x40000000;
    bool in_ram(IpAddr a, std::size_t n) const { return a.raw() >= kBase && a.raw() + n <= kBase + ram.size() && a.raw() + n >= a.raw(); }
    Status read(IpAddr src, void* dst, std::size_t n) override
    {
        if (!in_ram(src, n)) return Err(Errno::XEN_EFAULT);
        std::memcpy(dst, &ram[src.raw() - kBase], n);
        return {};
    }
    Status write(IpAddr dst, const void* src, std::size_t n) override
    {
        if (!in_ram(dst, n)) return Err(Errno::XEN_EFAULT);
        std::memcpy(&ram[dst.raw() - kBase], src, n);
        return {};
    }
};
constexpr IpAddr kArg{0x40000000};
} // namespace

TEST(XenVersionInfo, VersionIs4_17)
{
    FakeGuest g;
    EXPECT_EQ(xen_version(XENVER_version, kArg, {}, g), 0x40011);
    EXPECT_EQ(xen_version(XENVER_pagesize, kArg, {}, g), 4096);
}

TEST(XenVersionInfo, FeaturesMatchXen417ForADomU)
{
    FakeGuest g;
    xen_feature_info_t fi{0, 0xdead};
    ASSERT_TRUE(g.write_obj(kArg, fi).ok());
    EXPECT_EQ(xen_version(XENVER_get_features, kArg, {}, g), 0);
    ASSERT_TRUE(g.read_obj(kArg, fi).ok());
    EXPECT_EQ(fi.submap, 0x16005u);
    fi.submap_idx = 1;
    fi.submap = 0xffffffff;
    ASSERT_TRUE(g.write_obj(kArg, fi).ok());
    EXPECT_EQ(xen_version(XENVER_get_features, kArg, {}, g), -22) << "only submap 0 exists: EINVAL, as Xen 4.17";
    ASSERT_TRUE(g.read_obj(kArg, fi).ok());
    EXPECT_EQ(fi.submap, 0xffffffffu) << "nothing written back";
}

TEST(XenVersionInfo, StringsLandInGuestMemory)
{
    FakeGuest g;
    EXPECT_EQ(xen_version(XENVER_extraversion, kArg, {}, g), 0);
    EXPECT_STREQ(reinterpret_cast<const char*>(g.ram.data()), "-keel");
    EXPECT_EQ(xen_version(XENVER_capabilities, kArg, {}, g), 0);
    EXPECT_EQ(std::strncmp(reinterpret_cast<const char*>(g.ram.data()), "xen-3.0-aarch64", 15), 0);
}

TEST(XenVersionInfo, BadPointersAndCommandsAreErrors)
{
    FakeGuest g;
    EXPECT_EQ(xen_version(XENVER_extraversion, IpAddr(0x1000), {}, g), -14) << "not guest RAM: EFAULT";
    EXPECT_EQ(xen_version(XENVER_capabilities, IpAddr(0x40000c01), {}, g), -14) << "runs off the end";
    EXPECT_EQ(xen_version(XENVER_get_features, IpAddr(~0ull - 3), {}, g), -14) << "wraps around";
    EXPECT_EQ(xen_version(0x1234, kArg, {}, g), -38);
    EXPECT_EQ(xen_version(XENVER_commandline, kArg, {}, g), -1) << "EPERM for a domU";
}
