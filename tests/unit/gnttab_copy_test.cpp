// GNTTABOP_copy: grant to own frame, own frame to grant, grant to grant, and
// every status a bad copy gets, with the bytes around each copy checked.
#include "gnttab_test_support.hpp"

using namespace keel;
using namespace keel::gnttab;
using namespace keel::gnttab::test;

namespace {

struct GnttabCopyFixture : ::testing::Test {
    FakeHost host;
    GrantDomain& d1 = host.add_domain(1);
    GrantDomain& d2 = host.add_domain(2);
    GrantDomain& d3 = host.add_domain(3);

    void SetUp() override
    {
        for (std::uint16_t d : {1, 2, 3})
            for (unsigned p = 0; p < 8; ++p) std::memset(host.ram(d, p), 0x10 * d + p, kPageSize);
    }
    std::int16_t run(gnttab_copy_t op, std::uint16_t caller = 2)
    {
        copy(host, host.gt(caller), op);
        return op.status;
    }
    // Every byte of every domain's RAM, to prove a failed copy touched nothing.
    std::vector<std::uint8_t> snapshot()
    {
        std::vector<std::uint8_t> all;
        for (std::uint16_t d : {1, 2, 3})
            for (unsigned p = 0; p < 8; ++p) all.insert(all.end(), host.ram(d, p), host.ram(d, p) + kPageSize);
        return all;
    }
};

} // namespace

TEST_F(GnttabCopyFixture, GrantToOwnFrame)
{
    std::memcpy(host.ram(1, 4) + 100, "request", 7);
    host.grant(1, 20, 2, host.gfn(4), /*readonly=*/true);
    EXPECT_EQ(run(copy_gref_to_gfn(1, 20, 100, host.gfn(6), 3000, 7)), GNTST_okay);
    EXPECT_EQ(std::memcmp(host.ram(2, 6) + 3000, "request", 7), 0);
    EXPECT_EQ(host.ram(2, 6)[2999], 0x26);
    EXPECT_EQ(host.ram(2, 6)[3007], 0x26);
    EXPECT_EQ(host.flags(1, 20), GTF_permit_access | GTF_readonly) << "no pin outlives the copy";
    EXPECT_EQ(d1.pinned_entries(), 0u);
}

TEST_F(GnttabCopyFixture, OwnFrameToGrantNeedsAWritableGrant)
{
    std::memcpy(host.ram(2, 1), "response", 8);
    host.grant(1, 21, 2, host.gfn(5), /*readonly=*/true);
    EXPECT_EQ(run(copy_gfn_to_gref(host.gfn(1), 0, 1, 21, 16, 8)), GNTST_general_error);
    EXPECT_EQ(host.ram(1, 5)[16], 0x15);
    host.grant(1, 21, 2, host.gfn(5));
    EXPECT_EQ(run(copy_gfn_to_gref(host.gfn(1), 0, 1, 21, 16, 8)), GNTST_okay);
    EXPECT_EQ(std::memcmp(host.ram(1, 5) + 16, "response", 8), 0);
    EXPECT_EQ(host.flags(1, 21), GTF_permit_access);
}

TEST_F(GnttabCopyFixture, GrantToGrantAcrossTwoGranters)
{
    // dom2 (a backend) moves bytes from dom1's grant into dom3's grant.
    host.grant(1, 30, 2, host.gfn(0), true);
    host.grant(3, 31, 2, host.gfn(7));
    gnttab_copy_t op = copy_gref_to_gfn(1, 30, 0, 0, 0, 4096);
    op.dest.u.ref = 31;
    op.dest.domid = 3;
    op.flags = GNTCOPY_source_gref | GNTCOPY_dest_gref;
    EXPECT_EQ(run(op), GNTST_okay);
    EXPECT_EQ(std::memcmp(host.ram(3, 7), host.ram(1, 0), kPageSize), 0);
}

TEST_F(GnttabCopyFixture, CopyWhileMappedKeepsTheMapping)
{
    host.grant(1, 22, 2, host.gfn(3));
    gnttab_map_grant_ref_t m = map_op(1, 22, kForeignBaseIpa);
    map_grant_ref(host, d2, m);
    ASSERT_EQ(m.status, GNTST_okay);
    EXPECT_EQ(run(copy_gfn_to_gref(host.gfn(0), 0, 1, 22, 0, 64)), GNTST_okay);
    EXPECT_EQ(d1.pins(22).write_pins, 1) << "the map's pin, and only it, remains";
    EXPECT_EQ(host.flags(1, 22), GTF_permit_access | GTF_reading | GTF_writing);
}

TEST_F(GnttabCopyFixture, SamePageOverlappingCopyIsAMove)
{
    for (unsigned i = 0; i < 16; ++i) host.ram(2, 0)[i] = static_cast<std::uint8_t>(i);
    gnttab_copy_t op = copy_gfn_to_gref(host.gfn(0), 0, DOMID_SELF, 0, 4, 12);
    op.dest.u.gmfn = host.gfn(0);
    op.flags = 0;
    EXPECT_EQ(run(op), GNTST_okay);
    for (unsigned i = 0; i < 12; ++i) EXPECT_EQ(host.ram(2, 0)[4 + i], i);
}

TEST_F(GnttabCopyFixture, StatusForEveryBadCopy)
{
    host.grant(1, 20, 2, host.gfn(4));
    host.grant(1, 23, 3, host.gfn(4));      // for dom3, not the caller
    host.grant(1, 24, 2, 0x99999);          // not RAM
    const auto before = snapshot();

    struct Case {
        const char* what;
        gnttab_copy_t op;
        std::int16_t status;
    };
    auto gfn_self = [&](std::uint64_t gfn) {
        gnttab_copy_t op = copy_gfn_to_gref(gfn, 0, DOMID_SELF, 0, 0, 8);
        op.dest.u.gmfn = host.gfn(1);
        op.flags = 0;
        return op;
    };
    gnttab_copy_t other_frame = gfn_self(host.gfn(0));
    other_frame.source.domid = 2;  // the caller's own number is not DOMID_SELF
    gnttab_copy_t foreign_frame = gfn_self(host.gfn(0));
    foreign_frame.source.domid = 1;
    gnttab_copy_t no_dest_domain = copy_gref_to_gfn(1, 20, 0, host.gfn(0), 0, 8);
    no_dest_domain.dest.domid = 44;
    no_dest_domain.flags |= GNTCOPY_dest_gref;

    const Case cases[] = {
        {"frame of another domain", foreign_frame, GNTST_permission_denied},
        {"own frame not as DOMID_SELF", other_frame, GNTST_permission_denied},
        {"no such source domain", copy_gref_to_gfn(9, 20, 0, host.gfn(0), 0, 8), GNTST_bad_domain},
        {"no such dest domain", no_dest_domain, GNTST_bad_domain},
        {"ref out of range", copy_gref_to_gfn(1, 4096, 0, host.gfn(0), 0, 8), GNTST_bad_gntref},
        {"granted to another domain", copy_gref_to_gfn(1, 23, 0, host.gfn(0), 0, 8), GNTST_general_error},
        {"invalid entry", copy_gref_to_gfn(1, 25, 0, host.gfn(0), 0, 8), GNTST_general_error},
        {"granted frame not RAM", copy_gref_to_gfn(1, 24, 0, host.gfn(0), 0, 8), GNTST_bad_page},
        {"own frame not RAM", copy_gref_to_gfn(1, 20, 0, 0x77777, 0, 8), GNTST_bad_page},
        {"own grant frame is not RAM", copy_gref_to_gfn(1, 20, 0, kGrantWindowGfn, 0, 8), GNTST_bad_page},
        {"source crosses the page", copy_gref_to_gfn(1, 20, 4000, host.gfn(0), 0, 97), GNTST_bad_copy_arg},
        {"dest crosses the page", copy_gref_to_gfn(1, 20, 0, host.gfn(0), 4095, 2), GNTST_bad_copy_arg},
        {"offset alone beyond the page", copy_gref_to_gfn(1, 20, 0xffff, host.gfn(0), 0, 0), GNTST_bad_copy_arg},
        {"length beyond any page", copy_gref_to_gfn(1, 20, 0, host.gfn(0), 0, 0xffff), GNTST_bad_copy_arg},
    };
    for (const Case& c : cases) {
        EXPECT_EQ(run(c.op), c.status) << c.what;
        EXPECT_EQ(d1.pinned_entries(), 0u) << c.what;
        EXPECT_EQ(host.flags(1, 20), GTF_permit_access) << c.what;
    }
    EXPECT_TRUE(snapshot() == before) << "no failed copy wrote a byte";

    host.denied_pairs.insert({1, 2});
    EXPECT_EQ(run(copy_gref_to_gfn(1, 20, 0, host.gfn(0), 0, 8)), GNTST_permission_denied);
    host.denied_pairs.clear();

    EXPECT_EQ(run(copy_gref_to_gfn(1, 20, 4095, host.gfn(0), 0, 1)), GNTST_okay) << "the last byte is in bounds";
    EXPECT_EQ(run(copy_gref_to_gfn(1, 20, 4096, host.gfn(0), 0, 0)), GNTST_okay) << "an empty copy at the end";
}

TEST_F(GnttabCopyFixture, RevokedGrantCannotBeCopied)
{
    host.grant(1, 20, 2, host.gfn(4));
    ASSERT_TRUE(host.end_access(1, 20));
    EXPECT_EQ(run(copy_gref_to_gfn(1, 20, 0, host.gfn(0), 0, 8)), GNTST_general_error);
}

TEST_F(GnttabCopyFixture, SubPageFlagBarsMappingButNotCopy)
{
    // Xen checks GTF_sub_page only when mapping (_set_status_v1's mapflag).
    host.grant(1, 20, 2, host.gfn(4));
    host.entry(1, 20)->flags |= GTF_sub_page;
    EXPECT_EQ(run(copy_gref_to_gfn(1, 20, 0, host.gfn(0), 0, 8)), GNTST_okay);
    gnttab_map_grant_ref_t m = map_op(1, 20, kForeignBaseIpa);
    map_grant_ref(host, d2, m);
    EXPECT_EQ(m.status, GNTST_general_error);
}
