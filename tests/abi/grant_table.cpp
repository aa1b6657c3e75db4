// grant_table_op v1 within dom0: it grants its own pages to itself, maps
// them into the hypervisor's region and copies through them.
#include "check.hpp"
#include "env.hpp"
#include "hypercall.hpp"

#include <xen/grant_table.h>
#include <xen/xen.h>

namespace abi {
namespace {

long gnttab_op(unsigned cmd, void* ops, unsigned count = 1)
{
    return hypercall(__HYPERVISOR_grant_table_op, cmd, arg(ops), count);
}

alignas(kPage) std::uint8_t g_granted[kPage];
alignas(kPage) std::uint8_t g_copy_source[kPage];

// Grant entries live in a region the runtime maps as Device memory: one
// naturally aligned volatile store per field, flags last.
void set_entry(Env& env, grant_ref_t ref, std::uint16_t flags, domid_t domid, std::uint32_t frame)
{
    auto* e = static_cast<volatile grant_entry_v1_t*>(env.grant_frame) + ref;
    e->domid = domid;
    e->frame = frame;
    asm volatile("dmb ishst" ::: "memory");  // the entry's body before its flags make it valid
    e->flags = flags;
}
std::uint16_t entry_flags(Env& env, grant_ref_t ref)
{
    return static_cast<volatile grant_entry_v1_t*>(env.grant_frame)[ref].flags;
}

gnttab_map_grant_ref_t map(std::uint64_t host_addr, grant_ref_t ref, domid_t dom, std::uint32_t flags)
{
    gnttab_map_grant_ref_t m{};
    m.host_addr = host_addr;
    m.flags = flags;
    m.ref = ref;
    m.dom = dom;
    gnttab_op(GNTTABOP_map_grant_ref, &m);
    return m;
}

std::int16_t unmap(std::uint64_t host_addr, grant_handle_t handle)
{
    gnttab_unmap_grant_ref_t u{};
    u.host_addr = host_addr;
    u.handle = handle;
    gnttab_op(GNTTABOP_unmap_grant_ref, &u);
    return u.status;
}

std::int16_t copy_to_ref(grant_ref_t ref, domid_t dom, std::uint16_t offset, std::uint16_t len)
{
    gnttab_copy_t c{};
    c.source.u.gmfn = reinterpret_cast<std::uintptr_t>(g_copy_source) / kPage;
    c.source.domid = kDomidSelf;
    c.source.offset = 0;
    c.dest.u.ref = ref;
    c.dest.domid = dom;
    c.dest.offset = offset;
    c.len = len;
    c.flags = GNTCOPY_dest_gref;
    gnttab_op(GNTTABOP_copy, &c);
    return c.status;
}

constexpr grant_ref_t kRef = 8;          // refs 0-7 are reserved by convention
constexpr grant_ref_t kRefNoAccess = 9;  // flags 0: not granted
constexpr grant_ref_t kRefOther = 10;    // granted to another domain
constexpr grant_ref_t kRefReadOnly = 11;

} // namespace

void check_grant_table(Env& env)
{
    const char* area = "gnttab";
    gnttab_get_version_t gv{kDomidSelf, 0, 0};
    check(area, "get_version", "%s, version %u", rc(gnttab_op(GNTTABOP_get_version, &gv)), gv.version);
    gnttab_get_version_t gv_bad{kNoSuchDomain, 0, 0};
    check(area, "get_version bad domid", "%s", rc(gnttab_op(GNTTABOP_get_version, &gv_bad)));
    gnttab_set_version_t sv{1};
    check(area, "set_version 1", "%s, version %u", rc(gnttab_op(GNTTABOP_set_version, &sv)), sv.version);
    gnttab_set_version_t sv3{3};
    check(area, "set_version 3", "%s", rc(gnttab_op(GNTTABOP_set_version, &sv3)));

    gnttab_query_size_t qs{};
    qs.dom = kDomidSelf;
    const long qr = gnttab_op(GNTTABOP_query_size, &qs);
    check(area, "query_size", "%s, %s, nr_frames >= 1 %s, max >= nr %s", rc(qr), gntst(qs.status),
          yes_no(qs.nr_frames >= 1), yes_no(qs.max_nr_frames >= qs.nr_frames));
    gnttab_query_size_t qs_bad{};
    qs_bad.dom = kNoSuchDomain;
    check(area, "query_size bad domid", "%s, %s", rc(gnttab_op(GNTTABOP_query_size, &qs_bad)), gntst(qs_bad.status));

    xen_pfn_t frames[2] = {};
    gnttab_setup_table_t st{};
    st.dom = kDomidSelf;
    st.nr_frames = 1;
    set_xen_guest_handle(st.frame_list, frames);
    check(area, "setup_table 1 frame", "%s, %s", rc(gnttab_op(GNTTABOP_setup_table, &st)), gntst(st.status));
    st.nr_frames = 100000;
    check(area, "setup_table 100000 frames", "%s, %s", rc(gnttab_op(GNTTABOP_setup_table, &st)), gntst(st.status));
    st.nr_frames = 1;
    st.dom = kNoSuchDomain;
    check(area, "setup_table bad domid", "%s, %s", rc(gnttab_op(GNTTABOP_setup_table, &st)), gntst(st.status));
    check(area, "bad pointer", "%s", rc(hypercall(__HYPERVISOR_grant_table_op, GNTTABOP_query_size, kBadPointer, 1)));
    check(area, "unknown command 99", "%s", rc(gnttab_op(99, &qs)));

    // Entries in frame 0 (mapped by the memory checks).
    const std::uint32_t granted_gfn = static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(g_granted) / kPage);
    for (unsigned i = 0; i < 64; ++i) g_granted[i] = static_cast<std::uint8_t>(0xa0 + i);
    set_entry(env, kRef, GTF_permit_access, 0, granted_gfn);
    set_entry(env, kRefNoAccess, 0, 0, granted_gfn);
    set_entry(env, kRefOther, GTF_permit_access, 5, granted_gfn);
    set_entry(env, kRefReadOnly, GTF_permit_access | GTF_readonly, 0, granted_gfn);

    const std::uint64_t map_at = env.region_gfn(1) * kPage;
    auto m = map(map_at, kRef, kDomidSelf, GNTMAP_host_map);
    check(area, "map_grant_ref own grant", "%s", gntst(m.status));
    check(area, "entry flags while mapped: reading, writing", "%s, %s",
          yes_no(entry_flags(env, kRef) & GTF_reading), yes_no(entry_flags(env, kRef) & GTF_writing));
    if (m.status == GNTST_okay) {
        const auto* seen = reinterpret_cast<const volatile std::uint8_t*>(map_at);
        check(area, "mapped page shows the granted bytes", "%s", yes_no(seen[0] == 0xa0 && seen[63] == 0xdf));
    }
    check(area, "map_grant_ref again (second mapping)", "%s",
          gntst(map(env.region_gfn(3) * kPage, kRef, kDomidSelf, GNTMAP_host_map).status));
    check(area, "map_grant_ref bad ref", "%s", gntst(map(env.region_gfn(4) * kPage, 100000, kDomidSelf, GNTMAP_host_map).status));
    check(area, "map_grant_ref not granted", "%s", gntst(map(env.region_gfn(4) * kPage, kRefNoAccess, kDomidSelf, GNTMAP_host_map).status));
    check(area, "map_grant_ref granted to another domain", "%s",
          gntst(map(env.region_gfn(4) * kPage, kRefOther, kDomidSelf, GNTMAP_host_map).status));
    check(area, "map_grant_ref bad domid", "%s", gntst(map(env.region_gfn(4) * kPage, kRef, kNoSuchDomain, GNTMAP_host_map).status));
    check(area, "map_grant_ref no flags", "%s", gntst(map(env.region_gfn(4) * kPage, kRef, kDomidSelf, 0).status));
    check(area, "map_grant_ref read-only grant for writing", "%s",
          gntst(map(env.region_gfn(4) * kPage, kRefReadOnly, kDomidSelf, GNTMAP_host_map).status));
    auto ro = map(env.region_gfn(5) * kPage, kRefReadOnly, kDomidSelf, GNTMAP_host_map | GNTMAP_readonly);
    check(area, "map_grant_ref read-only grant read-only", "%s", gntst(ro.status));

    check(area, "unmap_grant_ref", "%s", gntst(unmap(map_at, m.handle)));
    check(area, "unmap_grant_ref same handle again", "%s", gntst(unmap(map_at, m.handle)));
    check(area, "unmap_grant_ref bad handle", "%s", gntst(unmap(map_at, 4000)));
    if (ro.status == GNTST_okay) check(area, "unmap_grant_ref read-only mapping", "%s", gntst(unmap(env.region_gfn(5) * kPage, ro.handle)));
    check(area, "entry flags after unmap: reading, writing", "%s, %s",
          yes_no(entry_flags(env, kRef) & GTF_reading), yes_no(entry_flags(env, kRef) & GTF_writing));

    // copy into the granted page through its ref.
    for (unsigned i = 0; i < 16; ++i) g_copy_source[i] = static_cast<std::uint8_t>(0x50 + i);
    check(area, "copy 16 bytes to own grant", "%s", gntst(copy_to_ref(kRef, kDomidSelf, 32, 16)));
    check(area, "copied bytes landed", "%s", yes_no(g_granted[32] == 0x50 && g_granted[47] == 0x5f && g_granted[48] == 0xd0));
    check(area, "copy bad ref", "%s", gntst(copy_to_ref(100000, kDomidSelf, 0, 16)));
    check(area, "copy not granted", "%s", gntst(copy_to_ref(kRefNoAccess, kDomidSelf, 0, 16)));
    check(area, "copy to a read-only grant", "%s", gntst(copy_to_ref(kRefReadOnly, kDomidSelf, 0, 16)));
    check(area, "copy across the page end", "%s", gntst(copy_to_ref(kRef, kDomidSelf, 4090, 16)));
    check(area, "copy bad domid", "%s", gntst(copy_to_ref(kRef, kNoSuchDomain, 0, 16)));
}

} // namespace abi
