// The SDK's C++ views of shared_info and vcpu_info against the Xen headers
// compiled as C with the Arm layout (evtchn_abi_layout.c), entry by entry.
#include <keel/guest/xen_abi.hpp>

#include <gtest/gtest.h>

#include "evtchn_abi_layout.h"

extern "C" const keel_layout_entry* keel_evtchn_c_layout(unsigned* count) __attribute__((weak));

namespace {
#define XEN_ULONG keel::guest::XenUlong
#define KEEL_ENTRY(label, value) {label, static_cast<unsigned long>(value)},
const keel_layout_entry kSdkLayout[] = {
    KEEL_EVTCHN_ABI_LAYOUT(KEEL_ENTRY, keel::guest::VcpuInfo, keel::guest::SharedInfo)
};
#undef KEEL_ENTRY
#undef XEN_ULONG
} // namespace

TEST(SdkAbiLayout, SharedPagesMatchTheCHeadersForArm)
{
    if (!keel_evtchn_c_layout) GTEST_SKIP() << "evtchn_abi_layout.c is not linked into this binary";
    unsigned n = 0;
    const keel_layout_entry* c = keel_evtchn_c_layout(&n);
    ASSERT_EQ(n, sizeof kSdkLayout / sizeof kSdkLayout[0]);
    for (unsigned i = 0; i < n; ++i) {
        EXPECT_STREQ(c[i].label, kSdkLayout[i].label);
        EXPECT_EQ(c[i].value, kSdkLayout[i].value) << c[i].label;
    }
}
