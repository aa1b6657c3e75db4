// The hypervisor's console: its own messages ("(XEN)"-style, prefixed "(keel)")
// and whole lines from guests ("(d1) ..."), serialised so lines never interleave.
#pragma once

#include <cstddef>

namespace keel::arch {

void console_init(unsigned long uart_base);
void printk(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
// A finished line of guest output, printed as "(d<domid>) text".
void console_guest_line(unsigned domid, const char* text, std::size_t len);
// Input arrives by interrupt from now on (the caller enables it at the GIC).
void console_enable_input_interrupt();
// Polls the physical UART for input; -1 if none.
int console_getc();

} // namespace keel::arch
