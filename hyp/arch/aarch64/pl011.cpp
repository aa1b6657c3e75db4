#include "pl011.hpp"

#include "mmio.hpp"

namespace keel::arch {

namespace {
constexpr std::uint64_t DR = 0x00, FR = 0x18, IMSC = 0x38, ICR = 0x44;
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
    if (mmio_read32(base_ + FR) & FR_RXFE) {
        mmio_write32(base_ + ICR, INT_RX | INT_RT);  // drained: drop the timeout interrupt too
        return -1;
    }
    return static_cast<int>(mmio_read32(base_ + DR) & 0xff);
}

} // namespace keel::arch
