// A small printf-style formatter with no allocation, shared by the hypervisor,
// the guest runtime and host tests. Supports %d %i %u %x %X %p %s %c %% with
// the l/ll/z length modifiers, '0' padding and field width.
#pragma once

#include <cstdarg>
#include <cstddef>

namespace keel {

// Writes at most n-1 characters plus a NUL; returns the length the full output would have.
std::size_t vformat(char* buf, std::size_t n, const char* fmt, va_list ap);
std::size_t format(char* buf, std::size_t n, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

} // namespace keel
