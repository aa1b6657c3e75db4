// Time as the unikernel's core sees it: nanoseconds since boot on a monotonic
// clock (the arch layer converts its counter). Instants and durations are
// distinct types so a deadline is never passed where a delay is meant.
#pragma once

#include <compare>
#include <cstdint>

namespace keel::uk {

class Duration {
public:
    constexpr Duration() = default;
    static constexpr Duration from_ns(std::uint64_t ns) { return Duration(ns); }
    constexpr std::uint64_t ns() const { return ns_; }
    constexpr auto operator<=>(const Duration&) const = default;

private:
    constexpr explicit Duration(std::uint64_t ns) : ns_(ns) {}
    std::uint64_t ns_ = 0;
};

constexpr Duration nanoseconds(std::uint64_t n) { return Duration::from_ns(n); }
constexpr Duration microseconds(std::uint64_t n) { return Duration::from_ns(n * 1000); }
constexpr Duration milliseconds(std::uint64_t n) { return Duration::from_ns(n * 1000 * 1000); }

class Instant {
public:
    constexpr Instant() = default;
    static constexpr Instant from_ns(std::uint64_t ns) { return Instant(ns); }
    // Later than every real instant: "no deadline".
    static constexpr Instant never() { return Instant(~std::uint64_t{0}); }

    constexpr std::uint64_t ns() const { return ns_; }
    constexpr bool is_never() const { return ns_ == never().ns_; }
    // Saturates at never() rather than wrapping into the past.
    constexpr Instant operator+(Duration d) const
    {
        return d.ns() > never().ns_ - ns_ ? never() : Instant(ns_ + d.ns());
    }
    // Zero when `earlier` is not earlier.
    constexpr Duration since(Instant earlier) const
    {
        return Duration::from_ns(ns_ > earlier.ns_ ? ns_ - earlier.ns_ : 0);
    }
    constexpr auto operator<=>(const Instant&) const = default;

private:
    constexpr explicit Instant(std::uint64_t ns) : ns_(ns) {}
    std::uint64_t ns_ = 0;
};

constexpr Instant earliest(Instant a, Instant b) { return a < b ? a : b; }

} // namespace keel::uk
