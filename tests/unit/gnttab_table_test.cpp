// The table itself: creation, frames mapped into the guest, setup_table,
// query_size and the version operations, as Xen 4.17 answers them on arm.
#include "gnttab_test_support.hpp"

using namespace keel;
using namespace keel::gnttab;
using namespace keel::gnttab::test;

TEST(GnttabTable, NewTableHasOneFrameOfSixtyFour)
{
    FakeHost host;
    GrantDomain& d1 = host.add_domain(1);
    EXPECT_EQ(d1.nr_frames(), 1u);
    EXPECT_EQ(d1.max_frames(), 64u);
    EXPECT_EQ(d1.state(), GrantDomain::State::Live);

    gnttab_query_size_t q{};
    q.dom = DOMID_SELF;
    query_size(host, d1, q);
    EXPECT_EQ(q.status, GNTST_okay);
    EXPECT_EQ(q.nr_frames, 1u);
    EXPECT_EQ(q.max_nr_frames, 64u);
}

TEST(GnttabTable, ActivateChecksLimitsAndSlot)
{
    FakeHost host;
    GrantDomain d;
    EXPECT_EQ(d.activate(host, DomainId(3), 0).error(), Errno::XEN_EINVAL);
    EXPECT_EQ(d.activate(host, DomainId(3), kMaxGrantFrames + 1).error(), Errno::XEN_EINVAL);
    host.fail_allocs_after(1);  // part-way through the first frame's pages
    EXPECT_EQ(d.activate(host, DomainId(3)).error(), Errno::XEN_ENOMEM);
    EXPECT_EQ(host.live_pages(), 0u) << "a failed activation keeps nothing";
    host.fail_allocs_after(-1);
    ASSERT_TRUE(d.activate(host, DomainId(3), 4).ok());
    EXPECT_EQ(d.activate(host, DomainId(3)).error(), Errno::XEN_EBUSY);
    EXPECT_EQ(d.max_frames(), 4u);
}

TEST(GnttabTable, MapFrameGrowsTheTableAndTracksWhereFramesAre)
{
    FakeHost host;
    GrantDomain& d1 = host.add_domain(1);
    // Linux maps frames one by one into the grant window; idx 3 grows to 4 frames.
    Result<HostPage> p3 = d1.map_frame(host, 3, kGrantWindowGfn + 3);
    ASSERT_TRUE(p3.ok());
    EXPECT_EQ(d1.nr_frames(), 4u);
    EXPECT_TRUE(p3->pa.aligned(kPageSize));

    // Already mapped: Xen 4.17 wants it removed first (EBUSY), and two frames never share a gfn.
    EXPECT_EQ(d1.map_frame(host, 3, kGrantWindowGfn + 9).error(), Errno::XEN_EBUSY);
    EXPECT_EQ(d1.map_frame(host, 2, kGrantWindowGfn + 3).error(), Errno::XEN_EBUSY);
    EXPECT_EQ(d1.map_frame(host, 64, kGrantWindowGfn + 64).error(), Errno::XEN_EINVAL);
    EXPECT_EQ(d1.map_frame(host, 2, kInvalidGfn).error(), Errno::XEN_EINVAL);

    EXPECT_TRUE(d1.unmap_frame_gfn(kGrantWindowGfn + 3));
    EXPECT_FALSE(d1.unmap_frame_gfn(kGrantWindowGfn + 3));
    Result<HostPage> again = d1.map_frame(host, 3, kGrantWindowGfn + 100);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->ptr, p3->ptr) << "the same frame, moved";
}

TEST(GnttabTable, MapFrameBeyondMemoryIsEinvalAndChangesNothing)
{
    FakeHost host;
    GrantDomain& d1 = host.add_domain(1);
    const std::size_t before = host.live_pages();
    host.fail_allocs_after(3);
    EXPECT_EQ(d1.map_frame(host, 10, kGrantWindowGfn + 10).error(), Errno::XEN_EINVAL);
    EXPECT_EQ(d1.nr_frames(), 1u);
    EXPECT_EQ(host.live_pages(), before);
}

TEST(GnttabTable, SetupTableReportsFrameGfns)
{
    FakeHost host;
    GrantDomain& d1 = host.add_domain(1);
    gnttab_setup_table_t op{};
    op.dom = DOMID_SELF;
    op.nr_frames = 3;
    FrameList frames{};
    setup_table(host, d1, op, frames);
    EXPECT_EQ(op.status, GNTST_okay);
    EXPECT_EQ(d1.nr_frames(), 3u);
    EXPECT_EQ(frames[0], kGrantWindowGfn);  // mapped by add_domain
    EXPECT_EQ(frames[1], kInvalidGfn);      // not placed in the physmap (yet)
    EXPECT_EQ(frames[2], kInvalidGfn);

    op.nr_frames = 65;
    setup_table(host, d1, op, frames);
    EXPECT_EQ(op.status, GNTST_general_error);

    op.nr_frames = 0;  // allowed; changes nothing
    setup_table(host, d1, op, frames);
    EXPECT_EQ(op.status, GNTST_okay);
    EXPECT_EQ(d1.nr_frames(), 3u) << "tables never shrink";

    host.fail_allocs_after(0);
    op.nr_frames = 8;
    setup_table(host, d1, op, frames);
    EXPECT_EQ(op.status, GNTST_general_error);
    EXPECT_EQ(d1.nr_frames(), 3u);
}

TEST(GnttabTable, OtherDomainsTablesNeedControl)
{
    FakeHost host;
    GrantDomain& d0 = host.add_domain(0);
    GrantDomain& d1 = host.add_domain(1);
    host.add_domain(2);
    FrameList frames{};

    gnttab_setup_table_t op{};
    op.dom = 2;
    op.nr_frames = 1;
    setup_table(host, d1, op, frames);
    EXPECT_EQ(op.status, GNTST_permission_denied);
    setup_table(host, d0, op, frames);
    EXPECT_EQ(op.status, GNTST_okay) << "dom0 may";
    op.dom = 1;  // one's own number is as good as DOMID_SELF
    setup_table(host, d1, op, frames);
    EXPECT_EQ(op.status, GNTST_okay);
    op.dom = 7;
    setup_table(host, d0, op, frames);
    EXPECT_EQ(op.status, GNTST_bad_domain);

    gnttab_query_size_t q{};
    q.dom = 2;
    query_size(host, d1, q);
    EXPECT_EQ(q.status, GNTST_permission_denied);
    q.dom = 0x7ff5;  // DOMID_IDLE: no such domain here
    query_size(host, d0, q);
    EXPECT_EQ(q.status, GNTST_bad_domain);
}

TEST(GnttabTable, VersionOneIsTheOnlyVersion)
{
    FakeHost host;
    GrantDomain& d0 = host.add_domain(0);
    GrantDomain& d1 = host.add_domain(1);
    host.add_domain(2);

    gnttab_set_version_t sv{1};
    EXPECT_TRUE(set_version(d1, sv).ok());
    EXPECT_EQ(sv.version, 1u);
    sv.version = 2;
    EXPECT_EQ(set_version(d1, sv).error(), Errno::XEN_ENOSYS);
    EXPECT_EQ(sv.version, 1u) << "the version in force is written back";
    for (std::uint32_t v : {0u, 3u, 0xffffffffu}) {
        sv.version = v;
        EXPECT_EQ(set_version(d1, sv).error(), Errno::XEN_EINVAL) << v;
        EXPECT_EQ(sv.version, 1u);
    }

    gnttab_get_version_t gv{};
    gv.dom = DOMID_SELF;
    EXPECT_TRUE(get_version(host, d1, gv).ok());
    EXPECT_EQ(gv.version, 1u);
    gv.dom = 2;
    EXPECT_EQ(get_version(host, d1, gv).error(), Errno::XEN_EPERM);
    EXPECT_TRUE(get_version(host, d0, gv).ok());
    gv.dom = 9;
    EXPECT_EQ(get_version(host, d0, gv).error(), Errno::XEN_ESRCH);
}

TEST(GnttabTable, DestroyGivesEveryPageBack)
{
    FakeHost host;
    host.add_domain(1);
    host.add_domain(2);
    host.map_frame(1, 5);
    host.grant(1, 10, 2, host.gfn(0));
    gnttab_map_grant_ref_t m = map_op(1, 10, kForeignBaseIpa);
    map_grant_ref(host, host.gt(2), m);
    ASSERT_EQ(m.status, GNTST_okay);

    EXPECT_EQ(host.gt(1).destroy(host).error(), Errno::XEN_EINVAL) << "only a dying table";
    host.kill(2);
    host.kill(1);
    EXPECT_EQ(host.gt(1).state(), GrantDomain::State::Unused);
    EXPECT_EQ(host.gt(2).state(), GrantDomain::State::Unused);
    EXPECT_EQ(host.live_pages(), 0u);
}
