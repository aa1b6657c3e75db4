// The granting side of grant tables v1: entries in our own grant-table frame
// (mapped at the hypervisor node's region, so Device memory in this guest's
// stage 1: every access is one naturally aligned load or store, and the flags
// word is changed with exclusives as the hypervisor changes it).
#pragma once

#include <cstdint>
#include <xen/grant_table.h>

namespace pingpong {

class GrantTable {
public:
    explicit GrantTable(std::uint64_t frame_address) : entries_(reinterpret_cast<grant_entry_v1_t*>(frame_address)) {}

    // Lets `domid` map or copy our page at `gfn` (read-write).
    void grant(grant_ref_t ref, domid_t domid, std::uint64_t gfn);

    // Ends access: fails with "busy" (returns false) while the peer has the
    // page mapped or a copy is in flight -- GTF_reading/GTF_writing set --
    // instead of pulling the page from under it.
    bool end_access(grant_ref_t ref);

    std::uint16_t flags(grant_ref_t ref) const;

private:
    volatile std::uint16_t& flags_word(grant_ref_t ref) const
    {
        return *reinterpret_cast<volatile std::uint16_t*>(&entries_[ref].flags);
    }

    grant_entry_v1_t* entries_;
};

} // namespace pingpong
