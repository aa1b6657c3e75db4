// The SDK's typed hypercall wrappers, shared_info placement and vcpu_info
// registration, against Keel's cores through the fake hypervisor.
#include "sdk_test_support.hpp"

#include <keel/guest/hypercalls.hpp>

#include <cstring>

using namespace keel;
using namespace keel::guest;
using namespace keel::sdk_test;

namespace {

struct SdkHypercalls : ::testing::Test {
    SdkHypercalls()
    {
        hv.add_domain({.id = 1, .vcpus = 2});
        hv.add_domain({.id = 2});
    }
    FakeHypervisor hv;
};

using SdkSharedInfo = SdkHypercalls;

} // namespace

TEST_F(SdkHypercalls, XenVersionAndFeatures)
{
    FakeHypervisor::As as(hv, 1);
    auto v = xenver_version();
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->major, 4);
    EXPECT_EQ(v->minor, 17);
    char extra[XEN_EXTRAVERSION_LEN];
    ASSERT_TRUE(xenver_extraversion(extra).ok());
    EXPECT_STREQ(extra, "-keel");
    auto f = xenver_get_features(0);
    ASSERT_TRUE(f.ok());
    EXPECT_TRUE(*f & (1u << XENFEAT_auto_translated_physmap));
    EXPECT_EQ(err(xenver_get_features(XENFEAT_NR_SUBMAPS)), Errno::XEN_EINVAL);
}

TEST_F(SdkHypercalls, ConsoleAndHvmParams)
{
    FakeHypervisor::As as(hv, 1);
    ASSERT_TRUE(consoleio_write("hello\n", 6).ok());
    EXPECT_EQ(hv.console(1), "hello\n");
    EXPECT_EQ(err(consoleio_write(nullptr, 3)), Errno::XEN_EFAULT);
    char buf[8];
    EXPECT_EQ(consoleio_read(buf, sizeof buf).value_or(99), 0u);

    auto irq = hvmop_get_param(HVM_PARAM_CALLBACK_IRQ);
    ASSERT_TRUE(irq.ok());
    EXPECT_EQ(*irq & 0xff, 31u) << "the event PPI";
    EXPECT_EQ(err(hvmop_get_param(HVM_NR_PARAMS)), Errno::XEN_EINVAL);
    EXPECT_EQ(err(hvmop_set_param(HVM_PARAM_STORE_PFN, 1)), Errno::XEN_EPERM) << "the toolstack's business";
}

TEST_F(SdkHypercalls, EventChannelWrappersPassXensAnswers)
{
    FakeHypervisor::As as(hv, 1);
    auto p = evtchnop_alloc_unbound(DomainId(2));
    ASSERT_TRUE(p.ok());
    auto st = evtchnop_status(*p);
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->status, EVTCHNSTAT_unbound);
    EXPECT_EQ(st->u.unbound.dom, 2);
    EXPECT_EQ(err(evtchnop_alloc_unbound(DomainId(1), DomainId(2))), Errno::XEN_EPERM) << "for another domain";
    EXPECT_EQ(err(evtchnop_status(Port(1), DomainId(2))), Errno::XEN_EPERM);
    EXPECT_EQ(err(evtchnop_bind_vcpu(*p, 2)), Errno::XEN_ENOENT);
    EXPECT_TRUE(evtchnop_bind_vcpu(*p, 1).ok());
    EXPECT_EQ(err(evtchnop_unmask(Port(4000))), Errno::XEN_EINVAL);
    EXPECT_TRUE(evtchnop_close(*p).ok());
    EXPECT_EQ(err(evtchnop_close(*p)), Errno::XEN_EINVAL);
}

TEST_F(SdkHypercalls, SchedOps)
{
    FakeHypervisor::As as(hv, 1);
    EXPECT_TRUE(schedop_yield().ok());
    Port many[kMaxPollPorts + 1] = {};
    EXPECT_EQ(err(schedop_poll(many)), Errno::XEN_EINVAL) << "beyond Xen's 128";
    auto ipi = evtchnop_bind_ipi(0);
    ASSERT_TRUE(ipi.ok());
    const Port bad[2] = {*ipi, Port(4000)};
    EXPECT_EQ(err(schedop_poll(bad)), Errno::XEN_EINVAL);
    ASSERT_TRUE(evtchnop_send(*ipi).ok());
    const Port one[1] = {*ipi};
    const unsigned sleeps = hv.sleeps();
    EXPECT_TRUE(schedop_poll(one).ok());
    EXPECT_EQ(hv.sleeps(), sleeps) << "pending: no sleep";
    // A timeout already past returns at once too.
    ASSERT_TRUE(evtchnop_close(*ipi).ok());
    auto idle = evtchnop_bind_ipi(0);
    ASSERT_TRUE(idle.ok());
    const Port none[1] = {*idle};
    EXPECT_TRUE(schedop_poll(none, 1).ok());
    EXPECT_EQ(hv.sleeps(), sleeps);
    EXPECT_TRUE(schedop_shutdown(SHUTDOWN_poweroff).ok());
    EXPECT_EQ(hv.shutdowns(1), 1u);
    EXPECT_EQ(err(schedop_shutdown(SHUTDOWN_MAX + 1)), Errno::XEN_EINVAL);
}

TEST_F(SdkHypercalls, GrantStatusesMapToDistinctErrnos)
{
    for (std::int16_t s = GNTST_okay; s >= GNTST_no_space; --s) {
        const Errno e = errno_of_grant_status(s);
        EXPECT_EQ(grant_status_of(e), s) << "status " << s << " -> " << errno_name(e);
    }
    EXPECT_EQ(errno_of_grant_status(GNTST_bad_gntref), Errno::XEN_EINVAL);
    EXPECT_EQ(errno_of_grant_status(-99), Errno::XEN_EIO);
    EXPECT_EQ(grant_status_of(Errno::XEN_ENOSYS), GNTST_general_error);
}

TEST_F(SdkHypercalls, GrantTableWrappers)
{
    FakeHypervisor::As as(hv, 1);
    auto size = gnttabop_query_size();
    ASSERT_TRUE(size.ok());
    EXPECT_EQ(size->nr_frames, 1u);
    EXPECT_EQ(size->max_nr_frames, 4u);
    EXPECT_EQ(gnttabop_get_version().value_or(0), 1u);
    EXPECT_TRUE(gnttabop_set_version(1).ok());
    EXPECT_EQ(err(gnttabop_set_version(2)), Errno::XEN_ENOSYS);
    xen_pfn_t frames[2];
    EXPECT_TRUE(gnttabop_setup_table(frames).ok());
    EXPECT_EQ(gnttabop_query_size()->nr_frames, 2u);
    EXPECT_EQ(err(grant_table_op(GNTTABOP_copy, nullptr, 1)), Errno::XEN_EFAULT);
    EXPECT_EQ(err(grant_table_op(99, nullptr, 1)), Errno::XEN_ENOSYS);
}

TEST_F(SdkHypercalls, PhysmapRejectsWhatItCannotPlace)
{
    FakeHypervisor::As as(hv, 1);
    const GuestFrame hole = hv.hole_frame(1, 3);
    EXPECT_EQ(err(xenmem_add_to_physmap(XENMAPSPACE_shared_info, 1, hole.gfn)), Errno::XEN_EINVAL);
    EXPECT_EQ(err(xenmem_add_to_physmap(XENMAPSPACE_gmfn, 0, hole.gfn)), Errno::XEN_ENOSYS);
    EXPECT_EQ(err(xenmem_add_to_physmap(XENMAPSPACE_grant_table, 7, hole.gfn)), Errno::XEN_EINVAL)
        << "beyond the domain's max frames";
    EXPECT_EQ(err(xenmem_remove_from_physmap(hole.gfn)), Errno::XEN_ENOENT);
}

// --- shared_info and vcpu_info ---

TEST_F(SdkSharedInfo, PlacedPageIsTheHypervisorsPage)
{
    FakeHypervisor::As as(hv, 1);
    const GuestFrame frame = hv.hole_frame(1, kSharedInfoHole);
    EXPECT_FALSE(hv.mapped(1, frame.gfn.raw()));
    auto s = map_shared_info(frame);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(static_cast<void*>(*s), frame.va);
    EXPECT_TRUE(hv.mapped(1, frame.gfn.raw()));
    // Both sides see each other's writes: it is one page.
    hv.shared_info(1).wc_sec = 1234;
    EXPECT_EQ((*s)->wc_sec, 1234u);
    (*s)->evtchn_mask[0] = 0x10;
    EXPECT_EQ(hv.shared_info(1).evtchn_mask[0], 0x10u);
    // Placing it again moves it.
    const GuestFrame other = hv.hole_frame(1, 5);
    auto moved = map_shared_info(other);
    ASSERT_TRUE(moved.ok());
    EXPECT_FALSE(hv.mapped(1, frame.gfn.raw()));
    EXPECT_EQ((*moved)->wc_sec, 1234u);
    EXPECT_EQ(err(map_shared_info(GuestFrame{other.gfn, nullptr})), Errno::XEN_EINVAL);
    EXPECT_EQ(err(map_shared_info(GuestFrame{Gfn(0x1000), other.va})), Errno::XEN_EINVAL)
        << "outside the domain's IPA space";
}

TEST_F(SdkSharedInfo, VcpuInfoRegistration)
{
    FakeHypervisor::As as(hv, 1);
    const GuestFrame ram = hv.ram_frame(1, 2);
    EXPECT_EQ(err(register_vcpu_info(1, ram, 8)), Errno::XEN_EINVAL) << "misaligned";
    EXPECT_EQ(err(register_vcpu_info(1, ram, 4096 - 32)), Errno::XEN_EINVAL) << "crosses the page";
    EXPECT_EQ(err(register_vcpu_info(2, ram, 0)), Errno::XEN_ENOENT) << "no vCPU 2";
    EXPECT_EQ(err(vcpuop_register_vcpu_info(1, ram.gfn, 4090)), Errno::XEN_ENXIO) << "Keel's own check";
    EXPECT_EQ(err(register_vcpu_info(1, hv.hole_frame(1, 9), 0)), Errno::XEN_EINVAL) << "not RAM";
    auto info = register_vcpu_info(1, ram, 128);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(static_cast<void*>(*info), static_cast<unsigned char*>(ram.va) + 128);
    EXPECT_TRUE(hv.event_domain(1).vcpu_info_registered(1));
    // The hypervisor flagged every word, so the first upcall rescans everything.
    EXPECT_EQ((*info)->evtchn_pending_sel, ~XenUlong{0});
    EXPECT_EQ((*info)->evtchn_upcall_pending, 1);
    EXPECT_EQ(err(register_vcpu_info(1, ram, 256)), Errno::XEN_EINVAL) << "only once";
}
