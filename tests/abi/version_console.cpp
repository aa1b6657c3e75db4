// xen_version and console_io.
#include "check.hpp"
#include "env.hpp"
#include "hypercall.hpp"

#include <xen/features.h>
#include <xen/version.h>
#include <xen/xen.h>

namespace abi {
namespace {

long xen_version(unsigned cmd, void* buffer) { return hypercall(__HYPERVISOR_xen_version, cmd, arg(buffer)); }
long console_io(unsigned cmd, std::uint64_t count, std::uint64_t buffer)
{
    return hypercall(__HYPERVISOR_console_io, cmd, count, buffer);
}

} // namespace

void check_version_and_console(Env&)
{
    const char* area = "xen_version";
    const long v = xen_version(XENVER_version, nullptr);
    check(area, "version", "%ld.%ld", v >> 16, v & 0xffff);

    xen_extraversion_t extra{};
    const long r = xen_version(XENVER_extraversion, extra);
    bool terminated = false;
    for (char c : extra) terminated |= (c == '\0');
    check(area, "extraversion", "%s, NUL-terminated %s", rc(r), yes_no(terminated));

    xen_feature_info_t features{0, 0};
    check(area, "get_features submap 0", "%s", rc(xen_version(XENVER_get_features, &features)));
    check(area, "features: auto-translated physmap", "%s",
          yes_no(features.submap & (1u << XENFEAT_auto_translated_physmap)));
    check(area, "features: hvm_callback_vector", "%s", yes_no(features.submap & (1u << XENFEAT_hvm_callback_vector)));
    check(area, "features: dom0", "%s", yes_no(features.submap & (1u << XENFEAT_dom0)));
    // Whether a domain is direct-mapped (Xen's dom0 is, Keel never is) is the one
    // feature that legitimately differs; exactly one of the two bits must be set.
    constexpr unsigned kDirectMapBits = 1u << XENFEAT_not_direct_mapped | 1u << XENFEAT_direct_mapped;
    check(area, "get_features submap 0 value without direct-map bits", "0x%x", features.submap & ~kDirectMapBits);
    check(area, "features: exactly one direct-map bit", "%s",
          yes_no(__builtin_popcount(features.submap & kDirectMapBits) == 1));
    xen_feature_info_t beyond{1, 0xffffffff};
    const long r1 = xen_version(XENVER_get_features, &beyond);
    check(area, "get_features submap 1", "%s, 0x%x", rc(r1), beyond.submap);
    xen_feature_info_t far{XENFEAT_NR_SUBMAPS, 0xffffffff};
    check(area, "get_features submap past the end", "%s", rc(xen_version(XENVER_get_features, &far)));
    check(area, "get_features bad pointer", "%s",
          rc(hypercall(__HYPERVISOR_xen_version, XENVER_get_features, kBadPointer)));
    check(area, "pagesize", "%s", rc(xen_version(XENVER_pagesize, nullptr)));
    xen_domain_handle_t handle;
    check(area, "guest_handle", "%s", rc(xen_version(XENVER_guest_handle, handle)));
    check(area, "unknown command 99", "%s", rc(xen_version(99, nullptr)));

    area = "console_io";
    static const char kText[] = "abi: console_io: (a write of its own)\n";
    check(area, "write", "%s", rc(console_io(CONSOLEIO_write, sizeof kText - 1, arg(kText))));
    check(area, "write 0 bytes", "%s", rc(console_io(CONSOLEIO_write, 0, arg(kText))));
    check(area, "write bad pointer", "%s", rc(console_io(CONSOLEIO_write, 8, kBadPointer)));
    char buffer[16];
    check(area, "read 0 bytes", "%s", rc(console_io(CONSOLEIO_read, 0, arg(buffer))));
    check(area, "unknown command 99", "%s", rc(console_io(99, 0, 0)));
}

} // namespace abi
