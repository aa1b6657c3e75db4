// HYPERVISOR_grant_table_op at the ABI: argument checks, records read from and
// written back to guest memory field by field as Xen does, EFAULT, and
// continuation of long batches.
#include "gnttab/hypercall.hpp"

#include "gnttab_test_support.hpp"

using namespace keel;
using namespace keel::gnttab;
using namespace keel::gnttab::test;

namespace {

// A window of guest memory at a guest address; anything outside it faults.
class FakeGuestBuffer final : public GuestBuffer {
public:
    static constexpr std::uint64_t kBase = 0xffff000012340000;
    bool read(std::uint64_t a, void* dst, std::size_t n) override
    {
        if (!inside(a, n)) return false;
        std::memcpy(dst, bytes.data() + (a - kBase), n);
        return true;
    }
    bool write(std::uint64_t a, const void* src, std::size_t n) override
    {
        if (!inside(a, n)) return false;
        std::memcpy(bytes.data() + (a - kBase), src, n);
        ++writes;
        return true;
    }
    template <typename T>
    void put(std::uint64_t a, const T& v) { std::memcpy(bytes.data() + (a - kBase), &v, sizeof v); }
    template <typename T>
    T get(std::uint64_t a) const
    {
        T v;
        std::memcpy(&v, bytes.data() + (a - kBase), sizeof v);
        return v;
    }
    std::vector<std::uint8_t> bytes = std::vector<std::uint8_t>(2 * kPageSize);
    unsigned writes = 0;

private:
    bool inside(std::uint64_t a, std::size_t n) const { return a >= kBase && a - kBase + n <= bytes.size() && a + n >= a; }
};

struct GnttabHypercallFixture : ::testing::Test {
    FakeHost host;
    GrantDomain& d1 = host.add_domain(1);
    GrantDomain& d2 = host.add_domain(2);
    FakeGuestBuffer mem;
    Continuation cont;
    static constexpr std::uint64_t kUop = FakeGuestBuffer::kBase;

    long op(std::uint32_t cmd, std::uint32_t count, std::uint16_t caller = 2, unsigned budget = kRecordsPerCall,
            std::uint64_t uop = kUop)
    {
        return grant_table_op(host, host.gt(caller), mem, cmd, uop, count, cont, budget);
    }
};

constexpr long kEinval = -static_cast<long>(Errno::XEN_EINVAL);
constexpr long kEfault = -static_cast<long>(Errno::XEN_EFAULT);
constexpr long kEnosys = -static_cast<long>(Errno::XEN_ENOSYS);

} // namespace

TEST_F(GnttabHypercallFixture, ArgumentChecks)
{
    EXPECT_EQ(op(GNTTABOP_map_grant_ref, 0x80000000u), kEinval) << "negative count";
    EXPECT_EQ(op(GNTTABOP_map_grant_ref | (1u << 12), 1), kEinval) << "continuation bits on a plain command";
    EXPECT_EQ(op(GNTTABOP_map_grant_ref, 0), 0) << "nothing to do";
    EXPECT_EQ(op(GNTTABOP_dump_table, 1), kEnosys);
    EXPECT_EQ(op(GNTTABOP_cache_flush, 1), kEnosys);
    EXPECT_EQ(op(13, 1), kEnosys);
    EXPECT_EQ(op(GNTTABOP_setup_table, 2), kEinval);
    EXPECT_EQ(op(GNTTABOP_setup_table, 0), kEinval);
    EXPECT_EQ(op(GNTTABOP_query_size, 2), kEinval);
    EXPECT_EQ(op(GNTTABOP_get_status_frames, 0), kEinval);
    EXPECT_EQ(op(GNTTABOP_query_size, 1, 2, kRecordsPerCall, 0x1000), kEfault) << "uop outside guest memory";
    EXPECT_FALSE(cont.needed);
}

TEST_F(GnttabHypercallFixture, MapBatchWritesEveryRecordBack)
{
    host.grant(1, 8, 2, host.gfn(0));
    host.grant(1, 9, 2, host.gfn(1));
    mem.put(kUop, map_op(1, 8, kForeignBaseIpa));
    mem.put(kUop + 32, map_op(1, 77, kForeignBaseIpa + kPageSize));
    mem.put(kUop + 64, map_op(1, 9, kForeignBaseIpa + 2 * kPageSize, true));
    ASSERT_EQ(op(GNTTABOP_map_grant_ref, 3), 0);
    const auto a = mem.get<gnttab_map_grant_ref_t>(kUop);
    const auto b = mem.get<gnttab_map_grant_ref_t>(kUop + 32);
    const auto c = mem.get<gnttab_map_grant_ref_t>(kUop + 64);
    EXPECT_EQ(a.status, GNTST_okay);
    EXPECT_EQ(a.dev_bus_addr, reinterpret_cast<std::uint64_t>(host.ram(1, 0)));
    EXPECT_EQ(b.status, GNTST_general_error) << "one bad record does not stop the batch";
    EXPECT_EQ(c.status, GNTST_okay);
    EXPECT_NE(a.handle, c.handle);

    // Unmap writes back only the status.
    mem.put(kUop, unmap_op(a.handle, kForeignBaseIpa));
    mem.put(kUop + 24, unmap_op(c.handle, kForeignBaseIpa + 2 * kPageSize));
    ASSERT_EQ(op(GNTTABOP_unmap_grant_ref, 2), 0);
    EXPECT_EQ(mem.get<gnttab_unmap_grant_ref_t>(kUop).status, GNTST_okay);
    EXPECT_EQ(mem.get<gnttab_unmap_grant_ref_t>(kUop + 24).status, GNTST_okay);
    EXPECT_EQ(d1.pinned_entries(), 0u);
}

TEST_F(GnttabHypercallFixture, FaultStopsTheBatchWhereItIs)
{
    host.grant(1, 8, 2, host.gfn(0));
    // The second record would straddle the end of guest memory.
    const std::uint64_t first = kUop + mem.bytes.size() - 32 - 16;
    mem.put(first, map_op(1, 8, kForeignBaseIpa));
    EXPECT_EQ(op(GNTTABOP_map_grant_ref, 2, 2, kRecordsPerCall, first), kEfault);
    EXPECT_EQ(mem.get<gnttab_map_grant_ref_t>(first).status, GNTST_okay) << "the first record was done";
    EXPECT_EQ(d1.pins(8).write_pins, 1);
}

TEST_F(GnttabHypercallFixture, LongBatchesContinue)
{
    std::memcpy(host.ram(1, 0), "0123456789", 10);
    host.grant(1, 8, 2, host.gfn(0), true);
    for (unsigned i = 0; i < 5; ++i) mem.put(kUop + i * 40, copy_gref_to_gfn(1, 8, i, host.gfn(i), 0, 1));
    ASSERT_EQ(op(GNTTABOP_copy, 5, 2, /*budget=*/2), 0);
    ASSERT_TRUE(cont.needed);
    EXPECT_EQ(cont.uop, kUop + 2 * 40);
    EXPECT_EQ(cont.count, 3u);
    EXPECT_EQ(mem.get<gnttab_copy_t>(kUop + 80).status, 99) << "not reached yet";
    // The guest's HVC runs again with the continuation's arguments.
    const Continuation again = cont;
    ASSERT_EQ(op(GNTTABOP_copy, again.count, 2, 2, again.uop), 0);
    ASSERT_TRUE(cont.needed);
    ASSERT_EQ(op(GNTTABOP_copy, cont.count, 2, 2, cont.uop), 0);
    EXPECT_FALSE(cont.needed);
    for (unsigned i = 0; i < 5; ++i) {
        EXPECT_EQ(mem.get<gnttab_copy_t>(kUop + i * 40).status, GNTST_okay) << i;
        EXPECT_EQ(host.ram(2, i)[0], '0' + i);
    }
}

TEST_F(GnttabHypercallFixture, SetupTableWritesTheFrameList)
{
    const std::uint64_t list = kUop + 256;
    gnttab_setup_table_t st{};
    st.dom = DOMID_SELF;
    st.nr_frames = 2;
    set_xen_guest_handle(st.frame_list, reinterpret_cast<xen_pfn_t*>(list));
    mem.put(kUop, st);
    ASSERT_EQ(op(GNTTABOP_setup_table, 1), 0);
    EXPECT_EQ(mem.get<gnttab_setup_table_t>(kUop).status, GNTST_okay);
    EXPECT_EQ(mem.get<std::uint64_t>(list), kGrantWindowGfn);
    EXPECT_EQ(mem.get<std::uint64_t>(list + 8), kInvalidGfn);

    set_xen_guest_handle(st.frame_list, reinterpret_cast<xen_pfn_t*>(0x10));
    mem.put(kUop, st);
    ASSERT_EQ(op(GNTTABOP_setup_table, 1), 0);
    EXPECT_EQ(mem.get<gnttab_setup_table_t>(kUop).status, GNTST_bad_virt_addr);
}

TEST_F(GnttabHypercallFixture, QuerySizeAndVersions)
{
    gnttab_query_size_t q{};
    q.dom = DOMID_SELF;
    mem.put(kUop, q);
    ASSERT_EQ(op(GNTTABOP_query_size, 1), 0);
    EXPECT_EQ(mem.get<gnttab_query_size_t>(kUop).nr_frames, 1u);
    EXPECT_EQ(mem.get<gnttab_query_size_t>(kUop).max_nr_frames, kMaxGrantFrames);

    mem.put(kUop, gnttab_set_version_t{2});
    EXPECT_EQ(op(GNTTABOP_set_version, 1), kEnosys);
    EXPECT_EQ(mem.get<gnttab_set_version_t>(kUop).version, 1u);
    mem.put(kUop, gnttab_set_version_t{1});
    EXPECT_EQ(op(GNTTABOP_set_version, 0), 0) << "count is not looked at";

    gnttab_get_version_t gv{};
    gv.dom = 1;
    gv.version = 42;
    mem.put(kUop, gv);
    EXPECT_EQ(op(GNTTABOP_get_version, 1), -static_cast<long>(Errno::XEN_EPERM));
    EXPECT_EQ(mem.get<gnttab_get_version_t>(kUop).version, 42u) << "nothing written on failure";
    gv.dom = DOMID_SELF;
    mem.put(kUop, gv);
    EXPECT_EQ(op(GNTTABOP_get_version, 1), 0);
    EXPECT_EQ(mem.get<gnttab_get_version_t>(kUop).version, 1u);
}

TEST_F(GnttabHypercallFixture, RarelyUsedCommands)
{
    // swap_grant_ref: entries of the caller's own table.
    host.grant(2, 3, 1, host.gfn(3));
    host.grant(2, 4, 1, host.gfn(4));
    gnttab_swap_grant_ref_t sw[3] = {{3, 4, 99}, {3, 600, 99}, {5, 5, 99}};
    mem.put(kUop, sw);
    ASSERT_EQ(op(GNTTABOP_swap_grant_ref, 3), 0);
    EXPECT_EQ(mem.get<gnttab_swap_grant_ref_t>(kUop).status, GNTST_okay);
    EXPECT_EQ(mem.get<gnttab_swap_grant_ref_t>(kUop + 12).status, GNTST_bad_gntref);
    EXPECT_EQ(mem.get<gnttab_swap_grant_ref_t>(kUop + 24).status, GNTST_okay);
    EXPECT_EQ(host.entry(2, 3)->frame, host.gfn(4));
    EXPECT_EQ(host.entry(2, 4)->frame, host.gfn(3));
    gnttab_map_grant_ref_t m = map_op(2, 3, kForeignBaseIpa);
    map_grant_ref(host, d1, m);
    ASSERT_EQ(m.status, GNTST_okay);
    mem.put(kUop, gnttab_swap_grant_ref_t{3, 4, 99});
    ASSERT_EQ(op(GNTTABOP_swap_grant_ref, 1), 0);
    EXPECT_EQ(mem.get<gnttab_swap_grant_ref_t>(kUop).status, GNTST_eagain) << "a held entry stays put";

    // transfer: never possible on arm.
    gnttab_transfer_t tr[2] = {};
    tr[0].mfn = host.gfn(0);
    tr[1].mfn = 0x5555;
    mem.put(kUop, tr);
    ASSERT_EQ(op(GNTTABOP_transfer, 2), 0);
    EXPECT_EQ(mem.get<gnttab_transfer_t>(kUop).status, GNTST_general_error);
    EXPECT_EQ(mem.get<gnttab_transfer_t>(kUop + 24).status, GNTST_bad_page);

    // unmap_and_replace: a new address is refused, 0 unmaps.
    gnttab_unmap_and_replace_t ur[3] = {{kForeignBaseIpa, 0x90000000, m.handle, 99},
                                        {kForeignBaseIpa, 0x90000000, m.handle + 9, 99},
                                        {kForeignBaseIpa, 0, m.handle, 99}};
    mem.put(kUop, ur);
    ASSERT_EQ(op(GNTTABOP_unmap_and_replace, 3, /*caller=*/1), 0);
    EXPECT_EQ(mem.get<gnttab_unmap_and_replace_t>(kUop).status, GNTST_general_error);
    EXPECT_EQ(mem.get<gnttab_unmap_and_replace_t>(kUop + 24).status, GNTST_bad_handle);
    EXPECT_EQ(mem.get<gnttab_unmap_and_replace_t>(kUop + 48).status, GNTST_okay);
    EXPECT_EQ(d2.pinned_entries(), 0u);

    // get_status_frames: version 1 has none.
    gnttab_get_status_frames_t gs{};
    gs.dom = DOMID_SELF;
    mem.put(kUop, gs);
    ASSERT_EQ(op(GNTTABOP_get_status_frames, 1), 0);
    EXPECT_EQ(mem.get<gnttab_get_status_frames_t>(kUop).status, GNTST_okay);
    gs.nr_frames = 1;
    mem.put(kUop, gs);
    ASSERT_EQ(op(GNTTABOP_get_status_frames, 1), 0);
    EXPECT_EQ(mem.get<gnttab_get_status_frames_t>(kUop).status, GNTST_general_error);
    gs.dom = 1;
    mem.put(kUop, gs);
    ASSERT_EQ(op(GNTTABOP_get_status_frames, 1), 0);
    EXPECT_EQ(mem.get<gnttab_get_status_frames_t>(kUop).status, GNTST_permission_denied);
}
