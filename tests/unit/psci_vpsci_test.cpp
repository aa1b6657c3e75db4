#include "psci/vpsci.hpp"

#include <gtest/gtest.h>

using namespace keel::psci;

namespace {
struct Recorder final : Actions {
    unsigned vcpus = 2;
    bool online[8] = {true, false};
    int on_target = -1;
    std::uint64_t on_entry = 0, on_ctx = 0;
    bool off = false, sys_off = false, reset = false, suspended = false;
    std::int64_t cpu_on(unsigned t, std::uint64_t e, std::uint64_t c) override
    {
        if (online[t]) return kAlreadyOn;
        on_target = int(t);
        on_entry = e;
        on_ctx = c;
        online[t] = true;
        return kSuccess;
    }
    void cpu_off() override { off = true; }
    bool vcpu_online(unsigned t) override { return online[t]; }
    unsigned nr_vcpus() override { return vcpus; }
    void system_off() override { sys_off = true; }
    void system_reset() override { reset = true; }
    void cpu_suspend() override { suspended = true; }
};
} // namespace

TEST(PsciVpsci, VersionAndFeaturesAsXenReports)
{
    Recorder r;
    EXPECT_EQ(call(fn::kVersion, 0, 0, 0, r), 0x10001);
    EXPECT_EQ(call(fn::kSmcccVersion, 0, 0, 0, r), 0x10001);
    EXPECT_EQ(call(fn::kFeatures, fn::kCpuOn64, 0, 0, r), kSuccess);
    EXPECT_EQ(call(fn::kFeatures, fn::kSystemOff, 0, 0, r), kSuccess);
    EXPECT_EQ(call(fn::kFeatures, 0x8400001f, 0, 0, r), kNotSupported);
    EXPECT_EQ(call(fn::kMigrateInfoType, 0, 0, 0, r), 2);
    EXPECT_EQ(call(0x84000055, 0, 0, 0, r), kNotSupported);
}

TEST(PsciVpsci, CpuOnChecksTargetAndState)
{
    Recorder r;
    EXPECT_EQ(call(fn::kCpuOn64, 1, 0x40080000, 0x1234, r), kSuccess);
    EXPECT_EQ(r.on_target, 1);
    EXPECT_EQ(r.on_entry, 0x40080000u);
    EXPECT_EQ(r.on_ctx, 0x1234u);
    EXPECT_EQ(call(fn::kCpuOn64, 1, 0x40080000, 0, r), kAlreadyOn);
    EXPECT_EQ(call(fn::kCpuOn64, 2, 0, 0, r), kInvalidParameters) << "no vCPU 2";
    EXPECT_EQ(call(fn::kCpuOn64, 0x100, 0, 0, r), kInvalidParameters) << "Aff1 names no vCPU";
    EXPECT_EQ(call(fn::kCpuOn64, ~0ull, 0, 0, r), kInvalidParameters);
    EXPECT_EQ(call(fn::kAffinityInfo64, 1, 0, 0, r), 0) << "ON";
    EXPECT_EQ(call(fn::kAffinityInfo64, 1, 1, 0, r), kInvalidParameters);
}

TEST(PsciVpsci, ThirtyTwoBitCallsIgnoreUpperHalves)
{
    Recorder r;
    EXPECT_EQ(call(fn::kCpuOn32, 0xffffffff00000001ull, 0xdead00001000ull, 0, r), kSuccess);
    EXPECT_EQ(r.on_target, 1);
    EXPECT_EQ(r.on_entry, 0x1000u);
}

TEST(PsciVpsci, PowerCalls)
{
    Recorder r;
    call(fn::kSystemOff, 0, 0, 0, r);
    EXPECT_TRUE(r.sys_off);
    call(fn::kSystemReset, 0, 0, 0, r);
    EXPECT_TRUE(r.reset);
    call(fn::kCpuOff, 0, 0, 0, r);
    EXPECT_TRUE(r.off);
    call(fn::kCpuSuspend64, 0, 0, 0, r);
    EXPECT_TRUE(r.suspended);
    EXPECT_TRUE(is_psci_or_smccc(fn::kCpuOn64));
    EXPECT_FALSE(is_psci_or_smccc(0xc6000000)) << "OEM service range is not ours";
}
