#include <keel/guest/device_tree.hpp>

#include <libfdt.h>

#include <string_view>

namespace keel::guest::dt {
namespace {

// A big-endian number of `cells` 32-bit cells (1 or 2 in practice).
std::uint64_t read_cells(const fdt32_t*& p, int cells)
{
    std::uint64_t v = 0;
    for (int i = 0; i < cells; ++i) v = (v << 32) | fdt32_to_cpu(*p++);
    return v;
}

bool enabled(const void* fdt, int node)
{
    int len = 0;
    const char* status = static_cast<const char*>(fdt_getprop(fdt, node, "status", &len));
    if (status == nullptr) return true;
    const std::string_view s(status, len > 0 ? static_cast<std::size_t>(len - 1) : 0);
    return s == "okay" || s == "ok";
}

bool has_device_type(const void* fdt, int node, std::string_view type)
{
    int len = 0;
    const char* t = static_cast<const char*>(fdt_getprop(fdt, node, "device_type", &len));
    return t != nullptr && len > 0 && std::string_view(t, static_cast<std::size_t>(len - 1)) == type;
}

// Calls visit(Region) for each (address, size) pair of a node's `reg`.
template <typename Visit>
int for_each_reg(const void* fdt, int node, Visit visit)
{
    const int parent = fdt_parent_offset(fdt, node);
    if (parent < 0) return parent;
    const int address_cells = fdt_address_cells(fdt, parent);
    const int size_cells = fdt_size_cells(fdt, parent);
    if (address_cells < 1 || address_cells > 2 || size_cells < 0 || size_cells > 2) return -FDT_ERR_BADNCELLS;
    int len = 0;
    const auto* p = static_cast<const fdt32_t*>(fdt_getprop(fdt, node, "reg", &len));
    if (p == nullptr) return len;
    const int entry_bytes = 4 * (address_cells + size_cells);
    int count = 0;
    for (; len >= entry_bytes; len -= entry_bytes, ++count) {
        Region r;
        r.base = read_cells(p, address_cells);
        r.size = read_cells(p, size_cells);
        if (!visit(r)) break;
    }
    return count;
}

} // namespace

const char* bootargs(const void* fdt)
{
    const int chosen = fdt_path_offset(fdt, "/chosen");
    if (chosen < 0) return "";
    const char* args = static_cast<const char*>(fdt_getprop(fdt, chosen, "bootargs", nullptr));
    return args != nullptr ? args : "";
}

std::size_t memory_banks(const void* fdt, Region* out, std::size_t max)
{
    std::size_t count = 0;
    for (int node = fdt_next_node(fdt, -1, nullptr); node >= 0; node = fdt_next_node(fdt, node, nullptr)) {
        if (!has_device_type(fdt, node, "memory") || !enabled(fdt, node)) continue;
        (void)for_each_reg(fdt, node, [&](const Region& r) {
            if (r.size == 0) return true;
            if (count < max) out[count] = r;
            ++count;
            return true;
        });
    }
    return count;
}

std::uint64_t memory_size(const void* fdt)
{
    std::uint64_t total = 0;
    for (int node = fdt_next_node(fdt, -1, nullptr); node >= 0; node = fdt_next_node(fdt, node, nullptr)) {
        if (!has_device_type(fdt, node, "memory") || !enabled(fdt, node)) continue;
        (void)for_each_reg(fdt, node, [&](const Region& r) {
            total += r.size;
            return true;
        });
    }
    return total;
}

unsigned cpu_count(const void* fdt)
{
    const int cpus = fdt_path_offset(fdt, "/cpus");
    if (cpus < 0) return 0;
    unsigned count = 0;
    int node;
    fdt_for_each_subnode(node, fdt, cpus)
    {
        if (has_device_type(fdt, node, "cpu") && enabled(fdt, node)) ++count;
    }
    return count;
}

keel::Result<int> find_compatible(const void* fdt, const char* compatible)
{
    for (int node = fdt_node_offset_by_compatible(fdt, -1, compatible); node >= 0;
         node = fdt_node_offset_by_compatible(fdt, node, compatible)) {
        if (enabled(fdt, node)) return node;
    }
    return keel::Err(keel::Errno::XEN_ENOENT);
}

keel::Result<Region> reg(const void* fdt, int node, int index)
{
    Region found{};
    int seen = 0;
    bool hit = false;
    (void)for_each_reg(fdt, node, [&](const Region& r) {
        if (seen++ == index) {
            found = r;
            hit = true;
            return false;
        }
        return true;
    });
    if (!hit) return keel::Err(keel::Errno::XEN_ENOENT);
    return found;
}

} // namespace keel::guest::dt
