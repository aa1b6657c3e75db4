// Hypercall explorer: asks the hypervisor what it offers and prints the
// answers — version, features, grant-table size, the event upcall, the HVM
// parameters a PV driver stack starts from — using only the SDK's typed
// wrappers (<keel/guest/hypercalls.hpp>). Every answer is a Result: a value
// or a Xen errno with a name. Runs as a dom0less domU with `xen,enhanced` on
// Keel and on Xen 4.17; the lines it prints are the same on both.
#include <keel/guest/hypercalls.hpp>
#include <keel/guest/runtime.hpp>

#include <xen/features.h>
#include <xen/hvm/params.h>

namespace guest = keel::guest;

namespace {

// Prints "explorer: <what> -> <value or -ERRNO>".
template <typename T>
void show(const char* what, const keel::Result<T>& r, const char* fmt, unsigned long value_of_ok)
{
    if (!r) {
        guest::print("explorer: %s -> -%s\n", what, keel::errno_name(r.error()));
        return;
    }
    guest::print("explorer: %s -> ", what);
    guest::print(fmt, value_of_ok);
    guest::print("\n");
}

struct Feature {
    unsigned bit;
    const char* name;
};
constexpr Feature kFeatures[] = {
    {XENFEAT_writable_page_tables, "writable_page_tables"},
    {XENFEAT_auto_translated_physmap, "auto_translated_physmap"},
    {XENFEAT_supervisor_mode_kernel, "supervisor_mode_kernel"},
    {XENFEAT_hvm_callback_vector, "hvm_callback_vector"},
    {XENFEAT_gnttab_map_avail_bits, "gnttab_map_avail_bits"},
    {XENFEAT_dom0, "dom0"},
};

} // namespace

int main(const void*)
{
    auto version = guest::xenver_version();
    if (!version) {
        guest::print("explorer: no hypervisor answers: -%s\n", keel::errno_name(version.error()));
        return 1;
    }
    guest::print("explorer: xen_version -> %u.%u\n", version->major, version->minor);

    auto features = guest::xenver_get_features(0);
    show("features submap 0", features, "read", 0);
    if (features) {
        for (const Feature& f : kFeatures)
            guest::print("explorer: feature %s -> %s\n", f.name, (*features >> f.bit) & 1 ? "yes" : "no");
    }
    show("features submap 1", guest::xenver_get_features(1), "%lx", 0);

    auto grants = guest::gnttabop_query_size();
    if (grants) guest::print("explorer: grant table -> %s frame(s) now, up to %s\n",
                             grants->nr_frames >= 1 ? ">= 1" : "0", grants->max_nr_frames >= grants->nr_frames ? ">= that" : "fewer?");
    else guest::print("explorer: grant table -> -%s\n", keel::errno_name(grants.error()));
    auto gnttab_version = guest::gnttabop_get_version();
    show("grant table version", gnttab_version, "%lu", gnttab_version.value_or(0));

    auto callback = guest::hvmop_get_param(HVM_PARAM_CALLBACK_IRQ);
    if (callback) guest::print("explorer: event upcall -> type %lu, a PPI %s\n", static_cast<unsigned long>(*callback >> 56),
                               (*callback & 0xffff) >= 16 && (*callback & 0xffff) < 32 ? "yes" : "no");
    // Without xenstore (enhanced=no-xenstore) these read 0 on both hypervisors.
    const struct {
        unsigned index;
        const char* name;
    } params[] = {{HVM_PARAM_STORE_PFN, "store pfn"}, {HVM_PARAM_STORE_EVTCHN, "store evtchn"},
                  {HVM_PARAM_CONSOLE_PFN, "console pfn"}, {HVM_PARAM_CONSOLE_EVTCHN, "console evtchn"}};
    for (const auto& p : params) {
        auto v = guest::hvmop_get_param(p.index);
        show(p.name, v, "%lx", static_cast<unsigned long>(v.value_or(0)));
    }

    // An event channel to ourselves: allocate, look at it, close it.
    auto port = guest::evtchnop_alloc_unbound(guest::kDomidSelf);
    if (port) {
        guest::print("explorer: alloc_unbound for ourselves -> a port\n");
        auto status = guest::evtchnop_status(*port);
        guest::print("explorer: its status -> %s\n", status && status->status == EVTCHNSTAT_unbound ? "unbound" : "?");
        guest::print("explorer: close it -> %s\n", guest::evtchnop_close(*port) ? "ok" : "failed");
        auto again = guest::evtchnop_close(*port);
        guest::print("explorer: close it again -> %s\n", again ? "ok" : keel::errno_name(again.error()));
    }
    guest::print("explorer: done\n");
    return 0;
}
