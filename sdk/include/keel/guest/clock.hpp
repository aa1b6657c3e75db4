// Time, as a Xen guest on Arm gets it.
//
// Two records in shared memory, each under a version counter the hypervisor
// makes odd while it rewrites the record (readers retry until they see the
// same even version before and after their copy):
//  - shared_info's wallclock (wc_*): the time of day at system time zero;
//  - each vCPU's vcpu_time_info (the x86 "pvclock"): system_time at counter
//    value tsc_timestamp, and the counter-to-ns scale (tsc_to_system_mul,
//    tsc_shift).
//
// What Xen on Arm actually does: it never fills vcpu_time_info (all zero),
// and guests read time from the generic timer's virtual counter, which Xen
// (and Keel) start near zero when the domain is created. So Clock takes a
// counter reader and its frequency, and:
//  - if vcpu_time_info is populated (tsc_to_system_mul != 0), system time is
//    system_time + scale(counter - tsc_timestamp), as on x86;
//  - otherwise system time is the counter scaled to ns: time since the
//    domain started.
// The time of day is wallclock + system time. On Arm that is off by how long
// the hypervisor ran before creating the domain (the wallclock's zero is the
// hypervisor's boot); Linux on Arm makes the same approximation. wc_* stays
// zero until a control domain sets the time, which Arm Xen has no RTC to do.
#pragma once

#include <keel/guest/xen_abi.hpp>

#include <cstdint>

namespace keel::guest {

struct WallClock {
    std::uint64_t sec;
    std::uint32_t nsec;
};

// shared_info's wallclock, read under wc_version.
WallClock read_wallclock(const SharedInfo& shared);

// A consistent copy of `info.time`, read under its version.
vcpu_time_info read_vcpu_time(const VcpuInfo& info);

// pvclock scaling: (delta shifted by `shift`) * mul / 2^32.
std::uint64_t scale_delta(std::uint64_t delta, std::uint32_t mul, std::int8_t shift);

// Returns the counter the guest's time comes from (CNTVCT_EL0 on Arm).
using CounterReader = std::uint64_t (*)(void* context);

class Clock {
public:
    // `counter_hz`: the counter's frequency (CNTFRQ_EL0, or the timer node's
    // clock-frequency where firmware left CNTFRQ zero). Must not be zero.
    Clock(CounterReader read, void* context, std::uint64_t counter_hz);

    // Prefer this vCPU's vcpu_time_info whenever the hypervisor fills it in.
    // (Per vCPU on x86; on Arm it stays zero and the counter is used.)
    void use_vcpu_time(const VcpuInfo* info) { vcpu_ = info; }

    // Nanoseconds of system time (see above).
    std::uint64_t system_time_ns() const;
    // The time of day: `shared`'s wallclock plus system time.
    WallClock time_of_day(const SharedInfo& shared) const;

    std::uint64_t counter_hz() const { return hz_; }

private:
    CounterReader read_;
    void* context_;
    std::uint64_t hz_;
    const VcpuInfo* vcpu_ = nullptr;
};

#if defined(__aarch64__)
// The generic timer's virtual counter (ISB first: the read is not otherwise
// ordered after earlier instructions) and its frequency.
inline std::uint64_t read_virtual_counter(void*)
{
    std::uint64_t v;
    asm volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(v) : : "memory");
    return v;
}

inline std::uint64_t counter_frequency()
{
    std::uint64_t f;
    asm volatile("mrs %0, cntfrq_el0" : "=r"(f));
    return f;
}
#endif

} // namespace keel::guest
