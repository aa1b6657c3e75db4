#include "grant_entry.hpp"

namespace pingpong {

void GrantTable::grant(grant_ref_t ref, domid_t domid, std::uint64_t gfn)
{
    volatile grant_entry_v1_t& e = entries_[ref];
    e.domid = domid;
    e.frame = static_cast<std::uint32_t>(gfn);
    asm volatile("dmb ishst" ::: "memory");  // the entry's body before the flags make it valid
    e.flags = GTF_permit_access;
}

bool GrantTable::end_access(grant_ref_t ref)
{
    // The hypervisor sets GTF_reading/GTF_writing with a compare-and-swap on
    // this word when it maps; clearing the entry the same way means either it
    // sees flags 0 and refuses the map, or we see its bits and back off.
    std::uint16_t seen = flags_word(ref);
    for (;;) {
        if (seen & (GTF_reading | GTF_writing)) return false;
        if (__atomic_compare_exchange_n(&flags_word(ref), &seen, std::uint16_t{0}, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST))
            return true;
    }
}

std::uint16_t GrantTable::flags(grant_ref_t ref) const { return flags_word(ref); }

} // namespace pingpong
