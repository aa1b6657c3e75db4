#include <keel/uk/memory_map.hpp>

#include <keel/strong.hpp>

namespace keel::uk {
namespace {

std::uint64_t page_down(std::uint64_t a) { return a & ~(kPageSize - 1); }
std::uint64_t page_up(std::uint64_t a) { return page_down(a + kPageSize - 1); }

bool wraps(const MemRange& r) { return r.base + r.size < r.base || r.base + r.size > ~std::uint64_t{0} - kPageSize; }

} // namespace

Result<std::size_t> usable_ranges(const MemRange* banks, std::size_t nr_banks, const MemRange* reserved,
                                  std::size_t nr_reserved, MemRange* out, std::size_t max_out)
{
    for (std::size_t i = 0; i < nr_banks; ++i)
        if (wraps(banks[i])) return Err(Errno::XEN_EINVAL);
    for (std::size_t i = 0; i < nr_reserved; ++i)
        if (wraps(reserved[i])) return Err(Errno::XEN_EINVAL);

    // Sweep upwards: from `cursor`, the next usable range starts at the lowest
    // bank address not inside a reservation and ends at the first reservation
    // or bank end after it. Quadratic, and fine for the handful of ranges a
    // device tree has.
    std::size_t count = 0;
    std::uint64_t cursor = 0;
    for (;;) {
        // Lowest point >= cursor that lies in some bank.
        std::uint64_t start = ~std::uint64_t{0};
        for (std::size_t i = 0; i < nr_banks; ++i) {
            const std::uint64_t b = page_up(banks[i].base), e = page_down(banks[i].end());
            if (b >= e || e <= cursor) continue;
            const std::uint64_t s = b > cursor ? b : cursor;
            if (s < start) start = s;
        }
        if (start == ~std::uint64_t{0}) break;
        // Skip past reservations covering `start` (they may chain).
        bool moved = true;
        while (moved) {
            moved = false;
            for (std::size_t i = 0; i < nr_reserved; ++i) {
                const std::uint64_t b = page_down(reserved[i].base), e = page_up(reserved[i].end());
                if (reserved[i].size != 0 && b <= start && start < e) {
                    start = e;
                    moved = true;
                }
            }
        }
        // The bank holding `start` (if still inside one) bounds the range...
        std::uint64_t end = 0;
        for (std::size_t i = 0; i < nr_banks; ++i) {
            const std::uint64_t b = page_up(banks[i].base), e = page_down(banks[i].end());
            if (b <= start && start < e && e > end) end = e;
        }
        if (end == 0) {  // a reservation ran past the bank's end: look further up
            cursor = start;
            continue;
        }
        // ...and so does the first reservation starting after it.
        for (std::size_t i = 0; i < nr_reserved; ++i) {
            const std::uint64_t b = page_down(reserved[i].base);
            if (reserved[i].size != 0 && b > start && b < end) end = b;
        }
        if (count == max_out) return Err(Errno::XEN_E2BIG);
        out[count++] = MemRange{start, end - start};
        cursor = end;
    }
    return count;
}

} // namespace keel::uk
