// The guest console: the UART the device tree describes (`arm,sbsa-uart`, the
// vpl011 Xen and Keel give a domU, or a real `arm,pl011`), written with
// TXFF polling. Output before the runtime has found the UART is dropped.
#pragma once

#include <cstdarg>
#include <cstddef>

namespace keel::guest {

// printf-style (keel::format's conversions). One call formats at most
// kConsoleLineMax - 1 characters; the rest is cut off.
inline constexpr std::size_t kConsoleLineMax = 256;
void print(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void vprint(const char* fmt, va_list ap);

void write(const char* text, std::size_t length);

// Whether a UART was found in the device tree.
bool console_present();

} // namespace keel::guest
