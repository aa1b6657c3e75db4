// Console output on a PL011 or its SBSA subset: the data register and the
// "transmit FIFO full" flag are all we need; whoever owns the UART (firmware,
// Xen, Keel) has already set it up. A domain with no UART in its device tree
// but a `xen,xen` hypervisor node (Xen's dom0: Xen keeps the host UART and
// hides it) writes through the hypervisor instead, with console_io.
#include <keel/format.hpp>
#include <keel/guest/console.hpp>
#include <keel/guest/device_tree.hpp>

#include <keel/aarch64/mmio.hpp>
#include "runtime_internal.hpp"

namespace keel::guest {
namespace {

constexpr std::uintptr_t kUartDr = 0x000;
constexpr std::uintptr_t kUartFr = 0x018;
constexpr std::uint32_t kUartFrTxff = 1 << 5;

std::uintptr_t g_uart = 0;
bool g_hypervisor_console = false;

// HYPERVISOR_console_io(CONSOLEIO_write, length, text): Xen's hypercall ABI
// on Arm is HVC #0xEA1, the number in x16, arguments from x0, result in x0.
// Xen may clobber the argument registers, so they are all outputs too.
constexpr std::uint64_t kHypercallConsoleIo = 18;  // __HYPERVISOR_console_io
constexpr std::uint64_t kConsoleIoWrite = 0;        // CONSOLEIO_write

void hypervisor_write(const char* text, std::size_t length)
{
    register std::uint64_t x0 asm("x0") = kConsoleIoWrite;
    register std::uint64_t x1 asm("x1") = length;
    register std::uint64_t x2 asm("x2") = reinterpret_cast<std::uintptr_t>(text);
    register std::uint64_t x16 asm("x16") = kHypercallConsoleIo;
    asm volatile("hvc #0xea1" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x16) : : "x3", "x4", "memory");
}

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
    g_hypervisor_console = static_cast<bool>(dt::find_compatible(fdt, "xen,xen"));
}

bool console_present() { return g_uart != 0 || g_hypervisor_console; }

void write(const char* text, std::size_t length)
{
    if (g_uart != 0) {
        for (std::size_t i = 0; i < length; ++i) put(text[i]);
    } else if (g_hypervisor_console && length != 0) {
        hypervisor_write(text, length);
    }
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
