// xen::GuestMemory for a domain: every access is translated page by page
// through the domain's stage-2, and must land in normal memory the domain may
// access that way (its RAM, its shared pages) - never device memory, never a hole.
#pragma once

#include "domain.hpp"

#include "xen/guest_memory.hpp"

namespace keel::arch {

class Stage2GuestMemory final : public xen::GuestMemory {
public:
    explicit Stage2GuestMemory(Domain& d) : d_(d) {}
    Status read(IpAddr src, void* dst, std::size_t n) override;
    Status write(IpAddr dst, const void* src, std::size_t n) override;

private:
    Domain& d_;
};

} // namespace keel::arch
