// A domain dies: its own mappings go, other domains' mappings of its grants stay
// until unmapped (Xen's zombie behaviour) or are revoked, and no page leaks.
#include "gnttab_test_support.hpp"

using namespace keel;
using namespace keel::gnttab;
using namespace keel::gnttab::test;

namespace {

struct GnttabReleaseFixture : ::testing::Test {
    FakeHost host;
    GrantDomain& d1 = host.add_domain(1);  // frontend: grants
    GrantDomain& d2 = host.add_domain(2);  // backend: maps

    grant_handle_t map(std::uint16_t granter, grant_ref_t ref, std::uint16_t mapper, std::uint64_t ipa)
    {
        gnttab_map_grant_ref_t op = map_op(granter, ref, ipa);
        map_grant_ref(host, host.gt(mapper), op);
        EXPECT_EQ(op.status, GNTST_okay);
        return op.handle;
    }
    std::int16_t unmap(grant_handle_t h, std::uint64_t ipa, std::uint16_t mapper)
    {
        gnttab_unmap_grant_ref_t op = unmap_op(h, ipa);
        unmap_grant_ref(host, host.gt(mapper), op);
        return op.status;
    }
};

} // namespace

TEST_F(GnttabReleaseFixture, DyingMapperUnmapsEverythingItHeld)
{
    host.grant(1, 8, 2, host.gfn(0));
    host.grant(1, 9, 2, host.gfn(1));
    map(1, 8, 2, kForeignBaseIpa);
    map(1, 9, 2, kForeignBaseIpa + kPageSize);
    map(1, 9, 2, kForeignBaseIpa + 2 * kPageSize);

    ReleaseSummary s = host.kill(2);
    EXPECT_EQ(s.own_unmapped, 3u);
    EXPECT_TRUE(s.drained());
    EXPECT_EQ(d2.state(), GrantDomain::State::Unused);
    EXPECT_TRUE(host.dom(2).foreign.empty());
    EXPECT_EQ(d1.pinned_entries(), 0u);
    // The frontend sees its grants free again and can revoke them.
    EXPECT_TRUE(host.end_access(1, 8));
    EXPECT_TRUE(host.end_access(1, 9));
}

TEST_F(GnttabReleaseFixture, DyingGranterStaysUntilTheMapperUnmaps)
{
    host.grant(1, 8, 2, host.gfn(3));
    const grant_handle_t h = map(1, 8, 2, kForeignBaseIpa);

    ReleaseSummary s = host.kill(1);
    EXPECT_FALSE(s.drained());
    EXPECT_EQ(s.still_pinned, 1u);
    EXPECT_EQ(d1.state(), GrantDomain::State::Dying);
    EXPECT_EQ(d1.destroy(host).error(), Errno::XEN_EBUSY);
    EXPECT_EQ(host.foreign(2, kForeignBaseIpa), host.ram(1, 3)) << "the backend keeps its mapping, as on Xen";

    // Nothing new against a dying domain.
    host.grant(1, 9, 2, host.gfn(4));
    gnttab_map_grant_ref_t op = map_op(1, 9, kForeignBaseIpa + kPageSize);
    map_grant_ref(host, d2, op);
    EXPECT_EQ(op.status, GNTST_bad_domain);
    gnttab_copy_t c = copy_gref_to_gfn(1, 8, 0, host.gfn(0), 0, 8);
    copy(host, d2, c);
    EXPECT_EQ(c.status, GNTST_bad_domain);

    EXPECT_TRUE(host.drained.empty());
    EXPECT_EQ(unmap(h, kForeignBaseIpa, 2), GNTST_okay);
    ASSERT_EQ(host.drained.size(), 1u) << "the last unmap lets the host free the granter";
    EXPECT_EQ(host.drained[0], 1);
    EXPECT_TRUE(d1.destroy(host).ok());
}

TEST_F(GnttabReleaseFixture, RevokeTakesMappingsAwayAndLeavesOrphanHandles)
{
    host.grant(1, 8, 2, host.gfn(3));
    host.grant(1, 9, 2, host.gfn(4));
    const grant_handle_t h8 = map(1, 8, 2, kForeignBaseIpa);
    const grant_handle_t h9 = map(1, 9, 2, kForeignBaseIpa + kPageSize);

    ReleaseSummary s = host.kill(1, ForeignMappings::Revoke);
    EXPECT_EQ(s.foreign_revoked, 2u);
    EXPECT_TRUE(s.drained());
    EXPECT_EQ(d1.state(), GrantDomain::State::Unused);
    EXPECT_TRUE(host.dom(2).foreign.empty()) << "the backend can no longer reach the dead domain's pages";

    GrantDomain::Mapping m;
    ASSERT_TRUE(d2.mapping(h8, m));
    EXPECT_TRUE(m.orphaned);
    EXPECT_EQ(unmap(h8, kForeignBaseIpa + kPageSize, 2), GNTST_general_error) << "still the recorded address only";
    EXPECT_EQ(unmap(h8, kForeignBaseIpa, 2), GNTST_okay);
    EXPECT_EQ(unmap(h9, kForeignBaseIpa + kPageSize, 2), GNTST_okay);
    EXPECT_EQ(unmap(h9, kForeignBaseIpa + kPageSize, 2), GNTST_bad_handle);
    EXPECT_EQ(d2.live_handles(), 0u);
}

TEST_F(GnttabReleaseFixture, LateRevokeDrainsAKeptGranter)
{
    host.grant(1, 8, 2, host.gfn(3));
    map(1, 8, 2, kForeignBaseIpa);
    EXPECT_FALSE(host.kill(1).drained());
    EXPECT_EQ(revoke_foreign_mappings(host, d1), 1u);
    ASSERT_EQ(host.drained.size(), 1u);
    EXPECT_TRUE(d1.destroy(host).ok());
    EXPECT_EQ(revoke_foreign_mappings(host, d2), 0u) << "a live domain's grants are never revoked";
}

TEST_F(GnttabReleaseFixture, TwoDomainsMappingEachOtherBothDie)
{
    GrantDomain& d3 = host.add_domain(3);
    host.grant(1, 8, 2, host.gfn(0));
    host.grant(2, 8, 1, host.gfn(0));
    host.grant(2, 9, 3, host.gfn(1));
    map(1, 8, 2, kForeignBaseIpa);
    map(2, 8, 1, kForeignBaseIpa);
    const grant_handle_t h3 = map(2, 9, 3, kForeignBaseIpa);

    ReleaseSummary s1 = host.kill(1);  // dom2 still maps dom1's grant
    EXPECT_FALSE(s1.drained());
    ReleaseSummary s2 = host.kill(2);  // dom3 still maps dom2's grant
    EXPECT_EQ(s2.own_unmapped, 1u);
    EXPECT_FALSE(s2.drained());
    ASSERT_EQ(host.drained.size(), 1u) << "dom2's death released dom1's last grant";
    EXPECT_EQ(host.drained[0], 1);
    EXPECT_TRUE(d1.destroy(host).ok());

    EXPECT_EQ(unmap(h3, kForeignBaseIpa, 3), GNTST_okay);
    EXPECT_TRUE(d2.destroy(host).ok());
    host.kill(3);
    EXPECT_EQ(d3.state(), GrantDomain::State::Unused);
    EXPECT_EQ(host.live_pages(), 0u);
}

TEST_F(GnttabReleaseFixture, SelfMappedGrantIsReleasedWithItsOwner)
{
    host.grant(1, 8, 1, host.gfn(0));
    map(1, 8, 1, kForeignBaseIpa);
    ReleaseSummary s = host.kill(1);
    EXPECT_EQ(s.own_unmapped, 1u);
    EXPECT_TRUE(s.drained());
    EXPECT_TRUE(host.drained.empty()) << "the summary says it; no callback for oneself";
}
