// Helpers for the unikernel's host tests: "RAM" for the page allocator.
#pragma once

#include <keel/strong.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace uk_test {

// A block of host memory standing in for guest RAM, aligned to 1 MiB so
// alignment expectations do not depend on where malloc put it.
class HostRam {
public:
    static constexpr std::size_t kAlign = std::size_t{1} << 20;
    explicit HostRam(std::size_t bytes)
        : size_((bytes + kAlign - 1) & ~(kAlign - 1)), base_(static_cast<std::uint8_t*>(std::aligned_alloc(kAlign, size_)))
    {
        std::memset(base_, 0xcd, size_);
    }
    ~HostRam() { std::free(base_); }
    HostRam(const HostRam&) = delete;
    HostRam& operator=(const HostRam&) = delete;

    std::uintptr_t base() const { return reinterpret_cast<std::uintptr_t>(base_); }
    std::size_t size() const { return size_; }
    std::uint8_t* bytes() const { return base_; }

private:
    std::size_t size_;
    std::uint8_t* base_;
};

} // namespace uk_test
