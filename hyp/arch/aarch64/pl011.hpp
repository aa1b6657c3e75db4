// The physical PL011 the hypervisor owns for its console (polled: output is
// rare and short, input is polled from the scheduler tick).
#pragma once

#include <cstdint>

namespace keel::arch {

class Pl011 {
public:
    void init(std::uint64_t base) { base_ = base; }
    bool present() const { return base_ != 0; }
    void put(char c);
    // Raise the UART's interrupt when characters arrive (and when they sit in the FIFO).
    void enable_rx_interrupt();
    // -1 if nothing was typed.
    int get();

private:
    std::uint64_t base_ = 0;
};

} // namespace keel::arch
