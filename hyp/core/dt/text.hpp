// Bounded string helpers for device-tree code. The hypervisor has no libc, and
// every string here comes from an untrusted blob, so each helper takes a limit.
#pragma once

#include <cstddef>

namespace keel::dt {

// A string that is not necessarily NUL-terminated: a slice of a property or command line.
struct TextView {
    const char* data = nullptr;
    std::size_t size = 0;

    constexpr bool empty() const { return size == 0; }
    constexpr bool equals(const char* s) const
    {
        std::size_t i = 0;
        for (; i < size; ++i)
            if (s[i] == '\0' || s[i] != data[i]) return false;
        return s[i] == '\0';
    }
};

// Length of `s`, looking at no more than `max` bytes (returns max if no NUL is found).
constexpr std::size_t bounded_length(const char* s, std::size_t max)
{
    std::size_t n = 0;
    while (n < max && s[n] != '\0') ++n;
    return n;
}

constexpr bool text_equal(const char* a, const char* b)
{
    while (*a != '\0' && *a == *b) ++a, ++b;
    return *a == *b;
}

// Copies `src` (size bytes, not necessarily NUL-terminated) into dst[cap] with a
// terminating NUL. Returns false, leaving dst empty, if it does not fit.
constexpr bool copy_text(char* dst, std::size_t cap, TextView src)
{
    if (cap == 0) return false;
    if (src.size >= cap) {
        dst[0] = '\0';
        return false;
    }
    for (std::size_t i = 0; i < src.size; ++i) dst[i] = src.data[i];
    dst[src.size] = '\0';
    return true;
}

constexpr bool copy_text(char* dst, std::size_t cap, const char* src)
{
    return copy_text(dst, cap, TextView{src, bounded_length(src, cap)});
}

} // namespace keel::dt
