// A domain's RAM as hypercall handlers reach it: guest pointers are
// intermediate-physical addresses, checked through the domain's own stage-2.
// Anything that is not the caller's RAM is EFAULT.
#pragma once

#include <keel/result.hpp>
#include <keel/strong.hpp>

#include <cstddef>

namespace keel::xen {

class GuestMemory {
public:
    virtual Status read(IpAddr src, void* dst, std::size_t n) = 0;
    virtual Status write(IpAddr dst, const void* src, std::size_t n) = 0;

    template <typename T>
    Status read_obj(IpAddr src, T& out) { return read(src, &out, sizeof out); }
    template <typename T>
    Status write_obj(IpAddr dst, const T& in) { return write(dst, &in, sizeof in); }

protected:
    ~GuestMemory() = default;
};

} // namespace keel::xen
