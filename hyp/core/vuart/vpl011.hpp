// The emulated SBSA generic UART ("vpl011"), as Xen on ARM offers a domain so an
// unmodified guest has a console. Transmit is immediate (the FIFO never fills),
// output goes to the physical console one whole line at a time, prefixed by the
// domain as Xen does ("(d1) ..."), so two domains' output never interleaves
// mid-line. Receive has a small FIFO fed from the physical console.
#pragma once

#include "vuart/line_assembler.hpp"

#include <keel/spinlock.hpp>

#include <cstddef>
#include <cstdint>

namespace keel::vuart {

enum class Access { Ok, Bad };  // Bad: the guest gets a data abort

class Vpl011 {
public:
    static constexpr std::uint64_t kSize = 0x1000;
    static constexpr unsigned kRxFifo = 32;
    static constexpr std::size_t kLineMax = LineAssembler::kLineMax;

    // Register offsets (SBSA generic UART subset of the PL011).
    static constexpr std::uint64_t DR = 0x000, RSR = 0x004, FR = 0x018, IMSC = 0x038, RIS = 0x03c,
                                   MIS = 0x040, ICR = 0x044;
    // Flag and interrupt bits.
    static constexpr std::uint32_t FR_RXFE = 1u << 4, FR_TXFF = 1u << 5, FR_RXFF = 1u << 6, FR_TXFE = 1u << 7;
    static constexpr std::uint32_t INT_RX = 1u << 4, INT_TX = 1u << 5, INT_RT = 1u << 6;

    void init(LineSink* sink) { sink_ = sink; }

    Access read(std::uint64_t offset, unsigned size, std::uint64_t& value);
    Access write(std::uint64_t offset, unsigned size, std::uint64_t value);

    // A character typed on the physical console for this domain. False if the FIFO is full.
    bool push_rx(char c);
    // Level of the UART's interrupt line (MIS != 0) after the last access.
    bool irq_level() const;
    // Emit any partial line (the domain is going away).
    void flush();

private:
    std::uint32_t raw_status() const;

    LineSink* sink_ = nullptr;
    std::uint32_t imsc_ = 0;
    char rx_[kRxFifo] = {};
    unsigned rx_head_ = 0, rx_count_ = 0;
    LineAssembler line_;
    mutable Spinlock lock_;
};

} // namespace keel::vuart
