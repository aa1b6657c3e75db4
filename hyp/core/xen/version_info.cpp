#include "xen/version_info.hpp"

#include <xen/features.h>
#include <xen/version.h>

namespace keel::xen {

namespace {
long ret(Status s) { return s.ok() ? 0 : s.as_xen_ret(); }

template <std::size_t N>
void copy_string(char (&dst)[N], const char* src)
{
    std::size_t i = 0;
    for (; i + 1 < N && src[i]; ++i) dst[i] = src[i];
    for (; i < N; ++i) dst[i] = '\0';
}
} // namespace

std::uint32_t feature_submap(unsigned idx, bool privileged)
{
    if (idx != 0) return 0;
    // What Xen 4.17 reports to an arm domU: 0x16005, measured. Keel never direct-maps a
    // domain (dom0 included), so not_direct_mapped holds for all; dom0 adds XENFEAT_dom0.
    std::uint32_t m = 1u << XENFEAT_writable_page_tables | 1u << XENFEAT_auto_translated_physmap |
                      1u << XENFEAT_memory_op_vnode_supported | 1u << XENFEAT_ARM_SMCCC_supported |
                      1u << XENFEAT_not_direct_mapped;
    if (privileged) m |= 1u << XENFEAT_dom0;
    return m;
}

long xen_version(unsigned cmd, IpAddr arg, const VersionCaller& caller, GuestMemory& mem)
{
    switch (cmd) {
    case XENVER_version: return long(kXenMajor) << 16 | kXenMinor;
    case XENVER_extraversion: {
        xen_extraversion_t v;
        copy_string(v, "-keel");
        return ret(mem.write_obj(arg, v));
    }
    case XENVER_compile_info: {
        xen_compile_info_t info{};
        copy_string(info.compiler, "g++ (Keel)");
        copy_string(info.compile_by, "keel");
        copy_string(info.compile_domain, "keel");
        copy_string(info.compile_date, __DATE__);
        return ret(mem.write_obj(arg, info));
    }
    case XENVER_capabilities: {
        static xen_capabilities_info_t caps;
        copy_string(caps, "xen-3.0-aarch64 xen-3.0-armv7l ");
        return ret(mem.write_obj(arg, caps));
    }
    case XENVER_changeset: {
        xen_changeset_info_t cs;
        copy_string(cs, "keel");
        return ret(mem.write_obj(arg, cs));
    }
    case XENVER_platform_parameters: {
        xen_platform_parameters_t p{};
        p.virt_start = 0;  // no hypervisor hole in an auto-translated guest's address space
        return ret(mem.write_obj(arg, p));
    }
    case XENVER_get_features: {
        xen_feature_info_t fi;
        if (Status s = mem.read_obj(arg, fi); !s) return s.as_xen_ret();
        if (fi.submap_idx >= XENFEAT_NR_SUBMAPS) return -static_cast<long>(Errno::XEN_EINVAL);  // nothing written
        fi.submap = feature_submap(fi.submap_idx, caller.privileged);
        return ret(mem.write_obj(arg, fi));
    }
    case XENVER_pagesize: return 4096;
    case XENVER_guest_handle: {
        xen_domain_handle_t h;
        for (unsigned i = 0; i < sizeof h; ++i) h[i] = caller.handle[i];
        return ret(mem.write_obj(arg, h));
    }
    case XENVER_commandline:
    case XENVER_build_id:
        // Privileged information, as on Xen with its default (dummy/SILO) policy.
        return -static_cast<long>(Errno::XEN_EPERM);
    default: return -static_cast<long>(Errno::XEN_ENOSYS);
    }
}

} // namespace keel::xen
