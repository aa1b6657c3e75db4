#include "pl011.hpp"

#include "mmio.hpp"

namespace keel::arch {

namespace {
constexpr std::uint64_t DR = 0x00, FR = 0x18;
constexpr std::uint32_t FR_RXFE = 1u << 4, FR_TXFF = 1u << 5;
} // namespace

void Pl011::put(char c)
{
    if (!base_) return;
    while (mmio_read32(base_ + FR) & FR_TXFF) {
    }
    mmio_write32(base_ + DR, static_cast<unsigned char>(c));
}

int Pl011::get()
{
    if (!base_ || (mmio_read32(base_ + FR) & FR_RXFE)) return -1;
    return static_cast<int>(mmio_read32(base_ + DR) & 0xff);
}

} // namespace keel::arch
