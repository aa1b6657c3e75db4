// Table memory for page-table tests: page-aligned host heap pages whose host
// address stands in for the physical address, with a count of pages in use.
#pragma once

#include "mm/stage2_table.hpp"

#include <cstdlib>
#include <cstring>
#include <set>

namespace keel::test {

class HostTableMemory final : public mm::TableMemory {
public:
    ~HostTableMemory()
    {
        for (auto p : live_) std::free(reinterpret_cast<void*>(p));
    }
    Result<PhysAddr> alloc_table() override
    {
        if (fail_after_ == 0) return Err(Errno::XEN_ENOMEM);
        if (fail_after_ > 0) --fail_after_;
        void* p = std::aligned_alloc(kPageSize, kPageSize);
        std::memset(p, 0, kPageSize);
        live_.insert(reinterpret_cast<std::uint64_t>(p));
        return PhysAddr(reinterpret_cast<std::uint64_t>(p));
    }
    void free_table(PhysAddr pa) override
    {
        ASSERT_LIVE(pa);
        live_.erase(pa.raw());
        std::free(reinterpret_cast<void*>(pa.raw()));
    }
    std::uint64_t* table_ptr(PhysAddr pa) override { return reinterpret_cast<std::uint64_t*>(pa.raw()); }
    std::size_t live() const { return live_.size(); }
    void fail_after(int n) { fail_after_ = n; }

private:
    void ASSERT_LIVE(PhysAddr pa)
    {
        if (!live_.count(pa.raw())) std::abort();  // double free or foreign pointer
    }
    std::set<std::uint64_t> live_;
    int fail_after_ = -1;
};

} // namespace keel::test
