#include <keel/guest/clock.hpp>
#include <keel/guest/shared_memory.hpp>

namespace keel::guest {

namespace {
constexpr std::uint64_t kNsPerSec = 1000000000;
} // namespace

WallClock read_wallclock(const SharedInfo& s)
{
    for (;;) {
        const std::uint32_t v = shm::read_once(s.wc_version);
        // The version before the fields: a reader that then sees the same even
        // version again copied a record no update overlapped.
        shm::read_barrier();
        WallClock w;
        w.sec = (std::uint64_t{shm::read_once(s.wc_sec_hi)} << 32) | shm::read_once(s.wc_sec);
        w.nsec = shm::read_once(s.wc_nsec);
        // The fields before the version is read again.
        shm::read_barrier();
        if ((v & 1) == 0 && shm::read_once(s.wc_version) == v) return w;
    }
}

vcpu_time_info read_vcpu_time(const VcpuInfo& info)
{
    const vcpu_time_info& t = info.time;
    for (;;) {
        const std::uint32_t v = shm::read_once(t.version);
        shm::read_barrier();  // as in read_wallclock: version, then fields
        vcpu_time_info c{};
        c.version = v;
        c.tsc_timestamp = shm::read_once(t.tsc_timestamp);
        c.system_time = shm::read_once(t.system_time);
        c.tsc_to_system_mul = shm::read_once(t.tsc_to_system_mul);
        c.tsc_shift = shm::read_once(t.tsc_shift);
        c.flags = shm::read_once(t.flags);
        shm::read_barrier();  // fields, then the version again
        if ((v & 1) == 0 && shm::read_once(t.version) == v) return c;
    }
}

std::uint64_t scale_delta(std::uint64_t delta, std::uint32_t mul, std::int8_t shift)
{
    // A hostile or torn record must not make the shift undefined.
    if (shift <= -64 || shift >= 64) return 0;
    if (shift < 0)
        delta >>= -shift;
    else
        delta <<= shift;
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(delta) * mul) >> 32);
}

Clock::Clock(CounterReader read, void* context, std::uint64_t counter_hz)
    : read_(read), context_(context), hz_(counter_hz ? counter_hz : 1)
{
}

std::uint64_t Clock::system_time_ns() const
{
    const std::uint64_t now = read_(context_);
    if (vcpu_ != nullptr) {
        const vcpu_time_info t = read_vcpu_time(*vcpu_);
        if (t.tsc_to_system_mul != 0)
            return t.system_time + scale_delta(now - t.tsc_timestamp, t.tsc_to_system_mul, t.tsc_shift);
    }
    // Whole seconds and the remainder apart: exact (a fixed-point scale
    // drifts by tens of ns an hour at 24 MHz), and no product overflows for
    // any counter below 18 GHz.
    return now / hz_ * kNsPerSec + now % hz_ * kNsPerSec / hz_;
}

WallClock Clock::time_of_day(const SharedInfo& shared) const
{
    const WallClock base = read_wallclock(shared);
    const std::uint64_t ns = system_time_ns() + base.nsec;
    return WallClock{base.sec + ns / kNsPerSec, static_cast<std::uint32_t>(ns % kNsPerSec)};
}

} // namespace keel::guest
