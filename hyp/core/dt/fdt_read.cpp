#include "dt/fdt_read.hpp"

#include <libfdt.h>

namespace keel::dt {

namespace {

constexpr unsigned kRootAddressCells = 2;  // the devicetree spec's defaults
constexpr unsigned kRootSizeCells = 1;
constexpr unsigned kMaxDepth = 32;         // deeper trees are rejected, not walked

// Reads #address-cells or #size-cells; a malformed value is an error, absence is not.
Result<bool> read_cell_count(const void* fdt, int node, const char* name, unsigned& out)
{
    auto v = prop_u32(fdt, node, name);
    if (!v) {
        if (v.error() == Errno::XEN_ENOENT) return false;
        return Err(v.error());
    }
    out = *v;
    return true;
}

bool cells_fit_u64(Cells c) { return c.address <= 2 && c.size <= 2; }

} // namespace

Status check_tree(const void* fdt)
{
    if (fdt == nullptr || fdt_check_header(fdt) != 0) return Err(Errno::XEN_EINVAL);
    if (fdt_check_full(fdt, fdt_totalsize(fdt)) != 0) return Err(Errno::XEN_EINVAL);
    return {};
}

std::uint64_t read_cells(const void* p, unsigned cells)
{
    const auto* b = static_cast<const unsigned char*>(p);
    std::uint64_t v = 0;
    for (unsigned i = 0; i < cells * 4; ++i) v = (v << 8) | b[i];
    return v;
}

Result<PropBytes> prop_bytes(const void* fdt, int node, const char* name)
{
    int len = 0;
    const void* p = fdt_getprop(fdt, node, name, &len);
    if (p == nullptr) return Err(len == -FDT_ERR_NOTFOUND ? Errno::XEN_ENOENT : Errno::XEN_EINVAL);
    return PropBytes{p, static_cast<std::size_t>(len)};
}

Result<TextView> prop_string(const void* fdt, int node, const char* name)
{
    auto p = prop_bytes(fdt, node, name);
    if (!p) return Err(p.error());
    const char* s = static_cast<const char*>(p->data);
    const std::size_t n = bounded_length(s, p->size);
    if (n == p->size) return Err(Errno::XEN_EINVAL);  // empty or unterminated
    return TextView{s, n};
}

Result<std::uint32_t> prop_u32(const void* fdt, int node, const char* name)
{
    auto p = prop_bytes(fdt, node, name);
    if (!p) return Err(p.error());
    if (p->size != 4) return Err(Errno::XEN_EINVAL);
    return static_cast<std::uint32_t>(read_cells(p->data, 1));
}

bool is_compatible(const void* fdt, int node, const char* compat)
{
    return fdt_node_check_compatible(fdt, node, compat) == 0;
}

bool is_available(const void* fdt, int node)
{
    auto p = prop_bytes(fdt, node, "status");
    if (!p) return p.error() == Errno::XEN_ENOENT;
    const TextView s{static_cast<const char*>(p->data), bounded_length(static_cast<const char*>(p->data), p->size)};
    return s.equals("ok") || s.equals("okay");
}

bool name_matches(const void* fdt, int node, const char* name)
{
    int len = 0;
    const char* n = fdt_get_name(fdt, node, &len);
    if (n == nullptr) return false;
    int i = 0;
    for (; name[i] != '\0'; ++i)
        if (i >= len || n[i] != name[i]) return false;
    return i == len || n[i] == '@';
}

Result<Cells> child_cells(const void* fdt, int node)
{
    // Walk down from the root so each level can inherit from the one above.
    int path[kMaxDepth];
    unsigned depth = 0;
    for (int n = node; n != 0; n = fdt_parent_offset(fdt, n)) {
        if (n < 0 || depth == kMaxDepth) return Err(Errno::XEN_EINVAL);
        path[depth++] = n;
    }

    Cells c{kRootAddressCells, kRootSizeCells};
    auto apply = [&](int n) -> Status {
        auto a = read_cell_count(fdt, n, "#address-cells", c.address);
        if (!a) return Err(a.error());
        auto s = read_cell_count(fdt, n, "#size-cells", c.size);
        if (!s) return Err(s.error());
        return {};
    };
    KEEL_TRY(apply(0));
    while (depth > 0) KEEL_TRY(apply(path[--depth]));
    return c;
}

namespace {

// A node's reg property with the cells that frame it.
struct RegView {
    Cells cells;
    PropBytes prop;
    unsigned count;
};

Result<RegView> reg_view(const void* fdt, int node)
{
    const int parent = fdt_parent_offset(fdt, node);
    if (parent < 0) return Err(Errno::XEN_EINVAL);
    auto cells = child_cells(fdt, parent);
    if (!cells) return Err(cells.error());
    if (!cells_fit_u64(*cells) || cells->address == 0) return Err(Errno::XEN_EINVAL);
    auto reg = prop_bytes(fdt, node, "reg");
    if (!reg) return Err(reg.error());
    const std::size_t entry = (cells->address + cells->size) * 4;
    if (reg->size == 0 || reg->size % entry != 0) return Err(Errno::XEN_EINVAL);
    return RegView{*cells, *reg, static_cast<unsigned>(reg->size / entry)};
}

} // namespace

Result<unsigned> reg_count(const void* fdt, int node)
{
    auto reg = reg_view(fdt, node);
    if (!reg) return Err(reg.error());
    return reg->count;
}

Result<RegEntry> reg_entry(const void* fdt, int node, unsigned index)
{
    auto reg = reg_view(fdt, node);
    if (!reg) return Err(reg.error());
    if (index >= reg->count) return Err(Errno::XEN_ENOENT);
    const Cells c = reg->cells;
    const auto* p = static_cast<const unsigned char*>(reg->prop.data) + index * (c.address + c.size) * 4;
    return RegEntry{read_cells(p, c.address), read_cells(p + c.address * 4, c.size)};
}

Result<RegEntry> reg_cpu_address(const void* fdt, int node, unsigned index)
{
    auto entry = reg_entry(fdt, node, index);
    if (!entry) return Err(entry.error());
    std::uint64_t addr = entry->base;

    // Each bus between the node and the root maps its children's addresses
    // into its own parent's space through `ranges` (empty = identity).
    unsigned hops = 0;
    for (int bus = fdt_parent_offset(fdt, node); bus != 0; bus = fdt_parent_offset(fdt, bus)) {
        if (bus < 0 || ++hops > kMaxDepth) return Err(Errno::XEN_EINVAL);
        auto ranges = prop_bytes(fdt, bus, "ranges");
        if (!ranges) return Err(ranges.error() == Errno::XEN_ENOENT ? Errno::XEN_ENXIO : ranges.error());
        if (ranges->size == 0) continue;

        auto child = child_cells(fdt, bus);
        auto parent = child_cells(fdt, fdt_parent_offset(fdt, bus));
        if (!child || !parent) return Err(Errno::XEN_EINVAL);
        if (!cells_fit_u64(*child) || parent->address > 2) return Err(Errno::XEN_EINVAL);
        const std::size_t one = (child->address + parent->address + child->size) * 4;
        if (ranges->size % one != 0) return Err(Errno::XEN_EINVAL);

        bool found = false;
        const auto* p = static_cast<const unsigned char*>(ranges->data);
        for (std::size_t off = 0; off < ranges->size && !found; off += one) {
            const std::uint64_t child_base = read_cells(p + off, child->address);
            const std::uint64_t parent_base = read_cells(p + off + child->address * 4, parent->address);
            const std::uint64_t size = read_cells(p + off + (child->address + parent->address) * 4, child->size);
            if (addr >= child_base && addr - child_base < size) {
                addr = parent_base + (addr - child_base);
                found = true;
            }
        }
        if (!found) return Err(Errno::XEN_ENXIO);
    }
    return RegEntry{addr, entry->size};
}

Result<std::uint32_t> interrupt_parent(const void* fdt, int node)
{
    unsigned hops = 0;
    for (int n = node;; n = fdt_parent_offset(fdt, n)) {
        if (n < 0 || ++hops > kMaxDepth) return Err(Errno::XEN_EINVAL);
        auto ip = prop_u32(fdt, n, "interrupt-parent");
        if (ip) return *ip;
        if (ip.error() != Errno::XEN_ENOENT) return Err(ip.error());
        if (n == 0) return Err(Errno::XEN_ENOENT);
    }
}

Result<unsigned> gic_interrupt(const void* fdt, int node, unsigned index, int gic)
{
    auto parent = interrupt_parent(fdt, node);
    if (!parent) return Err(parent.error() == Errno::XEN_ENOENT ? Errno::XEN_ENXIO : parent.error());
    if (fdt_node_offset_by_phandle(fdt, *parent) != gic) return Err(Errno::XEN_ENXIO);

    auto ncells = prop_u32(fdt, gic, "#interrupt-cells");
    if (!ncells) return Err(Errno::XEN_EINVAL);
    if (*ncells < 3 || *ncells > 4) return Err(Errno::XEN_EINVAL);
    auto irqs = prop_bytes(fdt, node, "interrupts");
    if (!irqs) return Err(irqs.error());
    const std::size_t one = *ncells * 4;
    if (irqs->size % one != 0) return Err(Errno::XEN_EINVAL);
    if (index >= irqs->size / one) return Err(Errno::XEN_ENOENT);

    const auto* p = static_cast<const unsigned char*>(irqs->data) + index * one;
    const std::uint64_t type = read_cells(p, 1);
    const std::uint64_t number = read_cells(p + 4, 1);
    // GIC binding: type 0 is an SPI (INTID 32..1019), type 1 a PPI (INTID 16..31).
    if (type == 0 && number < 988) return static_cast<unsigned>(number + 32);
    if (type == 1 && number < 16) return static_cast<unsigned>(number + 16);
    return Err(Errno::XEN_EINVAL);
}

} // namespace keel::dt
