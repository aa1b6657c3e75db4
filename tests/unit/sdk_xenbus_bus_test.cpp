// The driver model against the fake xenstored: dom0 runs a backend Bus and
// domU (dom1) a frontend Bus, each on its own Client and ring, one Store. A
// toolstack (the test, through dom0's client) creates and removes devices as
// libxl does.
#include "sdk_xenstore_test_support.hpp"

#include <keel/guest/xenbus/bus.hpp>

#include <array>
#include <string>

using namespace keel;
using namespace keel::guest;
using namespace keel::guest::xenbus;
using namespace keel::guest::xenstore;
using namespace keel::guest::xenstore::test;

namespace {

std::string get(Client& c, const std::string& path)
{
    char buf[256];
    auto n = c.read(path, buf);
    if (!n) return std::string("<") + errno_name(n.error()) + ">";
    return std::string(buf, *n);
}

struct Counts {
    int probe = 0, publish = 0, connect = 0, disconnect = 0, remove = 0;
};

// A frontend: publishes ring-ref and event-channel in one transaction,
// connects once the backend's feature is there.
struct FrontDriver final : Driver {
    Counts n;
    std::string backend_feature;
    Errno fail_connect = Errno::OK;
    std::string_view type() const override { return "vif"; }
    Status probe(Device&) override { return ++n.probe, Status{}; }
    Status publish(Device& d) override
    {
        ++n.publish;
        return d.transaction([&](TxId tx) -> Status {
            KEEL_TRY(d.write_uint("ring-ref", 8 + d.devid(), tx));
            return d.write_uint("event-channel", 5, tx);
        });
    }
    Status connect(Device& d) override
    {
        ++n.connect;
        if (fail_connect != Errno::OK) return Err(fail_connect);
        char buf[16];
        auto len = d.read_otherend("feature-rx-copy", buf);
        if (!len) return Err(len.error());
        backend_feature.assign(buf, *len);
        return {};
    }
    void disconnect(Device&) override { ++n.disconnect; }
    void remove(Device&) override { ++n.remove; }
};

// A backend: publishes a feature, connects by reading the frontend's keys in
// a transaction.
struct BackDriver final : Driver {
    Counts n;
    std::uint32_t ring_ref = 0, port = 0;
    bool ready = true;
    std::string_view type() const override { return "vif"; }
    Status probe(Device&) override { return ++n.probe, Status{}; }
    Status publish(Device& d) override
    {
        if (!ready) return Err(Errno::XEN_EAGAIN);
        ++n.publish;
        return d.write("feature-rx-copy", "1");
    }
    Status connect(Device& d) override
    {
        ++n.connect;
        return d.transaction([&](TxId tx) -> Status {
            auto r = d.read_otherend_uint("ring-ref", tx);
            if (!r) return Err(r.error());
            auto p = d.read_otherend_uint("event-channel", tx);
            if (!p) return Err(p.error());
            ring_ref = *r;
            port = *p;
            return {};
        });
    }
    void disconnect(Device&) override { ++n.disconnect; }
    void remove(Device&) override { ++n.remove; }
};

struct VifSpec {
    std::uint32_t devid = 0;
    std::string backend{};     // the frontend's `backend`; default: the right one
    std::string backend_id = "0";
    std::string frontend{};    // the backend's `frontend`; default: the right one
    std::string frontend_id = "1";
    std::uint32_t backend_dir_domid = 1;  // backend/vif/<this>/<devid>
    std::string fe_state = "1", be_state = "1";
};

struct XenbusBusTest : ::testing::Test {
    StoreConfig config;
    XsWorld w;
    XsWorld::Domain& d0;
    XsWorld::Domain& d1;
    Client& c0;
    Client& c1;
    std::array<Device, 4> fslots, bslots;
    FrontDriver fdrv;
    BackDriver bdrv;
    Bus fe;
    Bus be;

    explicit XenbusBusTest(StoreConfig cfg = {})
        : config(cfg), w(config), d0(w.add(0)), d1(w.add(1)), c0(*d0.client), c1(*d1.client),
          fe(c1, Side::frontend, DomainId(1), fslots), be(c0, Side::backend, DomainId(0), bslots)
    {
        make_home(c0, 1);
        EXPECT_TRUE(fe.add_driver(fdrv).ok());
        EXPECT_TRUE(be.add_driver(bdrv).ok());
    }

    static std::string fe_path(std::uint32_t devid) { return "/local/domain/1/device/vif/" + std::to_string(devid); }
    static std::string be_path(std::uint32_t devid, std::uint32_t fe = 1)
    {
        return "/local/domain/0/backend/vif/" + std::to_string(fe) + "/" + std::to_string(devid);
    }

    // What libxl does for a new vif, in one transaction.
    void add_vif(const VifSpec& s)
    {
        const std::string fp = fe_path(s.devid), bp = be_path(s.devid, s.backend_dir_domid);
        const Status st = c0.transaction([&](TxId tx) -> Status {
            KEEL_TRY(c0.mkdir(bp, tx));
            const Permission bperms[] = {{DomainId(0), Access::none}, {DomainId(1), Access::read}};
            KEEL_TRY(c0.set_perms(bp, bperms, tx));
            KEEL_TRY(c0.write(bp + "/frontend", s.frontend.empty() ? fp : s.frontend, tx));
            KEEL_TRY(c0.write(bp + "/frontend-id", s.frontend_id, tx));
            KEEL_TRY(c0.write(bp + "/state", s.be_state, tx));
            KEEL_TRY(c0.mkdir(fp, tx));
            const Permission fperms[] = {{DomainId(1), Access::none}, {DomainId(0), Access::read}};
            KEEL_TRY(c0.set_perms(fp, fperms, tx));
            KEEL_TRY(c0.write(fp + "/backend", s.backend.empty() ? bp : s.backend, tx));
            KEEL_TRY(c0.write(fp + "/backend-id", s.backend_id, tx));
            return c0.write(fp + "/state", s.fe_state, tx);
        });
        ASSERT_TRUE(st.ok()) << errno_name(st.error());
    }
    void add_backend_only(std::uint32_t devid)
    {
        const std::string fp = fe_path(devid), bp = be_path(devid);
        const Status st = c0.transaction([&](TxId tx) -> Status {
            KEEL_TRY(c0.mkdir(bp, tx));
            const Permission bperms[] = {{DomainId(0), Access::none}, {DomainId(1), Access::read}};
            KEEL_TRY(c0.set_perms(bp, bperms, tx));
            KEEL_TRY(c0.write(bp + "/frontend", fp, tx));
            KEEL_TRY(c0.write(bp + "/frontend-id", "1", tx));
            return c0.write(bp + "/state", "1", tx);
        });
        ASSERT_TRUE(st.ok()) << errno_name(st.error());
    }

    // Both sides get the CPU until nothing moves.
    void settle()
    {
        for (int i = 0; i < 40; ++i) {
            w.run_servers();
            c0.poll();
            c1.poll();
        }
    }

    void start_both()
    {
        ASSERT_TRUE(fe.start().ok());
        ASSERT_TRUE(be.start().ok());
        settle();
    }

    void expect_connected(std::uint32_t devid)
    {
        Device* f = fe.find("vif", devid);
        Device* b = be.find("vif", devid, DomainId(1));
        ASSERT_NE(f, nullptr);
        ASSERT_NE(b, nullptr);
        EXPECT_EQ(f->state(), XenbusStateConnected);
        EXPECT_EQ(b->state(), XenbusStateConnected);
        EXPECT_TRUE(f->connected());
        EXPECT_TRUE(b->connected());
        EXPECT_EQ(get(c0, fe_path(devid) + "/state"), "4");
        EXPECT_EQ(get(c0, be_path(devid) + "/state"), "4");
    }
};

} // namespace

TEST_F(XenbusBusTest, FullHandshake)
{
    add_vif({});
    start_both();
    expect_connected(0);
    Device* f = fe.find("vif", 0);
    Device* b = be.find("vif", 0, DomainId(1));
    ASSERT_TRUE(f && b);
    EXPECT_EQ(f->nodename(), "device/vif/0");
    EXPECT_EQ(f->otherend(), be_path(0));
    EXPECT_EQ(f->otherend_id(), DomainId(0));
    EXPECT_EQ(b->nodename(), "backend/vif/1/0");
    EXPECT_EQ(b->otherend(), fe_path(0));
    EXPECT_EQ(b->otherend_id(), DomainId(1));
    // The keys each side wrote reached the other.
    EXPECT_EQ(bdrv.ring_ref, 8u);
    EXPECT_EQ(bdrv.port, 5u);
    EXPECT_EQ(fdrv.backend_feature, "1");
    EXPECT_EQ(get(c1, "device/vif/0/ring-ref"), "8");
    EXPECT_EQ(fdrv.n.probe, 1);
    EXPECT_EQ(fdrv.n.publish, 1);
    EXPECT_EQ(fdrv.n.connect, 1);
    EXPECT_EQ(bdrv.n.publish, 1);
    EXPECT_EQ(bdrv.n.connect, 1);
    EXPECT_EQ(fdrv.n.disconnect + bdrv.n.disconnect, 0);
    EXPECT_EQ(f->error(), Errno::OK);
    EXPECT_EQ(fe.refusals() + be.refusals(), 0u);
    // One directory watch and one otherend-state watch per side.
    EXPECT_EQ(fe.watch_count(), 2u);
    EXPECT_EQ(be.watch_count(), 2u);
}

TEST_F(XenbusBusTest, BackendNotReadyUntilKicked)
{
    bdrv.ready = false;
    add_vif({});
    start_both();
    Device* b = be.find("vif", 0, DomainId(1));
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->state(), XenbusStateInitialising);
    EXPECT_EQ(fe.find("vif", 0)->state(), XenbusStateInitialising);  // waits for InitWait
    bdrv.ready = true;
    be.kick(*b);
    settle();
    expect_connected(0);
}

TEST_F(XenbusBusTest, BackendClosesFrontendDisconnectsAndReconnects)
{
    add_vif({});
    start_both();
    expect_connected(0);
    Device* f = fe.find("vif", 0);
    Device* b = be.find("vif", 0, DomainId(1));
    b->close();
    settle();
    EXPECT_EQ(fdrv.n.disconnect, 1);
    EXPECT_EQ(bdrv.n.disconnect, 1);
    EXPECT_FALSE(f->connected());
    EXPECT_EQ(b->state(), XenbusStateClosed);
    // Both Closed, so the frontend reset and waits for a backend.
    EXPECT_EQ(f->state(), XenbusStateInitialising);
    EXPECT_EQ(get(c0, be_path(0) + "/state"), "6");
    EXPECT_EQ(get(c0, fe_path(0) + "/state"), "1");

    b->open();
    settle();
    expect_connected(0);
    EXPECT_EQ(fdrv.n.publish, 2);
    EXPECT_EQ(fdrv.n.connect, 2);
    EXPECT_EQ(bdrv.n.connect, 2);
}

TEST_F(XenbusBusTest, FrontendClosesAndReopens)
{
    add_vif({});
    start_both();
    Device* f = fe.find("vif", 0);
    f->close();
    settle();
    EXPECT_EQ(f->state(), XenbusStateClosed);
    EXPECT_EQ(be.find("vif", 0, DomainId(1))->state(), XenbusStateClosed);
    EXPECT_EQ(fdrv.n.disconnect, 1);
    EXPECT_EQ(bdrv.n.disconnect, 1);
    f->open();
    settle();
    expect_connected(0);
}

TEST_F(XenbusBusTest, BackendVanishesAndComesBack)
{
    add_vif({});
    start_both();
    expect_connected(0);
    ASSERT_TRUE(c0.rm(be_path(0)).ok());
    settle();
    EXPECT_EQ(be.device_count(), 0u);
    EXPECT_EQ(bdrv.n.disconnect, 1);
    EXPECT_EQ(bdrv.n.remove, 1);
    Device* f = fe.find("vif", 0);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(fdrv.n.disconnect, 1);
    EXPECT_EQ(f->state(), XenbusStateInitialising);  // reset, waiting
    // The toolstack restores the backend: the handshake runs again.
    add_backend_only(0);
    settle();
    expect_connected(0);
    EXPECT_EQ(fdrv.n.connect, 2);
}

TEST_F(XenbusBusTest, HotplugAfterStartAndUnplug)
{
    start_both();
    EXPECT_EQ(fe.device_count(), 0u);
    EXPECT_EQ(be.device_count(), 0u);
    add_vif({.devid = 3});
    settle();
    expect_connected(3);
    EXPECT_EQ(bdrv.ring_ref, 11u);
    add_vif({.devid = 4});
    settle();
    expect_connected(4);
    EXPECT_EQ(fe.device_count(), 2u);
    EXPECT_EQ(fe.watch_count(), 3u);

    // Unplug: the toolstack removes both nodes of device 3.
    ASSERT_TRUE(c0.transaction([&](TxId tx) -> Status {
                      KEEL_TRY(c0.rm(fe_path(3), tx));
                      return c0.rm(be_path(3), tx);
                  }).ok());
    settle();
    EXPECT_EQ(fe.find("vif", 3), nullptr);
    EXPECT_EQ(be.find("vif", 3, DomainId(1)), nullptr);
    EXPECT_EQ(fdrv.n.remove, 1);
    EXPECT_EQ(bdrv.n.remove, 1);
    EXPECT_EQ(fdrv.n.disconnect, 1);
    // No state was written back into the removed nodes.
    EXPECT_EQ(get(c0, fe_path(3)), "<ENOENT>");
    EXPECT_EQ(get(c0, be_path(3)), "<ENOENT>");
    expect_connected(4);
    EXPECT_EQ(fe.watch_count(), 2u);
    EXPECT_EQ(be.watch_count(), 2u);
}

TEST_F(XenbusBusTest, RefusesBackendPathOfAnotherDomain)
{
    // The backend path names domain 2's device, not ours.
    add_vif({.backend = be_path(0, 2)});
    start_both();
    EXPECT_EQ(fe.device_count(), 0u);
    EXPECT_GE(fe.refusals(), 1u);
    EXPECT_EQ(fe.last_refusal(), Errno::XEN_EINVAL);
    EXPECT_EQ(fdrv.n.probe, 0);
    auto r = fe.probe(fdrv, 0);
    EXPECT_EQ(r.error(), Errno::XEN_EINVAL);
    EXPECT_EQ(fe.watch_count(), 1u);
}

TEST_F(XenbusBusTest, RefusesBackendOutsideTheBackendTree)
{
    add_vif({.backend = "/local/domain/0/evil"});
    start_both();
    EXPECT_EQ(fe.device_count(), 0u);
    EXPECT_EQ(fe.last_refusal(), Errno::XEN_EINVAL);
    EXPECT_EQ(fe.probe(fdrv, 0).error(), Errno::XEN_EINVAL);
}

TEST_F(XenbusBusTest, RefusesBackendIdOfADifferentDomain)
{
    // backend-id says 2, the path says dom0.
    add_vif({.backend_id = "2"});
    start_both();
    EXPECT_EQ(fe.device_count(), 0u);
    EXPECT_EQ(fe.probe(fdrv, 0).error(), Errno::XEN_EINVAL);
    for (const char* bad : {"banana", "-1", "65535", "32752", ""}) {
        ASSERT_TRUE(c0.write(fe_path(0) + "/backend-id", bad).ok());
        EXPECT_EQ(fe.probe(fdrv, 0).error(), Errno::XEN_EINVAL) << bad;
    }
    EXPECT_EQ(fe.device_count(), 0u);
}

TEST_F(XenbusBusTest, BackendRefusesWrongFrontend)
{
    // frontend-id names another domain than the directory it sits in.
    add_vif({.frontend_id = "2"});
    ASSERT_TRUE(be.start().ok());
    settle();
    EXPECT_EQ(be.device_count(), 0u);
    EXPECT_EQ(be.last_refusal(), Errno::XEN_EINVAL);
    // frontend path of another device (both keys changed at once).
    ASSERT_TRUE(c0.transaction([&](TxId tx) -> Status {
                      KEEL_TRY(c0.write(be_path(0) + "/frontend-id", "1", tx));
                      return c0.write(be_path(0) + "/frontend", "/local/domain/1/device/vif/7", tx);
                  }).ok());
    settle();
    EXPECT_EQ(be.device_count(), 0u);
    EXPECT_EQ(be.probe(bdrv, 0, DomainId(1)).error(), Errno::XEN_EINVAL);
    ASSERT_TRUE(c0.write(be_path(0) + "/frontend", "/local/domain/1/device/vif/0").ok());
    auto ok = be.probe(bdrv, 0, DomainId(1));
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ((*ok)->otherend_id(), DomainId(1));
}

// The backend here is the test itself, writing through dom0's client, so
// that nothing repairs what it writes.
TEST_F(XenbusBusTest, GarbageBackendStateClosesFrontend)
{
    add_vif({});
    ASSERT_TRUE(fe.start().ok());
    const std::string state = be_path(0) + "/state";
    ASSERT_TRUE(c0.write(be_path(0) + "/feature-rx-copy", "1").ok());
    ASSERT_TRUE(c0.write(state, "2").ok());
    settle();
    Device* f = fe.find("vif", 0);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->state(), XenbusStateInitialised);
    ASSERT_TRUE(c0.write(state, "4").ok());
    settle();
    EXPECT_EQ(f->state(), XenbusStateConnected);
    EXPECT_TRUE(f->connected());

    ASSERT_TRUE(c0.write(state, "banana").ok());
    settle();
    EXPECT_EQ(f->error(), Errno::XEN_EIO);
    EXPECT_FALSE(f->connected());
    EXPECT_EQ(fdrv.n.disconnect, 1);
    EXPECT_EQ(f->state(), XenbusStateClosed);
    EXPECT_EQ(get(c1, "device/vif/0/state"), "6");
    // More garbage changes nothing: the frontend stays closed.
    for (const char* bad : {"7", "0", "99", "", "4\n", "Connected", "8", "12345678901234567890"}) {
        ASSERT_TRUE(c0.write(state, bad).ok());
        settle();
        EXPECT_FALSE(f->connected()) << bad;
        EXPECT_EQ(f->state(), XenbusStateClosed) << bad;
    }
    EXPECT_EQ(fdrv.n.disconnect, 1);
    EXPECT_EQ(fdrv.n.connect, 1);
    // A backend that behaves again: Closed lets the frontend reset, and the
    // handshake runs from the start.
    ASSERT_TRUE(c0.write(state, "6").ok());
    settle();
    EXPECT_EQ(f->state(), XenbusStateInitialising);
    ASSERT_TRUE(c0.write(state, "2").ok());
    settle();
    EXPECT_EQ(f->state(), XenbusStateInitialised);
    ASSERT_TRUE(c0.write(state, "4").ok());
    settle();
    EXPECT_TRUE(f->connected());
    EXPECT_EQ(f->error(), Errno::OK);
}

TEST_F(XenbusBusTest, StopTearsDownEverything)
{
    add_vif({});
    start_both();
    expect_connected(0);
    fe.stop();
    EXPECT_EQ(fe.watch_count(), 0u);
    EXPECT_EQ(fe.device_count(), 0u);
    EXPECT_EQ(fdrv.n.disconnect, 1);
    EXPECT_EQ(fdrv.n.remove, 1);
    EXPECT_EQ(get(c0, fe_path(0) + "/state"), "6");
    settle();
    // The backend saw Closed and closed too.
    Device* b = be.find("vif", 0, DomainId(1));
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->state(), XenbusStateClosed);
    EXPECT_EQ(bdrv.n.disconnect, 1);
    be.stop();
    EXPECT_EQ(be.watch_count(), 0u);
    EXPECT_EQ(bdrv.n.remove, 1);
    // Nothing fires any more.
    ASSERT_TRUE(c0.write(be_path(0) + "/state", "4").ok());
    ASSERT_TRUE(c0.write(fe_path(0) + "/state", "3").ok());
    add_vif({.devid = 1});
    settle();
    EXPECT_EQ(fdrv.n.probe, 1);
    EXPECT_EQ(bdrv.n.probe, 1);
    EXPECT_EQ(fdrv.n.publish, 1);
}

namespace {
struct XenbusBusQuotaTest : XenbusBusTest {
    static StoreConfig two_watches()
    {
        StoreConfig c;
        c.quota_watches = 2;
        return c;
    }
    XenbusBusQuotaTest() : XenbusBusTest(two_watches()) {}
};
} // namespace

// The store's own count: with dom1 limited to two watches, the frontend bus
// uses both, and after stop() both are free again.
TEST_F(XenbusBusQuotaTest, StopLeavesNoWatchesInTheStore)
{
    add_vif({});
    start_both();
    expect_connected(0);
    Watch extra(nullptr, nullptr);
    EXPECT_EQ(c1.watch(extra, "data").error(), Errno::XEN_E2BIG);
    fe.stop();
    Watch a(nullptr, nullptr), b(nullptr, nullptr), c(nullptr, nullptr);
    EXPECT_TRUE(c1.watch(a, "data/a").ok());
    EXPECT_TRUE(c1.watch(b, "data/b").ok());
    EXPECT_EQ(c1.watch(c, "data/c").error(), Errno::XEN_E2BIG);
    EXPECT_TRUE(c1.unwatch(a).ok());
    EXPECT_TRUE(c1.unwatch(b).ok());
}

// Both ends find "Connected" left by an earlier run (a kexec'd frontend, a
// restarted backend domain): neither has a data path, so they close and
// handshake again instead of trusting the stale state.
TEST_F(XenbusBusTest, StaleConnectedStatesFromAnEarlierRun)
{
    add_vif({.fe_state = "4", .be_state = "4"});
    start_both();
    expect_connected(0);
    EXPECT_EQ(fdrv.n.connect, 1);
    EXPECT_EQ(bdrv.n.connect, 1);
    EXPECT_EQ(fdrv.n.disconnect, 0);  // nothing was published by this run
}

TEST_F(XenbusBusTest, StaleFrontendStateAgainstAFreshBackend)
{
    add_vif({.fe_state = "4"});
    start_both();
    expect_connected(0);
    EXPECT_EQ(fdrv.n.connect, 1);
}

TEST_F(XenbusBusTest, DriverConnectFailureClosesBothEnds)
{
    fdrv.fail_connect = Errno::XEN_ENOMEM;
    add_vif({});
    start_both();
    Device* f = fe.find("vif", 0);
    Device* b = be.find("vif", 0, DomainId(1));
    ASSERT_TRUE(f && b);
    EXPECT_EQ(f->error(), Errno::XEN_ENOMEM);
    EXPECT_EQ(f->state(), XenbusStateClosed);
    EXPECT_EQ(b->state(), XenbusStateClosed);
    EXPECT_EQ(fdrv.n.disconnect, 1);  // what publish() set up is withdrawn
    EXPECT_EQ(bdrv.n.disconnect, 1);
    // Reopened once the driver can connect.
    fdrv.fail_connect = Errno::OK;
    f->open();
    settle();
    expect_connected(0);
}
