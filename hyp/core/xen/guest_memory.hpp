// A domain's memory as hypercall handlers reach it through a guest handle. On
// Arm, Xen's guest handles are guest *virtual* addresses, translated through the
// guest's stage 1 and then its stage 2 (see arch's CurrentGuestMemory); host
// tests use plain buffers. Anything the caller could not access itself is EFAULT.
// (The address travels as IpAddr for now; it is the guest's handle value.)
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
