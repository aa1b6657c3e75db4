#include "dt/boot_modules.hpp"

#include "dt/fdt_read.hpp"

#include <libfdt.h>

namespace keel::dt {

namespace {

bool is_module(const void* fdt, int node)
{
    return is_compatible(fdt, node, "multiboot,module") || is_compatible(fdt, node, "xen,multiboot-module");
}

ModuleKind declared_kind(const void* fdt, int node)
{
    if (is_compatible(fdt, node, "multiboot,kernel") || is_compatible(fdt, node, "xen,linux-zimage"))
        return ModuleKind::Kernel;
    if (is_compatible(fdt, node, "multiboot,ramdisk") || is_compatible(fdt, node, "xen,linux-initrd"))
        return ModuleKind::Ramdisk;
    if (is_compatible(fdt, node, "xen,xsm-policy")) return ModuleKind::XsmPolicy;
    if (is_compatible(fdt, node, "multiboot,device-tree")) return ModuleKind::DeviceTree;
    return ModuleKind::Unknown;
}

class Collector {
public:
    Collector(const void* fdt, BootModules& out) : fdt_(fdt), out_(out) { out_.count = 0; }

    Status add(int node, int parent)
    {
        if (out_.count == kMaxBootModules) return Err(Errno::XEN_ENOSPC);
        auto reg = reg_entry(fdt_, node, 0);
        if (!reg) return Err(Errno::XEN_EINVAL);  // a module must say where it is

        ModuleKind kind = declared_kind(fdt_, node);
        if (kind == ModuleKind::Unknown) {
            // Xen's guess for untyped modules counts across the whole tree, domUs included.
            if (guesses_ == 0) kind = ModuleKind::Kernel;
            else if (guesses_ == 1) kind = ModuleKind::Ramdisk;
            ++guesses_;
        }

        BootModuleNode& m = out_.mod[out_.count];
        m.node = node;
        m.parent = parent;
        m.domu = is_compatible(fdt_, parent, "xen,domain");
        m.kind = kind;
        m.base = PhysAddr(reg->base);
        m.size = reg->size;
        m.bootargs = TextView{};
        m.has_bootargs = false;
        auto args = prop_string(fdt_, node, "bootargs");
        if (args) {
            m.bootargs = *args;
            m.has_bootargs = true;
        } else if (args.error() != Errno::XEN_ENOENT) {
            return Err(args.error());
        }
        ++out_.count;
        return {};
    }

private:
    const void* fdt_;
    BootModules& out_;
    unsigned guesses_ = 0;
};

} // namespace

Status collect_boot_modules(const void* fdt, BootModules& out)
{
    Collector collect(fdt, out);
    const int chosen = fdt_path_offset(fdt, "/chosen");
    if (chosen < 0) return {};

    // Xen looks for modules at depth 2 and 3: /chosen/module and /chosen/<domain>/module.
    int child;
    fdt_for_each_subnode(child, fdt, chosen) {
        if (is_module(fdt, child)) KEEL_TRY(collect.add(child, chosen));
        int grandchild;
        fdt_for_each_subnode(grandchild, fdt, child) {
            if (is_module(fdt, grandchild)) KEEL_TRY(collect.add(grandchild, child));
        }
    }
    return {};
}

} // namespace keel::dt
