#include "hyp_memory.hpp"

#include "cache.hpp"

namespace keel::arch {

namespace {
mm::PageAllocator allocator;

class HypTableMemory final : public mm::TableMemory {
public:
    Result<PhysAddr> alloc_table() override
    {
        auto p = allocator.alloc(1);
        if (!p) return p;
        zero_memory(p->raw(), kPageSize);
        return p;
    }
    void free_table(PhysAddr pa) override { (void)allocator.free(pa, 1); }
    std::uint64_t* table_ptr(PhysAddr pa) override { return phys_to_ptr<std::uint64_t>(pa); }
};
HypTableMemory tables;
} // namespace

mm::PageAllocator& page_allocator() { return allocator; }
mm::TableMemory& table_memory() { return tables; }

} // namespace keel::arch
