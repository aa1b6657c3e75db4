// GNTTABOP_map_grant_ref / unmap_grant_ref: the success paths, the busy flags a
// granter sees while its grant is mapped, and every status a bad request gets.
#include "gnttab_test_support.hpp"

using namespace keel;
using namespace keel::gnttab;
using namespace keel::gnttab::test;

namespace {

// dom1 grants, dom2 maps: the frontend/backend pair of every test here.
struct GnttabMapFixture : ::testing::Test {
    FakeHost host;
    GrantDomain& d1 = host.add_domain(1);
    GrantDomain& d2 = host.add_domain(2);

    gnttab_map_grant_ref_t map(std::uint16_t dom, grant_ref_t ref, std::uint64_t ipa, bool ro = false,
                               std::uint16_t mapper = 2)
    {
        gnttab_map_grant_ref_t op = map_op(dom, ref, ipa, ro);
        map_grant_ref(host, host.gt(mapper), op);
        return op;
    }
    std::int16_t unmap(grant_handle_t h, std::uint64_t ipa, std::uint16_t mapper = 2, std::uint64_t bus = 0)
    {
        gnttab_unmap_grant_ref_t op = unmap_op(h, ipa);
        op.dev_bus_addr = bus;
        unmap_grant_ref(host, host.gt(mapper), op);
        return op.status;
    }
};

} // namespace

TEST_F(GnttabMapFixture, MapSharesThePageAndUnmapTakesItAway)
{
    std::memcpy(host.ram(1, 3), "ring page", 10);
    host.grant(1, 8, 2, host.gfn(3));

    gnttab_map_grant_ref_t op = map(1, 8, kForeignBaseIpa);
    ASSERT_EQ(op.status, GNTST_okay);
    EXPECT_EQ(op.dev_bus_addr, reinterpret_cast<std::uint64_t>(host.ram(1, 3))) << "the page's physical address";
    std::uint8_t* seen = host.foreign(2, kForeignBaseIpa);
    ASSERT_EQ(seen, host.ram(1, 3));
    EXPECT_STREQ(reinterpret_cast<char*>(seen), "ring page");
    seen[0] = 'R';  // writable mapping: the granter sees the backend's write
    EXPECT_EQ(host.ram(1, 3)[0], 'R');

    GrantDomain::Mapping m;
    ASSERT_TRUE(d2.mapping(op.handle, m));
    EXPECT_EQ(m.granter, 1);
    EXPECT_EQ(m.ref, 8u);
    EXPECT_EQ(m.at, IpAddr(kForeignBaseIpa));
    EXPECT_FALSE(m.readonly);
    EXPECT_EQ(d1.pins(8).write_pins, 1);
    EXPECT_EQ(d1.pins(8).domid, 2);

    EXPECT_EQ(unmap(op.handle, kForeignBaseIpa), GNTST_okay);
    EXPECT_EQ(host.foreign(2, kForeignBaseIpa), nullptr);
    EXPECT_EQ(d1.pinned_entries(), 0u);
    EXPECT_EQ(d2.live_handles(), 0u);
    EXPECT_EQ(unmap(op.handle, kForeignBaseIpa), GNTST_bad_handle) << "a handle unmaps once";
}

TEST_F(GnttabMapFixture, GranterSeesItsGrantBusyWhileMapped)
{
    host.grant(1, 8, 2, host.gfn(0));
    EXPECT_EQ(host.flags(1, 8), GTF_permit_access);

    gnttab_map_grant_ref_t rw = map(1, 8, kForeignBaseIpa);
    ASSERT_EQ(rw.status, GNTST_okay);
    EXPECT_EQ(host.flags(1, 8), GTF_permit_access | GTF_reading | GTF_writing);
    EXPECT_FALSE(host.end_access(1, 8)) << "revoking a mapped grant reports busy";

    gnttab_map_grant_ref_t ro = map(1, 8, kForeignBaseIpa + kPageSize, true);
    ASSERT_EQ(ro.status, GNTST_okay);
    EXPECT_EQ(d1.pins(8).read_pins, 1);
    EXPECT_EQ(d1.pins(8).write_pins, 1);

    // The last writer goes: GTF_writing clears, GTF_reading stays for the reader.
    EXPECT_EQ(unmap(rw.handle, kForeignBaseIpa), GNTST_okay);
    EXPECT_EQ(host.flags(1, 8), GTF_permit_access | GTF_reading);
    EXPECT_FALSE(host.end_access(1, 8));

    EXPECT_EQ(unmap(ro.handle, kForeignBaseIpa + kPageSize), GNTST_okay);
    EXPECT_EQ(host.flags(1, 8), GTF_permit_access);
    EXPECT_TRUE(host.end_access(1, 8)) << "free again: the granter may revoke";
    EXPECT_EQ(host.flags(1, 8), 0);

    gnttab_map_grant_ref_t late = map(1, 8, kForeignBaseIpa);
    EXPECT_EQ(late.status, GNTST_general_error) << "a revoked grant cannot be mapped";
}

TEST_F(GnttabMapFixture, ReadOnlyGrantMapsOnlyReadOnly)
{
    host.grant(1, 9, 2, host.gfn(1), /*readonly=*/true);
    EXPECT_EQ(map(1, 9, kForeignBaseIpa).status, GNTST_general_error);
    EXPECT_EQ(host.flags(1, 9), GTF_permit_access | GTF_readonly) << "a refused map leaves no flag behind";
    gnttab_map_grant_ref_t ro = map(1, 9, kForeignBaseIpa, true);
    ASSERT_EQ(ro.status, GNTST_okay);
    EXPECT_TRUE(host.dom(2).foreign.at(kForeignBaseIpa).readonly);
    EXPECT_EQ(host.flags(1, 9), GTF_permit_access | GTF_readonly | GTF_reading);
    // Still read-only once pinned: a writer is refused even though the grant is held.
    EXPECT_EQ(map(1, 9, kForeignBaseIpa + kPageSize).status, GNTST_general_error);
    EXPECT_EQ(host.flags(1, 9), GTF_permit_access | GTF_readonly | GTF_reading);
}

TEST_F(GnttabMapFixture, MapRefusesBadFlagsBeforeAnythingElse)
{
    host.grant(1, 8, 2, host.gfn(0));
    gnttab_map_grant_ref_t op = map_op(1, 8, kForeignBaseIpa);
    op.flags = 0;
    map_grant_ref(host, d2, op);
    EXPECT_EQ(op.status, GNTST_bad_gntref) << "neither host_map nor device_map";
    op.flags = GNTMAP_readonly;
    map_grant_ref(host, d2, op);
    EXPECT_EQ(op.status, GNTST_bad_gntref);
    const std::uint32_t refused[] = {GNTMAP_device_map, GNTMAP_host_map | GNTMAP_device_map,
                                     GNTMAP_host_map | GNTMAP_application_map, GNTMAP_host_map | GNTMAP_contains_pte,
                                     GNTMAP_host_map | (1u << 16)};
    for (std::uint32_t f : refused) {
        op.flags = f;
        map_grant_ref(host, d2, op);
        EXPECT_EQ(op.status, GNTST_general_error) << std::hex << f;
    }
    op.flags = GNTMAP_device_map;
    op.dom = 77;  // the flags are judged first
    map_grant_ref(host, d2, op);
    EXPECT_EQ(op.status, GNTST_general_error);
    EXPECT_EQ(d1.pinned_entries(), 0u);
    EXPECT_EQ(d2.live_handles(), 0u);
}

TEST_F(GnttabMapFixture, MapStatusForEveryBadRequest)
{
    host.grant(1, 8, 2, host.gfn(0));
    host.grant(1, 11, 3, host.gfn(0));            // granted to someone else
    host.grant(1, 12, 2, 0x12345);                // not dom1's RAM
    host.grant(1, 13, 2, kGrantWindowGfn);        // dom1's own grant frame: not RAM either
    host.entry(1, 14)->domid = 2;                 // flags never set: invalid entry
    host.entry(1, 14)->frame = host.gfn(0);
    host.entry(1, 15)->domid = 2;                 // accept_transfer is not permit_access
    host.entry(1, 15)->flags = GTF_accept_transfer;
    host.grant(1, 16, 2, host.gfn(0));
    host.entry(1, 16)->flags |= GTF_sub_page;     // a v2-only flag: never mappable

    EXPECT_EQ(map(1, 512, kForeignBaseIpa).status, GNTST_bad_gntref) << "beyond the one frame";
    EXPECT_EQ(map(1, 0xffffffff, kForeignBaseIpa).status, GNTST_bad_gntref);
    EXPECT_EQ(map(9, 8, kForeignBaseIpa).status, GNTST_bad_domain);
    EXPECT_EQ(map(DOMID_SELF, 8, kForeignBaseIpa).status, GNTST_bad_domain) << "map names the granter by number";
    EXPECT_EQ(map(1, 11, kForeignBaseIpa).status, GNTST_general_error);
    EXPECT_EQ(map(1, 12, kForeignBaseIpa).status, GNTST_bad_page);
    EXPECT_EQ(map(1, 13, kForeignBaseIpa).status, GNTST_bad_page);
    EXPECT_EQ(map(1, 14, kForeignBaseIpa).status, GNTST_general_error);
    EXPECT_EQ(map(1, 15, kForeignBaseIpa).status, GNTST_general_error);
    EXPECT_EQ(map(1, 16, kForeignBaseIpa).status, GNTST_general_error);
    // A failed pin leaves the granter's entries exactly as the guest wrote them.
    EXPECT_EQ(host.flags(1, 12), GTF_permit_access);
    EXPECT_EQ(host.flags(1, 11), GTF_permit_access);

    host.denied_pairs.insert({1, 2});
    EXPECT_EQ(map(1, 8, kForeignBaseIpa).status, GNTST_permission_denied);
    host.denied_pairs.clear();

    // Where the mapper wants it: its own RAM, the grant window, an address already used.
    EXPECT_EQ(map(1, 8, kRamBaseGfn * kPageSize).status, GNTST_general_error);
    EXPECT_EQ(map(1, 8, kGrantWindowGfn * kPageSize).status, GNTST_general_error);
    gnttab_map_grant_ref_t ok = map(1, 8, kForeignBaseIpa);
    ASSERT_EQ(ok.status, GNTST_okay);
    EXPECT_EQ(map(1, 8, kForeignBaseIpa).status, GNTST_general_error);
    EXPECT_EQ(d1.pins(8).write_pins, 1) << "failed maps leave no pin";
    EXPECT_EQ(d2.live_handles(), 1u) << "failed maps leave no handle";

    EXPECT_EQ(host.flags(1, 8), GTF_permit_access | GTF_reading | GTF_writing);
    ASSERT_EQ(unmap(ok.handle, kForeignBaseIpa), GNTST_okay);
    // Nothing held any more, nothing left set.
    EXPECT_EQ(d1.pinned_entries(), 0u);
    EXPECT_EQ(d2.live_handles(), 0u);
    EXPECT_TRUE(host.dom(2).foreign.empty());
}

TEST_F(GnttabMapFixture, UnalignedHostAddrMapsItsPage)
{
    // Xen takes the frame of host_addr and ignores the offset; so does Keel.
    host.grant(1, 8, 2, host.gfn(0));
    gnttab_map_grant_ref_t op = map(1, 8, kForeignBaseIpa + 0x123);
    ASSERT_EQ(op.status, GNTST_okay);
    EXPECT_NE(host.foreign(2, kForeignBaseIpa), nullptr);
    EXPECT_EQ(unmap(op.handle, kForeignBaseIpa + 0xfff), GNTST_okay);
}

TEST_F(GnttabMapFixture, HostMapFailureUndoesThePin)
{
    host.grant(1, 8, 2, host.gfn(0));
    host.fail_map_foreign = true;
    EXPECT_EQ(map(1, 8, kForeignBaseIpa).status, GNTST_general_error);
    EXPECT_EQ(host.flags(1, 8), GTF_permit_access);
    EXPECT_EQ(d1.pinned_entries(), 0u);
    EXPECT_EQ(d2.live_handles(), 0u);
}

TEST_F(GnttabMapFixture, AnotherDomainCannotMapAHeldGrant)
{
    GrantDomain& d3 = host.add_domain(3);
    host.grant(1, 8, 2, host.gfn(0));
    gnttab_map_grant_ref_t op = map(1, 8, kForeignBaseIpa);
    ASSERT_EQ(op.status, GNTST_okay);
    // The granter re-aims the entry at dom3 while dom2 holds it (a hostile granter):
    // the active entry still belongs to dom2, so dom3 gets nothing.
    host.entry(1, 8)->domid = 3;
    gnttab_map_grant_ref_t other = map_op(1, 8, kForeignBaseIpa);
    map_grant_ref(host, d3, other);
    EXPECT_EQ(other.status, GNTST_general_error);
    // And dom2 keeps mapping it: once pinned, the pin is what counts (as Xen).
    EXPECT_EQ(map(1, 8, kForeignBaseIpa + kPageSize).status, GNTST_okay);
    EXPECT_EQ(d1.pins(8).write_pins, 2);
}

TEST_F(GnttabMapFixture, PinCountsSaturateAt128)
{
    host.grant(1, 8, 2, host.gfn(0));
    std::vector<grant_handle_t> handles;
    for (unsigned i = 0; i < 128; ++i) {
        gnttab_map_grant_ref_t op = map(1, 8, kForeignBaseIpa + i * kPageSize, true);
        ASSERT_EQ(op.status, GNTST_okay) << i;
        handles.push_back(op.handle);
    }
    EXPECT_EQ(map(1, 8, kForeignBaseIpa + 200 * kPageSize, true).status, GNTST_general_error);
    EXPECT_EQ(map(1, 8, kForeignBaseIpa + 201 * kPageSize).status, GNTST_general_error)
        << "Xen refuses any new pin once one count is saturated";
    for (unsigned i = 0; i < 128; ++i) EXPECT_EQ(unmap(handles[i], kForeignBaseIpa + i * kPageSize), GNTST_okay);
    EXPECT_EQ(host.flags(1, 8), GTF_permit_access);
}

TEST_F(GnttabMapFixture, UnmapStatusForEveryBadRequest)
{
    host.grant(1, 8, 2, host.gfn(0));
    gnttab_map_grant_ref_t op = map(1, 8, kForeignBaseIpa);
    ASSERT_EQ(op.status, GNTST_okay);

    EXPECT_EQ(unmap(op.handle + 1, kForeignBaseIpa), GNTST_bad_handle) << "allocated page, free record";
    EXPECT_EQ(unmap(0x7fffffff, kForeignBaseIpa), GNTST_bad_handle);
    EXPECT_EQ(unmap(op.handle, kForeignBaseIpa, /*mapper=*/1), GNTST_bad_handle) << "handles are per domain";
    EXPECT_EQ(unmap(op.handle, kForeignBaseIpa + kPageSize), GNTST_general_error) << "not where it is mapped";
    EXPECT_EQ(unmap(op.handle, kForeignBaseIpa, 2, /*bus=*/0x1000), GNTST_general_error) << "wrong dev_bus_addr";
    EXPECT_NE(host.foreign(2, kForeignBaseIpa), nullptr) << "failed unmaps leave the mapping";
    EXPECT_EQ(unmap(op.handle, 0), GNTST_okay) << "host_addr 0: nothing to unmap, as Xen";
    EXPECT_NE(host.foreign(2, kForeignBaseIpa), nullptr);
    EXPECT_EQ(unmap(op.handle, kForeignBaseIpa, 2, op.dev_bus_addr), GNTST_okay) << "matching dev_bus_addr";
    EXPECT_EQ(host.foreign(2, kForeignBaseIpa), nullptr);
}

TEST_F(GnttabMapFixture, HandlesAreNotReusedAtOnce)
{
    host.grant(1, 8, 2, host.gfn(0));
    gnttab_map_grant_ref_t a = map(1, 8, kForeignBaseIpa);
    ASSERT_EQ(unmap(a.handle, kForeignBaseIpa), GNTST_okay);
    gnttab_map_grant_ref_t b = map(1, 8, kForeignBaseIpa);
    ASSERT_EQ(b.status, GNTST_okay);
    EXPECT_NE(a.handle, b.handle) << "a stale handle must not name the next mapping";
    EXPECT_EQ(unmap(a.handle, kForeignBaseIpa), GNTST_bad_handle);
}

TEST_F(GnttabMapFixture, SelfMappingWorks)
{
    host.grant(1, 8, 1, host.gfn(2));
    gnttab_map_grant_ref_t op = map(1, 8, kForeignBaseIpa, false, /*mapper=*/1);
    ASSERT_EQ(op.status, GNTST_okay);
    EXPECT_EQ(host.foreign(1, kForeignBaseIpa), host.ram(1, 2));
    EXPECT_EQ(unmap(op.handle, kForeignBaseIpa, 1), GNTST_okay);
    EXPECT_EQ(d1.pinned_entries(), 0u);
}

TEST_F(GnttabMapFixture, HandleSpaceGrowsAPageAtATimeAndRunsOut)
{
    host.grant(1, 8, 2, host.gfn(0), true);
    host.fail_allocs_after(0);
    EXPECT_EQ(map(1, 8, kForeignBaseIpa, true).status, GNTST_no_device_space) << "no page for the first handles";
    EXPECT_EQ(host.flags(1, 8), GTF_permit_access | GTF_readonly);
    host.fail_allocs_after(-1);
    gnttab_map_grant_ref_t op = map(1, 8, kForeignBaseIpa, true);
    ASSERT_EQ(op.status, GNTST_okay);
    EXPECT_EQ(d2.handle_limit(), Maptrack::kPerPage);
    EXPECT_EQ(unmap(op.handle, kForeignBaseIpa), GNTST_okay);
}

TEST_F(GnttabMapFixture, GrantsInALaterFrame)
{
    host.map_frame(1, 2);  // entries 1024..1535
    host.grant(1, 1100, 2, host.gfn(5));
    EXPECT_EQ(map(1, 1100, kForeignBaseIpa).status, GNTST_okay);
    EXPECT_EQ(host.foreign(2, kForeignBaseIpa), host.ram(1, 5));
    EXPECT_EQ(map(1, 1536, kForeignBaseIpa + kPageSize).status, GNTST_bad_gntref);
}
