// Benchmarks, not checks: guest-visible virtual-counter ticks per operation.
// Under QEMU's -icount the counter follows the instruction count, so the
// numbers repeat from run to run and compare hypervisors on equal terms.
#include "event_link.hpp"
#include "roles.hpp"
#include "xen_calls.hpp"

#include <cstdint>

namespace pingpong {
namespace {

constexpr unsigned kWarmUp = 16;

std::uint64_t ticks()
{
    std::uint64_t v;
    asm volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(v) : : "memory");
    return v;
}

std::uint64_t counter_hz()
{
    std::uint64_t v;
    asm volatile("mrs %0, cntfrq_el0" : "=r"(v));
    return v;
}

void report(const char* what, unsigned count, std::uint64_t elapsed)
{
    const std::uint64_t hundredths = elapsed * 100 / count;
    line("bench", "%u %s: %lu ticks, %lu.%02lu ticks each (counter %lu Hz)", count, what,
         static_cast<unsigned long>(elapsed), static_cast<unsigned long>(hundredths / 100),
         static_cast<unsigned long>(hundredths % 100), static_cast<unsigned long>(counter_hz()));
}

} // namespace

int run_hypercall_bench(unsigned count)
{
    for (unsigned i = 0; i < kWarmUp; ++i) xen_version();
    const std::uint64_t start = ticks();
    for (unsigned i = 0; i < count; ++i) xen_version();
    report("xen_version(0) hypercalls", count, ticks() - start);
    return 0;
}

int bench_round_trips_a(const EventLink& link, unsigned count)
{
    for (unsigned i = 0; i < kWarmUp; ++i)
        if (link.notify() != 0 || link.wait() != 0) return 1;
    const std::uint64_t start = ticks();
    for (unsigned i = 0; i < count; ++i)
        if (link.notify() != 0 || link.wait() != 0) return 1;
    report("event-channel round trips", count, ticks() - start);
    return 0;
}

int bench_round_trips_b(const EventLink& link, unsigned count)
{
    for (unsigned i = 0; i < kWarmUp + count; ++i)
        if (link.wait() != 0 || link.notify() != 0) return 1;
    return 0;
}

} // namespace pingpong
