// The hypervisor's page allocator and the table memory stage-2 tables use.
#pragma once

#include "mm/page_allocator.hpp"
#include "mm/stage2_table.hpp"

namespace keel::arch {

mm::PageAllocator& page_allocator();
mm::TableMemory& table_memory();

// With the identity map, the hypervisor reaches physical memory at the same address.
template <typename T = void>
inline T* phys_to_ptr(PhysAddr pa)
{
    return reinterpret_cast<T*>(pa.raw());
}

} // namespace keel::arch
