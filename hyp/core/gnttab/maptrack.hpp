// A domain's record of the grants it has mapped from others (Xen's maptrack):
// the index of a record is the grant_handle_t the guest gets back and must
// present to unmap. Records live in pages taken from the host on demand; free
// handles form a FIFO list threaded through the records, so a handle just
// released is the last to be handed out again.
#pragma once

#include "gnttab/abi.hpp"
#include "gnttab/grant_host.hpp"

#include <keel/result.hpp>

#include <cstdint>

namespace keel::gnttab {

struct MapEntry {
    enum class State : std::uint8_t {
        Free,
        Mapped,    // granter's entry is pinned for this mapping
        Orphaned,  // the granter died and its grants were revoked: nothing pinned or mapped
    };
    std::uint32_t ref;       // grant reference; while Free, the next free handle
    std::uint16_t granter;   // domid of the granting domain
    State state;
    std::uint8_t readonly;
    std::uint64_t ipa;       // page-aligned IPA of the mapping in this domain
};
static_assert(sizeof(MapEntry) == 16, "a power of two, so entries never straddle a page");

class Maptrack {
public:
    // 256 pages of 256 records: 65536 handles per domain (Xen's default is 1024 pages).
    static constexpr unsigned kMaxPages = 256;
    static constexpr unsigned kPerPage = kPageSize / sizeof(MapEntry);

    // A free record, growing by one page when none is left. ENOSPC at the limit,
    // ENOMEM if the host has no page; both are GNTST_no_device_space to the guest.
    Result<grant_handle_t> alloc(GrantHost& host);
    void free(grant_handle_t h);
    // The record for `h`, or nullptr if no such handle was ever handed out.
    MapEntry* at(grant_handle_t h);
    const MapEntry* at(grant_handle_t h) const;

    std::uint32_t limit() const { return nr_pages_ * kPerPage; }
    std::uint32_t live() const { return live_; }
    // Gives every page back; all records must be Free.
    void release_pages(GrantHost& host);

private:
    static constexpr std::uint32_t kNone = ~std::uint32_t{0};

    HostPage pages_[kMaxPages];
    unsigned nr_pages_ = 0;
    std::uint32_t free_head_ = kNone;
    std::uint32_t free_tail_ = kNone;
    std::uint32_t live_ = 0;
};

} // namespace keel::gnttab
