// Stage-1 MMU bring-up in two steps. libfdt needs normal memory (Device memory
// faults its unaligned accesses), and where RAM is is only known from the
// device tree, so:
//   1. with the MMU off: map exactly the image and the device tree (their
//      pages) as normal memory, every other address as Device-nGnRE, MMU on;
//   2. with libfdt usable: build a second map with every RAM bank normal and
//      switch TTBR0 to it.
// Both maps are identity maps built by IdentityMap.
#include "page_table.hpp"
#include "runtime_internal.hpp"
#include "sysreg.hpp"

#include <keel/guest/device_tree.hpp>
#include <keel/strong.hpp>

namespace keel::guest::detail {
namespace {

// Window map: root, one level-2 table, and level-3 tables at the page-aligned
// edges of the image and the device tree.
constexpr std::size_t kWindowTables = 8;
// Final map: root plus, per normal-memory range (RAM banks and the hypervisor
// node's regions), up to two level-2 and two level-3 tables.
constexpr std::size_t kMaxBanks = 8;
constexpr std::size_t kMaxHypervisorRegions = 4;
constexpr std::size_t kFinalTables = 1 + 4 * (kMaxBanks + kMaxHypervisorRegions);

TablePage g_window_tables[kWindowTables];
TablePage g_final_tables[kFinalTables];

constexpr std::uint64_t kFdtMagic = 0xd00dfeed;

std::uint64_t page_down(std::uint64_t a) { return a & ~(kPageSize - 1); }
std::uint64_t page_up(std::uint64_t a) { return (a + kPageSize - 1) & ~(kPageSize - 1); }

// The device tree's extent, read with the MMU off: only aligned 32-bit loads
// (the boot protocol puts the tree on an 8-byte boundary).
std::uint64_t fdt_extent_mmu_off(const void* fdt)
{
    const auto* header = static_cast<const volatile std::uint32_t*>(fdt);
    if (__builtin_bswap32(header[0]) != kFdtMagic) return kPageSize;
    return __builtin_bswap32(header[1]);
}

// The two ranges every map must show as normal memory, or we stop running.
struct Window {
    std::uint64_t base, size;
};
Window image_window()
{
    const auto base = reinterpret_cast<std::uintptr_t>(_start);
    return {page_down(base), page_up(reinterpret_cast<std::uintptr_t>(_end)) - page_down(base)};
}
Window fdt_window(const void* fdt, std::uint64_t extent)
{
    const auto base = reinterpret_cast<std::uintptr_t>(fdt);
    return {page_down(base), page_up(base + extent) - page_down(base)};
}

std::uint64_t tcr_value()
{
    std::uint64_t ips = KEEL_SYSREG_READ(id_aa64mmfr0_el1) & sysreg::kParangeMask;
    if (ips > sysreg::kParange48) ips = sysreg::kParange48;  // ARMv8.0 knows no more
    return (std::uint64_t{64 - kIdentityMapBits} << sysreg::kTcrT0szShift) | sysreg::kTcrIrgn0WriteBack |
           sysreg::kTcrOrgn0WriteBack | sysreg::kTcrSh0Inner | sysreg::kTcrTg0_4k | sysreg::kTcrEpd1 |
           (ips << sysreg::kTcrIpsShift);
}

std::uint64_t g_fdt_extent = 0;

} // namespace

void mmu_enable_window(const void* fdt)
{
    g_fdt_extent = fdt_extent_mmu_off(fdt);
    IdentityMap map(g_window_tables, kWindowTables);
    const Window image = image_window();
    const Window tree = fdt_window(fdt, g_fdt_extent);
    // No console yet: if this fails we have nothing to report with, and
    // running on with the MMU off would only fault later in libfdt.
    if (!map.map(0, kIdentityMapLimit, MemoryType::kDevice) ||
        !map.map(image.base, image.size, MemoryType::kNormal) ||
        !map.map(tree.base, tree.size, MemoryType::kNormal)) {
        for (;;) asm volatile("wfe");
    }

    KEEL_SYSREG_WRITE(mair_el1, kMairValue);
    KEEL_SYSREG_WRITE(tcr_el1, tcr_value());
    KEEL_SYSREG_WRITE(ttbr0_el1, map.root_address());
    sysreg::dsb_sy();  // tables written with the MMU off are in memory before the walker looks
    sysreg::isb();
    sysreg::flush_tlb_local();
    KEEL_SYSREG_WRITE(sctlr_el1, sysreg::kSctlrRes1 | sysreg::kSctlrM | sysreg::kSctlrC | sysreg::kSctlrSa |
                                     sysreg::kSctlrI | sysreg::kSctlrNtwi | sysreg::kSctlrNtwe);
    sysreg::isb();
}

keel::Status mmu_map_ram(const void* fdt)
{
    dt::Region banks[kMaxBanks];
    const std::size_t count = dt::memory_banks(fdt, banks, kMaxBanks);
    if (count == 0) return keel::Err(keel::Errno::XEN_ENOENT);
    if (count > kMaxBanks) return keel::Err(keel::Errno::XEN_E2BIG);

    IdentityMap map(g_final_tables, kFinalTables);
    KEEL_TRY(map.map(0, kIdentityMapLimit, MemoryType::kDevice));
    for (std::size_t i = 0; i < count; ++i) {
        // Only whole pages, and only what a 39-bit identity map can reach.
        std::uint64_t base = page_up(banks[i].base);
        std::uint64_t end = page_down(banks[i].base + banks[i].size);
        if (end > kIdentityMapLimit) end = kIdentityMapLimit;
        if (base < end) KEEL_TRY(map.map(base, end - base, MemoryType::kNormal));
    }
    // The `xen,xen` node's regions are where the hypervisor places pages for us
    // (shared_info, grant frames, pages mapped from other domains): memory shared
    // with other CPUs, so normal write-back like RAM, never Device.
    if (auto node = dt::find_compatible(fdt, "xen,xen")) {
        for (int i = 0; i < static_cast<int>(kMaxHypervisorRegions); ++i) {
            auto r = dt::reg(fdt, *node, i);
            if (!r) break;
            std::uint64_t base = page_up(r->base);
            std::uint64_t end = page_down(r->base + r->size);
            if (end > kIdentityMapLimit) end = kIdentityMapLimit;
            if (base < end) KEEL_TRY(map.map(base, end - base, MemoryType::kNormal));
        }
    }
    // The image and the tree are RAM too; if the tree said otherwise, trust
    // what we are running from rather than fault on the next instruction.
    const Window image = image_window();
    const Window tree = fdt_window(fdt, g_fdt_extent);
    KEEL_TRY(map.map(image.base, image.size, MemoryType::kNormal));
    KEEL_TRY(map.map(tree.base, tree.size, MemoryType::kNormal));

    // Same identity translation for everything in use, so the switch can
    // happen under our feet; the TLB flush drops the window's entries.
    sysreg::dsb_ishst();
    KEEL_SYSREG_WRITE(ttbr0_el1, map.root_address());
    sysreg::isb();
    sysreg::flush_tlb_local();
    return {};
}

} // namespace keel::guest::detail
