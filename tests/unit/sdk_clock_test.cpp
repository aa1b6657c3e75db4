// Wallclock and system time: the version protocol, the pvclock scaling, and
// the generic-timer fallback Arm guests actually get.
#include <keel/guest/clock.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

using namespace keel::guest;

namespace {

struct FakeCounter {
    std::uint64_t value = 0;
    static std::uint64_t read(void* c) { return static_cast<FakeCounter*>(c)->value; }
};

// The hypervisor's side of the version protocol.
void publish_wallclock(SharedInfo& s, std::uint64_t sec, std::uint32_t nsec)
{
    __atomic_store_n(&s.wc_version, s.wc_version + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(&s.wc_sec, static_cast<std::uint32_t>(sec), __ATOMIC_RELAXED);
    __atomic_store_n(&s.wc_sec_hi, static_cast<std::uint32_t>(sec >> 32), __ATOMIC_RELAXED);
    __atomic_store_n(&s.wc_nsec, nsec, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(&s.wc_version, s.wc_version + 1, __ATOMIC_RELAXED);
}

} // namespace

TEST(SdkClock, WallclockJoinsTheSecondsHalves)
{
    SharedInfo s{};
    publish_wallclock(s, 0x1'2345'6789ull, 500);
    const WallClock w = read_wallclock(s);
    EXPECT_EQ(w.sec, 0x1'2345'6789ull);
    EXPECT_EQ(w.nsec, 500u);
    EXPECT_EQ(s.wc_version % 2, 0u);
}

TEST(SdkClock, ReadersNeverSeeAHalfWrittenRecord)
{
    // The writer keeps sec == nsec (and sec_hi == sec); a torn copy breaks that.
    SharedInfo s{};
    std::atomic<bool> stop{false};
    std::thread writer([&] {
        for (std::uint32_t i = 1; !stop.load(); ++i) publish_wallclock(s, std::uint64_t{i} << 32 | i, i);
    });
    for (int n = 0; n < 200000; ++n) {
        const WallClock w = read_wallclock(s);
        ASSERT_EQ(w.sec >> 32, w.sec & 0xffffffff);
        ASSERT_EQ(w.sec & 0xffffffff, w.nsec);
    }
    stop = true;
    writer.join();
}

TEST(SdkClock, ScaleDeltaIsPvclocksFormula)
{
    EXPECT_EQ(scale_delta(1000, 0x80000000u, 0), 500u);  // mul is a 0.32 fraction
    EXPECT_EQ(scale_delta(1000, 0x80000000u, 1), 1000u);
    EXPECT_EQ(scale_delta(1000, 0x80000000u, -1), 250u);
    EXPECT_EQ(scale_delta(~0ull, 0xffffffffu, 0), 0xfffffffeffffffffull) << "no overflow in the product";
    EXPECT_EQ(scale_delta(1000, 0x80000000u, 100), 0u) << "a hostile shift";
}

TEST(SdkClock, ArmFallbackScalesTheCounter)
{
    // Xen on Arm and Keel leave vcpu_time_info zero: the counter is the time.
    FakeCounter counter;
    VcpuInfo info{};
    Clock clock(&FakeCounter::read, &counter, 62'500'000);  // QEMU's virt counter
    clock.use_vcpu_time(&info);
    counter.value = 62'500'000;
    EXPECT_EQ(clock.system_time_ns(), 1'000'000'000u);
    counter.value = 1;
    EXPECT_EQ(clock.system_time_ns(), 16u);
    Clock odd(&FakeCounter::read, &counter, 24'000'000);
    counter.value = 24'000'000ull * 3600;
    EXPECT_NEAR(static_cast<double>(odd.system_time_ns()), 3600e9, 1.0) << "an hour at 24 MHz, to the ns";
}

TEST(SdkClock, PopulatedVcpuTimeIsUsed)
{
    FakeCounter counter;
    VcpuInfo info{};
    info.time.version = 2;
    info.time.tsc_timestamp = 100;
    info.time.system_time = 5'000;
    info.time.tsc_to_system_mul = 0x80000000u;
    info.time.tsc_shift = 1;  // one tick is one ns
    Clock clock(&FakeCounter::read, &counter, 1'000'000'000);
    clock.use_vcpu_time(&info);
    counter.value = 150;
    EXPECT_EQ(clock.system_time_ns(), 5'050u);
    const vcpu_time_info copy = read_vcpu_time(info);
    EXPECT_EQ(copy.system_time, 5'000u);
}

TEST(SdkClock, TimeOfDayIsWallclockPlusSystemTime)
{
    FakeCounter counter;
    SharedInfo s{};
    publish_wallclock(s, 1'700'000'000, 900'000'000);
    Clock clock(&FakeCounter::read, &counter, 1'000'000'000);
    counter.value = 2'300'000'000;  // 2.3 s since the domain started
    const WallClock now = clock.time_of_day(s);
    EXPECT_EQ(now.sec, 1'700'000'003u);
    EXPECT_EQ(now.nsec, 200'000'000u);
}
