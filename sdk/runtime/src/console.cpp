// Console output on a PL011 or its SBSA subset: the data register and the
// "transmit FIFO full" flag are all we need; whoever owns the UART (firmware,
// Xen, Keel) has already set it up.
#include <keel/format.hpp>
#include <keel/guest/console.hpp>
#include <keel/guest/device_tree.hpp>

#include "mmio.hpp"
#include "runtime_internal.hpp"

namespace keel::guest {
namespace {

constexpr std::uintptr_t kUartDr = 0x000;
constexpr std::uintptr_t kUartFr = 0x018;
constexpr std::uint32_t kUartFrTxff = 1 << 5;

std::uintptr_t g_uart = 0;

void put(char c)
{
    while (mmio_read32(g_uart + kUartFr) & kUartFrTxff) {
    }
    mmio_write32(g_uart + kUartDr, static_cast<unsigned char>(c));
}

} // namespace

void detail::console_init(const void* fdt)
{
    // The SBSA UART first: it is what a domU gets; a PL011 is bare metal.
    for (const char* compatible : {"arm,sbsa-uart", "arm,pl011"}) {
        auto node = dt::find_compatible(fdt, compatible);
        if (!node) continue;
        auto r = dt::reg(fdt, *node);
        if (!r) continue;
        g_uart = static_cast<std::uintptr_t>(r->base);
        return;
    }
}

bool console_present() { return g_uart != 0; }

void write(const char* text, std::size_t length)
{
    if (g_uart == 0) return;
    for (std::size_t i = 0; i < length; ++i) put(text[i]);
}

void vprint(const char* fmt, va_list ap)
{
    char line[kConsoleLineMax];
    std::size_t n = keel::vformat(line, sizeof line, fmt, ap);
    if (n >= sizeof line) n = sizeof line - 1;
    write(line, n);
}

void print(const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprint(fmt, ap);
    va_end(ap);
}

} // namespace keel::guest
