// The SDK's grant tables against Keel's grant-table core, through the fake
// hypervisor: table set-up, grant lifetime with busy revokes deferred and
// completed, foreign mappings, batched copies, hostile inputs.
#include "sdk_test_support.hpp"

#include <cstring>

using namespace keel;
using namespace keel::guest;
using namespace keel::sdk_test;

namespace {

struct SdkGrantsFixture : ::testing::Test {
    SdkGrantsFixture()
    {
        hv.add_domain({.id = 1});
        hv.add_domain({.id = 2});
        a = std::make_unique<SdkGuest>(hv, 1);
        b = std::make_unique<SdkGuest>(hv, 2);
        EXPECT_TRUE(a->setup_grants(1).ok());
        EXPECT_TRUE(b->setup_grants(1).ok());
    }
    // A page of A's RAM, filled so tests can tell it apart.
    GuestFrame a_page(unsigned i, char fill)
    {
        GuestFrame f = hv.ram_frame(1, i);
        std::memset(f.va, fill, 4096);
        return f;
    }
    FakeHypervisor hv;
    std::unique_ptr<SdkGuest> a, b;
};

using SdkGrantTable = SdkGrantsFixture;
using SdkGrant = SdkGrantsFixture;
using SdkForeignMapping = SdkGrantsFixture;
using SdkGrantCopy = SdkGrantsFixture;

struct Released {
    std::vector<std::uint64_t> frames;
    static void on(void* c, Gfn f) { static_cast<Released*>(c)->frames.push_back(f.raw()); }
    FrameReleased hook() { return {&Released::on, this}; }
};

} // namespace

// --- set-up ---

TEST_F(SdkGrantTable, SetupPlacesFramesAndFreesAllButReservedRefs)
{
    EXPECT_EQ(a->grants.frames(), 1u);
    EXPECT_EQ(a->grants.capacity(), 512u - GNTTAB_NR_RESERVED_ENTRIES);
    EXPECT_EQ(a->grants.available(), a->grants.capacity());
    EXPECT_TRUE(hv.mapped(1, hv.hole_frame(1, kGrantHoles).gfn.raw()));
    FakeHypervisor::As as(hv, 1);
    EXPECT_EQ(err(a->grants.setup(std::span<const GuestFrame>(), a->grant_slots)), Errno::XEN_EINVAL);
    const GuestFrame f[1] = {hv.hole_frame(1, kGrantHoles + 3)};
    EXPECT_EQ(err(a->grants.setup(f, a->grant_slots)), Errno::XEN_EINVAL) << "only once";
}

TEST_F(SdkGrantTable, SetupStopsAtTheHypervisorsLimit)
{
    hv.add_domain({.id = 3, .max_grant_frames = 2});
    SdkGuest c(hv, 3);
    ASSERT_TRUE(c.setup_grants(5, 4096).ok());
    EXPECT_EQ(c.grants.frames(), 2u);
    EXPECT_EQ(c.grants.capacity(), 2 * 512u - GNTTAB_NR_RESERVED_ENTRIES);
    EXPECT_EQ(hv.grant_domain(3).nr_frames(), 2u);
}

TEST_F(SdkGrantTable, FewerSlotsThanEntriesLimitTheRefs)
{
    hv.add_domain({.id = 3});
    SdkGuest c(hv, 3);
    ASSERT_TRUE(c.setup_grants(1, 10).ok());
    EXPECT_EQ(c.grants.capacity(), 2u);
    FakeHypervisor::As as(hv, 3);
    auto r1 = c.grants.grant_access(DomainId(1), hv.ram_frame(3, 0).gfn, Access::ReadWrite);
    auto r2 = c.grants.grant_access(DomainId(1), hv.ram_frame(3, 1).gfn, Access::ReadWrite);
    ASSERT_TRUE(r1.ok() && r2.ok());
    EXPECT_EQ(r1->raw(), 8u) << "the first unreserved ref";
    EXPECT_EQ(r2->raw(), 9u);
    EXPECT_EQ(err(c.grants.grant_access(DomainId(1), hv.ram_frame(3, 2).gfn, Access::ReadWrite)), Errno::XEN_ENOSPC);
}

TEST_F(SdkGrantTable, BadArguments)
{
    GrantTable unset;
    EXPECT_EQ(err(unset.grant_access(DomainId(2), Gfn(1), Access::ReadOnly)), Errno::XEN_EINVAL);
    FakeHypervisor::As as(hv, 1);
    EXPECT_EQ(err(a->grants.grant_access(DomainId(2), Gfn(1ull << 32), Access::ReadOnly)), Errno::XEN_E2BIG);
    EXPECT_EQ(err(a->grants.end_access(GrantRef(100))), Errno::XEN_EINVAL) << "not granted";
    EXPECT_EQ(err(a->grants.end_access(GrantRef(3))), Errno::XEN_EINVAL) << "reserved";
    EXPECT_EQ(err(a->grants.end_access(GrantRef(99999))), Errno::XEN_EINVAL);
}

// --- grant lifetime ---

TEST_F(SdkGrant, GrantMapEndWhileMappedIsBusyThenEnds)
{
    const GuestFrame page = a_page(0, 'a');
    Held<Grant> grant{hv, 1};
    {
        FakeHypervisor::As as(hv, 1);
        auto g = Grant::create(a->grants, DomainId(2), page.gfn, Access::ReadWrite);
        ASSERT_TRUE(g.ok()) << errno_name(g.error());
        *grant = std::move(*g);
        EXPECT_EQ(*a->grants.flags(grant->ref()), GTF_permit_access);
    }
    Held<ForeignMapping> map{hv, 2};
    {
        FakeHypervisor::As as(hv, 2);
        auto m = ForeignMapping::map(DomainId(1), grant->ref(), hv.hole_frame(2, kMappingHoles), Access::ReadWrite);
        ASSERT_TRUE(m.ok()) << errno_name(m.error());
        *map = std::move(*m);
        // B sees A's page, and A sees B's writes: one page.
        EXPECT_EQ(static_cast<char*>(map->data())[100], 'a');
        static_cast<char*>(map->data())[100] = 'b';
    }
    EXPECT_EQ(static_cast<char*>(page.va)[100], 'b');
    {
        FakeHypervisor::As as(hv, 1);
        EXPECT_EQ(*a->grants.flags(grant->ref()), GTF_permit_access | GTF_reading | GTF_writing);
        EXPECT_EQ(err(grant->end()), Errno::XEN_EBUSY) << "the peer still maps it";
        EXPECT_TRUE(grant->valid()) << "still in force, still ours";
    }
    {
        FakeHypervisor::As as(hv, 2);
        ASSERT_TRUE(map->unmap().ok());
        EXPECT_FALSE(hv.mapped(2, hv.hole_frame(2, kMappingHoles).gfn.raw()));
    }
    FakeHypervisor::As as(hv, 1);
    const unsigned free_before = a->grants.available();
    const GrantRef ref = grant->ref();
    EXPECT_TRUE(grant->end().ok());
    EXPECT_FALSE(grant->valid());
    EXPECT_EQ(a->grants.available(), free_before + 1);
    EXPECT_EQ(*a->grants.flags(ref), 0);
    EXPECT_EQ(err(grant->end()), Errno::XEN_EINVAL);
}

TEST_F(SdkGrant, BusyRevokeIsDeferredThenCompletedAfterThePeerUnmaps)
{
    const GuestFrame page = a_page(1, 'x');
    Released released;
    GrantRef ref;
    Held<ForeignMapping> map{hv, 2};
    {
        FakeHypervisor::As as(hv, 1);
        auto g = Grant::create(a->grants, DomainId(2), page.gfn, Access::ReadOnly, released.hook());
        ASSERT_TRUE(g.ok());
        ref = g->ref();
        {
            FakeHypervisor::As as_b(hv, 2);
            auto m = ForeignMapping::map(DomainId(1), ref, hv.hole_frame(2, kMappingHoles), Access::ReadOnly);
            ASSERT_TRUE(m.ok());
            *map = std::move(*m);
        }
        // The Grant goes out of scope while B still maps the page.
    }
    FakeHypervisor::As as(hv, 1);
    EXPECT_EQ(a->grants.pending_revokes(), 1u);
    EXPECT_EQ(*a->grants.flags(ref), GTF_permit_access | GTF_readonly | GTF_reading) << "not silently dropped";
    EXPECT_EQ(a->grants.reclaim(), 0u) << "still mapped";
    EXPECT_TRUE(released.frames.empty()) << "the frame is not ours again yet";
    EXPECT_EQ(static_cast<const char*>(map->data())[7], 'x') << "and the peer still reads it";
    {
        FakeHypervisor::As as_b(hv, 2);
        ASSERT_TRUE(map->unmap().ok());
    }
    const unsigned free_before = a->grants.available();
    EXPECT_EQ(a->grants.reclaim(), 1u);
    EXPECT_EQ(released.frames, std::vector<std::uint64_t>{page.gfn.raw()});
    EXPECT_EQ(a->grants.pending_revokes(), 0u);
    EXPECT_EQ(a->grants.available(), free_before + 1);
    EXPECT_EQ(*a->grants.flags(ref), 0);
    EXPECT_EQ(a->grants.reclaim(), 0u);
}

TEST_F(SdkGrant, RunningOutOfRefsRetriesDeferredRevokes)
{
    hv.add_domain({.id = 3});
    SdkGuest c(hv, 3);
    ASSERT_TRUE(c.setup_grants(1, 10).ok());  // two usable refs
    Held<ForeignMapping> m1{hv, 2}, m2{hv, 2};
    {
        FakeHypervisor::As as(hv, 3);
        for (int i = 0; i < 2; ++i) {
            auto g = Grant::create(c.grants, DomainId(2), hv.ram_frame(3, i).gfn, Access::ReadWrite);
            ASSERT_TRUE(g.ok());
            FakeHypervisor::As as_b(hv, 2);
            auto m = ForeignMapping::map(DomainId(3), g->ref(), hv.hole_frame(2, kMappingHoles + i), Access::ReadWrite);
            ASSERT_TRUE(m.ok());
            *(i == 0 ? m1 : m2) = std::move(*m);
        }
    }
    FakeHypervisor::As as(hv, 3);
    EXPECT_EQ(c.grants.pending_revokes(), 2u);
    EXPECT_EQ(err(c.grants.grant_access(DomainId(2), hv.ram_frame(3, 5).gfn, Access::ReadOnly)), Errno::XEN_ENOSPC);
    {
        FakeHypervisor::As as_b(hv, 2);
        ASSERT_TRUE(m2->unmap().ok());
    }
    auto ref = c.grants.grant_access(DomainId(2), hv.ram_frame(3, 5).gfn, Access::ReadOnly);
    ASSERT_TRUE(ref.ok()) << "the revoke retried and freed a ref";
    EXPECT_EQ(c.grants.pending_revokes(), 1u);
    EXPECT_TRUE(c.grants.end_access(*ref).ok());
}

TEST_F(SdkGrant, MoveTransfersTheGrant)
{
    FakeHypervisor::As as(hv, 1);
    auto g = Grant::create(a->grants, DomainId(2), hv.ram_frame(1, 0).gfn, Access::ReadOnly);
    ASSERT_TRUE(g.ok());
    const GrantRef ref = g->ref();
    const unsigned free_before = a->grants.available();
    {
        Grant moved(std::move(*g));
        EXPECT_FALSE(g->valid());
        EXPECT_EQ(moved.ref(), ref);
        EXPECT_EQ(moved.peer(), DomainId(2));
    }
    EXPECT_EQ(a->grants.available(), free_before + 1) << "ended once, by the new owner";
    EXPECT_EQ(*a->grants.flags(ref), 0);
}

// --- foreign mappings ---

TEST_F(SdkForeignMapping, ReadOnlyGrantMapsReadOnlyOnly)
{
    const GuestFrame page = a_page(2, 'r');
    Held<Grant> grant{hv, 1};
    {
        FakeHypervisor::As as(hv, 1);
        auto g = Grant::create(a->grants, DomainId(2), page.gfn, Access::ReadOnly);
        ASSERT_TRUE(g.ok());
        *grant = std::move(*g);
    }
    FakeHypervisor::As as(hv, 2);
    const GuestFrame hole = hv.hole_frame(2, kMappingHoles);
    EXPECT_EQ(err(ForeignMapping::map(DomainId(1), grant->ref(), hole, Access::ReadWrite)), Errno::XEN_EIO)
        << "GNTST_general_error: the grant is read-only";
    {
        auto m = ForeignMapping::map(DomainId(1), grant->ref(), hole, Access::ReadOnly);
        ASSERT_TRUE(m.ok());
        bool writable = true;
        EXPECT_TRUE(hv.mapped(2, hole.gfn.raw(), &writable));
        EXPECT_FALSE(writable);
        EXPECT_EQ(static_cast<const char*>(m->data())[0], 'r');
        ForeignMapping moved(std::move(*m));
        EXPECT_FALSE(m->valid());
        EXPECT_EQ(err(m->unmap()), Errno::XEN_EINVAL);
        EXPECT_TRUE(moved.valid());
    }
    EXPECT_FALSE(hv.mapped(2, hole.gfn.raw())) << "unmapped once, by the new owner";
}

TEST_F(SdkForeignMapping, HostileInputsGiveXensStatus)
{
    const GuestFrame page = a_page(3, 'h');
    Held<Grant> to_b{hv, 1};
    {
        FakeHypervisor::As as(hv, 1);
        auto g = Grant::create(a->grants, DomainId(2), page.gfn, Access::ReadWrite);
        ASSERT_TRUE(g.ok());
        *to_b = std::move(*g);
    }
    hv.add_domain({.id = 3});
    FakeHypervisor::As as(hv, 2);
    const GuestFrame hole = hv.hole_frame(2, kMappingHoles);
    EXPECT_EQ(err(ForeignMapping::map(DomainId(1), GrantRef(100000), hole, Access::ReadOnly)), Errno::XEN_EINVAL)
        << "GNTST_bad_gntref";
    EXPECT_EQ(err(ForeignMapping::map(DomainId(9), to_b->ref(), hole, Access::ReadOnly)), Errno::XEN_ESRCH)
        << "GNTST_bad_domain";
    EXPECT_EQ(err(ForeignMapping::map(DomainId(1), GrantRef(to_b->ref().raw() + 1), hole, Access::ReadOnly)),
              Errno::XEN_EIO)
        << "not granted";
    EXPECT_EQ(err(ForeignMapping::map(DomainId(1), to_b->ref(), hv.ram_frame(2, 0), Access::ReadOnly)),
              Errno::XEN_EIO)
        << "onto our own RAM, not a hole";
    EXPECT_EQ(err(ForeignMapping::map(DomainId(1), to_b->ref(), GuestFrame{hole.gfn, nullptr}, Access::ReadOnly)),
              Errno::XEN_EINVAL);
    {
        FakeHypervisor::As as_c(hv, 3);
        EXPECT_EQ(err(ForeignMapping::map(DomainId(1), to_b->ref(), hv.hole_frame(3, kMappingHoles),
                                          Access::ReadOnly)),
                  Errno::XEN_EIO)
            << "granted to B, not to C";
    }
    EXPECT_EQ(hv.grant_domain(1).pinned_entries(), 0u) << "no failed map left a pin behind";
}

// --- copy ---

TEST_F(SdkGrantCopy, ABatchWithOneBadOpRunsTheOthers)
{
    const GuestFrame src = a_page(4, 's');
    const GuestFrame dst = a_page(5, 'd');
    Held<Grant> gs{hv, 1}, gd{hv, 1};
    {
        FakeHypervisor::As as(hv, 1);
        std::strcpy(static_cast<char*>(src.va) + 10, "from A");
        auto g1 = Grant::create(a->grants, DomainId(2), src.gfn, Access::ReadOnly);
        auto g2 = Grant::create(a->grants, DomainId(2), dst.gfn, Access::ReadWrite);
        ASSERT_TRUE(g1.ok() && g2.ok());
        *gs = std::move(*g1);
        *gd = std::move(*g2);
    }
    FakeHypervisor::As as(hv, 2);
    const GuestFrame mine = hv.ram_frame(2, 3);
    std::memset(mine.va, 0, 4096);
    std::strcpy(static_cast<char*>(mine.va) + 200, "from B");
    GrantCopy ops[] = {
        GrantCopy::from_grant(DomainId(1), gs->ref(), 10, mine.gfn, 0, 7),
        GrantCopy::from_grant(DomainId(1), GrantRef(100000), 0, mine.gfn, 100, 4),  // bad ref
        GrantCopy::to_grant(mine.gfn, 200, DomainId(1), gd->ref(), 50, 7),
        GrantCopy::to_grant(mine.gfn, 200, DomainId(1), gs->ref(), 50, 7),           // read-only grant
        GrantCopy::from_grant(DomainId(1), gs->ref(), 4000, mine.gfn, 0, 200),        // crosses the page
    };
    ASSERT_TRUE(grant_copy(ops).ok());
    EXPECT_TRUE(ops[0].result().ok());
    EXPECT_EQ(err(ops[1].result()), Errno::XEN_EINVAL);
    EXPECT_EQ(ops[1].status(), GNTST_bad_gntref);
    EXPECT_TRUE(ops[2].result().ok());
    EXPECT_EQ(err(ops[3].result()), Errno::XEN_EIO);
    EXPECT_EQ(err(ops[4].result()), Errno::XEN_ERANGE) << "GNTST_bad_copy_arg";
    EXPECT_STREQ(static_cast<const char*>(mine.va), "from A");
    EXPECT_STREQ(static_cast<const char*>(dst.va) + 50, "from B");
    EXPECT_EQ(static_cast<const char*>(dst.va)[49], 'd');
    EXPECT_EQ(hv.grant_domain(1).pinned_entries(), 0u) << "copies leave no pins";
}

TEST_F(SdkGrantCopy, LongBatchesAreContinuedByTheHypervisor)
{
    const GuestFrame src = a_page(6, 0);
    for (int i = 0; i < 256; ++i) static_cast<unsigned char*>(src.va)[i] = static_cast<unsigned char>(i);
    Held<Grant> gs{hv, 1};
    {
        FakeHypervisor::As as(hv, 1);
        auto g = Grant::create(a->grants, DomainId(2), src.gfn, Access::ReadOnly);
        ASSERT_TRUE(g.ok());
        *gs = std::move(*g);
    }
    FakeHypervisor::As as(hv, 2);
    const GuestFrame mine = hv.ram_frame(2, 4);
    std::vector<GrantCopy> ops;
    for (std::uint16_t i = 0; i < 300; ++i)  // beyond Keel's 128 records per entry
        ops.push_back(GrantCopy::from_grant(DomainId(1), gs->ref(), i % 256, mine.gfn, i, 1));
    ASSERT_TRUE(grant_copy(ops).ok());
    for (std::uint16_t i = 0; i < 300; ++i) {
        ASSERT_TRUE(ops[i].result().ok()) << i;
        ASSERT_EQ(static_cast<unsigned char*>(mine.va)[i], i % 256);
    }
}

TEST_F(SdkGrantCopy, AnOpNeverRunSaysSo)
{
    FakeHypervisor::As as(hv, 2);
    GrantCopy op = GrantCopy::from_grant(DomainId(1), GrantRef(8), 0, hv.ram_frame(2, 0).gfn, 0, 1);
    EXPECT_EQ(err(op.result()), Errno::XEN_ENODATA);
    EXPECT_TRUE(grant_copy(std::span<GrantCopy>()).ok());
}
