#include "gnttab/maptrack.hpp"

namespace keel::gnttab {

MapEntry* Maptrack::at(grant_handle_t h)
{
    if (h >= limit()) return nullptr;
    return static_cast<MapEntry*>(pages_[h / kPerPage].ptr) + h % kPerPage;
}

const MapEntry* Maptrack::at(grant_handle_t h) const
{
    return const_cast<Maptrack*>(this)->at(h);
}

Result<grant_handle_t> Maptrack::alloc(GrantHost& host)
{
    if (free_head_ == kNone) {
        if (nr_pages_ == kMaxPages) return Err(Errno::XEN_ENOSPC);
        Result<HostPage> page = host.alloc_page();
        if (!page) return Err(Errno::XEN_ENOMEM);
        const std::uint32_t first = limit();
        pages_[nr_pages_++] = *page;
        // The new records, in order, become the whole free list.
        for (std::uint32_t i = 0; i < kPerPage; ++i) {
            MapEntry* e = at(first + i);
            *e = MapEntry{};
            e->ref = i + 1 < kPerPage ? first + i + 1 : kNone;
        }
        free_head_ = first;
        free_tail_ = first + kPerPage - 1;
    }
    const grant_handle_t h = free_head_;
    MapEntry* e = at(h);
    free_head_ = e->ref;
    if (free_head_ == kNone) free_tail_ = kNone;
    e->ref = 0;
    ++live_;
    return h;
}

void Maptrack::free(grant_handle_t h)
{
    MapEntry* e = at(h);
    *e = MapEntry{};
    e->ref = kNone;
    if (free_tail_ == kNone) free_head_ = h;
    else at(free_tail_)->ref = h;
    free_tail_ = h;
    --live_;
}

void Maptrack::release_pages(GrantHost& host)
{
    for (unsigned i = 0; i < nr_pages_; ++i) host.free_page(pages_[i]);
    nr_pages_ = 0;
    free_head_ = free_tail_ = kNone;
    live_ = 0;
}

} // namespace keel::gnttab
