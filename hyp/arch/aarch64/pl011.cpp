#include "pl011.hpp"

#include <keel/aarch64/mmio.hpp>

namespace keel::arch {

namespace {
constexpr std::uint64_t DR = 0x00, FR = 0x18, IMSC = 0x38;
constexpr std::uint32_t INT_RX = 1u << 4, INT_RT = 1u << 6;
constexpr std::uint32_t FR_RXFE = 1u << 4, FR_TXFF = 1u << 5;
} // namespace

void Pl011::put(char c)
{
    if (!base_) return;
    while (mmio_read32(base_ + FR) & FR_TXFF) {
    }
    mmio_write32(base_ + DR, static_cast<unsigned char>(c));
}

void Pl011::enable_rx_interrupt()
{
    if (base_) mmio_write32(base_ + IMSC, INT_RX | INT_RT);
}

int Pl011::get()
{
    if (!base_) return -1;
    // Reading the FIFO empty clears both the receive and the receive-timeout interrupt.
    // Never clear them through ICR here: a character arriving between the empty check
    // and that write would lose its interrupt and sit in the FIFO unseen.
    if (mmio_read32(base_ + FR) & FR_RXFE) return -1;
    return static_cast<int>(mmio_read32(base_ + DR) & 0xff);
}

} // namespace keel::arch
