#include "console.hpp"

#include "pl011.hpp"

#include <keel/format.hpp>
#include <keel/spinlock.hpp>

#include <cstdarg>

namespace keel::arch {

namespace {
Pl011 uart;
Spinlock lock;

void put_line(const char* prefix, const char* text, std::size_t len)
{
    for (const char* p = prefix; *p; ++p) uart.put(*p);
    for (std::size_t i = 0; i < len; ++i) {
        if (text[i] == '\n') uart.put('\r');
        uart.put(text[i]);
    }
}
} // namespace

void console_init(unsigned long uart_base) { uart.init(uart_base); }

void printk(const char* fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    std::size_t n = vformat(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n >= sizeof buf) n = sizeof buf - 1;
    LockGuard g(lock);
    put_line("(keel) ", buf, n);
}

void console_guest_line(unsigned domid, const char* text, std::size_t len)
{
    char prefix[16];
    format(prefix, sizeof prefix, "(d%u) ", domid);
    LockGuard g(lock);
    put_line(prefix, text, len);
    uart.put('\r');
    uart.put('\n');
}

void console_enable_input_interrupt() { uart.enable_rx_interrupt(); }

int console_getc() { return uart.get(); }

} // namespace keel::arch
