// A domain's stage-2 translation table: IPA -> PA for everything the domain may
// touch. Mapping uses 1 GiB / 2 MiB blocks where alignment allows, so guest RAM
// costs a handful of tables. The same code runs on the host under test: table
// memory comes from a TableMemory, and "physical" addresses are host pointers there.
#pragma once

#include <keel/result.hpp>
#include <keel/strong.hpp>

#include <cstdint>

namespace keel::mm {

// Where table pages come from and how the hypervisor reaches them.
class TableMemory {
public:
    virtual Result<PhysAddr> alloc_table() = 0;   // one zeroed, page-aligned page
    virtual void free_table(PhysAddr) = 0;
    virtual std::uint64_t* table_ptr(PhysAddr) = 0;

protected:
    ~TableMemory() = default;
};

enum class MemType : std::uint8_t { Normal, Device };

struct S2Access {
    bool read = true;
    bool write = true;
    bool exec = true;
};

struct S2Translation {
    PhysAddr pa;
    MemType type;
    S2Access access;
};

class Stage2Table {
public:
    Status init(TableMemory& mem);
    // Maps [ipa, ipa+size) to [pa, pa+size). Page-aligned; overlapping an existing
    // mapping is EEXIST (remapping must be an explicit unmap first).
    Status map(IpAddr ipa, PhysAddr pa, std::uint64_t size, MemType type, S2Access access);
    // Removes the mappings in [ipa, ipa+size), splitting blocks at the edges.
    // The caller flushes the TLB for this VMID afterwards.
    Status unmap(IpAddr ipa, std::uint64_t size);
    // What the guest's IPA resolves to; ENOENT when nothing is mapped there.
    Result<S2Translation> translate(IpAddr ipa) const;
    // Frees every table page (not the memory mapped by them).
    void destroy();

    PhysAddr root() const { return root_; }

private:
    Result<std::uint64_t*> next_table(std::uint64_t* table, unsigned index, unsigned level, bool create);
    Status map_one(std::uint64_t ipa, std::uint64_t pa, std::uint64_t size, std::uint64_t attrs);
    Status unmap_range(std::uint64_t* table, unsigned level, std::uint64_t base, std::uint64_t lo, std::uint64_t hi);
    void free_level(std::uint64_t* table, unsigned level);

    TableMemory* mem_ = nullptr;
    PhysAddr root_;
};

} // namespace keel::mm
