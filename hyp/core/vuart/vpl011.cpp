#include "vuart/vpl011.hpp"

namespace keel::vuart {

std::uint32_t Vpl011::raw_status() const
{
    // TX is always ready: characters leave as soon as they are written.
    std::uint32_t ris = INT_TX;
    if (rx_count_ > 0) ris |= INT_RX | INT_RT;
    return ris;
}

bool Vpl011::irq_level() const
{
    LockGuard g(lock_);
    return (raw_status() & imsc_) != 0;
}

Access Vpl011::read(std::uint64_t offset, unsigned size, std::uint64_t& value)
{
    // The SBSA UART allows 8/16/32-bit accesses to its registers; all are naturally aligned.
    if (offset >= kSize || (size != 1 && size != 2 && size != 4) || (offset & (size - 1))) return Access::Bad;
    LockGuard g(lock_);
    const std::uint64_t reg = offset & ~3ull;
    std::uint32_t v = 0;
    switch (reg) {
    case DR:
        if (rx_count_ > 0) {
            v = static_cast<unsigned char>(rx_[rx_head_]);
            rx_head_ = (rx_head_ + 1) % kRxFifo;
            --rx_count_;
        }
        break;
    case FR:
        v = FR_TXFE | (rx_count_ == 0 ? FR_RXFE : 0) | (rx_count_ == kRxFifo ? FR_RXFF : 0);
        break;
    case IMSC: v = imsc_; break;
    case RIS: v = raw_status(); break;
    case MIS: v = raw_status() & imsc_; break;
    default: v = 0; break;  // unimplemented registers read as zero, as on Xen
    }
    value = (v >> ((offset & 3) * 8)) & (size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1);
    return Access::Ok;
}

Access Vpl011::write(std::uint64_t offset, unsigned size, std::uint64_t value)
{
    if (offset >= kSize || (size != 1 && size != 2 && size != 4) || (offset & (size - 1))) return Access::Bad;
    const std::uint64_t reg = offset & ~3ull;
    const std::uint32_t v = static_cast<std::uint32_t>(value << ((offset & 3) * 8));
    LockGuard g(lock_);
    switch (reg) {
    case DR: line_.put(static_cast<char>(v & 0xff), sink_); break;
    case IMSC: imsc_ = v & (INT_RX | INT_TX | INT_RT); break;
    case ICR: break;  // TX is always ready and RX follows the FIFO: nothing latches
    default: break;   // writes elsewhere are ignored
    }
    return Access::Ok;
}

void Vpl011::flush()
{
    LockGuard g(lock_);
    line_.flush(sink_);
}

bool Vpl011::push_rx(char c)
{
    LockGuard g(lock_);
    if (rx_count_ == kRxFifo) return false;
    rx_[(rx_head_ + rx_count_) % kRxFifo] = c;
    ++rx_count_;
    return true;
}

} // namespace keel::vuart
