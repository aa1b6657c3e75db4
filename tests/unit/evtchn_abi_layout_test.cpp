// Keel's C++ view of the event-channel ABI against the C headers compiled as C
// (evtchn_abi_layout.c): the C++-compiled Xen headers differ from C on Arm
// wherever an empty arch struct is involved, so every struct and offset the
// core relies on is compared here.
#include "evtchn/shared_layout.hpp"

#include <gtest/gtest.h>

#include <xen/event_channel.h>
#include <xen/vcpu.h>
#include <xen/xen.h>

#include <cstddef>
#include <cstdint>

#include "evtchn_abi_layout.h"

// Provided by evtchn_abi_layout.c when the build links it (weak: without it the test is skipped).
extern "C" const keel_layout_entry* keel_evtchn_c_layout(unsigned* count) __attribute__((weak));

namespace {
#define XEN_ULONG keel::evtchn::XenUlong
#define KEEL_ENTRY(label, value) {label, static_cast<unsigned long>(value)},
const keel_layout_entry kCppLayout[] = {
    KEEL_EVTCHN_ABI_LAYOUT(KEEL_ENTRY, keel::evtchn::VcpuInfo, keel::evtchn::SharedInfo)
};
#undef KEEL_ENTRY
#undef XEN_ULONG
} // namespace

TEST(EvtchnAbiLayoutTest, CppViewsMatchTheCHeadersCompiledAsC)
{
    if (!keel_evtchn_c_layout) GTEST_SKIP() << "evtchn_abi_layout.c is not linked into this binary";
    unsigned n = 0;
    const keel_layout_entry* c = keel_evtchn_c_layout(&n);
    ASSERT_EQ(n, sizeof kCppLayout / sizeof kCppLayout[0]);
    for (unsigned i = 0; i < n; ++i) {
        EXPECT_STREQ(c[i].label, kCppLayout[i].label);
        EXPECT_EQ(c[i].value, kCppLayout[i].value) << c[i].label;
    }
}

TEST(EvtchnAbiLayoutTest, ArmNumbersAsMeasured)
{
    // The values an arm64 guest built from the C header uses (aarch64-linux-gnu-gcc).
    EXPECT_EQ(sizeof(keel::evtchn::VcpuInfo), 48u);
    EXPECT_EQ(offsetof(keel::evtchn::SharedInfo, evtchn_pending), 48u);
    EXPECT_EQ(offsetof(keel::evtchn::SharedInfo, evtchn_mask), 560u);
    EXPECT_EQ(sizeof(keel::evtchn::SharedInfo), 1088u);
    EXPECT_EQ(sizeof(evtchn_status), 24u);
    EXPECT_EQ(offsetof(evtchn_status, u.interdomain.port), 20u);
}
