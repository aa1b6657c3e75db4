// The client against the fake xenstored (Store + StoreConnection) through
// real ring pages in host memory, and against a scripted server that answers
// out of order.
#include "sdk_xenstore_test_support.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

using namespace keel;
using namespace keel::guest;
using namespace keel::guest::xenstore;
using namespace keel::guest::xenstore::test;

namespace {

using Strings = std::vector<std::string>;

struct Events {
    Strings paths;
    static void record(void* ctx, std::string_view path) { static_cast<Events*>(ctx)->paths.emplace_back(path); }
    Strings take()
    {
        Strings out;
        out.swap(paths);
        return out;
    }
};

std::string read(Client& c, std::string_view path, TxId tx = kNoTransaction)
{
    char buf[kPayloadMax];
    auto n = c.read(path, buf, tx);
    if (!n) return std::string("<") + errno_name(n.error()) + ">";
    return std::string(buf, *n);
}

Strings names(StringList l)
{
    Strings out;
    for (std::string_view s : l) out.emplace_back(s);
    return out;
}

struct XenstoreClientTest : ::testing::Test {
    XsWorld w;
    XsWorld::Domain& d0 = w.add(0);
    XsWorld::Domain& d1 = w.add(1);
    Client& c0 = *d0.client;
    Client& c1 = *d1.client;

    void SetUp() override { make_home(c0, 1); }
};

} // namespace

TEST_F(XenstoreClientTest, ReadWriteMkdirRmDirectory)
{
    ASSERT_TRUE(c0.write("/a/b", "value").ok());
    EXPECT_EQ(read(c0, "/a/b"), "value");
    ASSERT_TRUE(c0.mkdir("/a/c/d").ok());
    char buf[64];
    auto list = c0.directory("/a", buf);
    ASSERT_TRUE(list.ok());
    EXPECT_EQ(names(*list), (Strings{"b", "c"}));
    auto empty = c0.directory("/a/c/d", buf);
    ASSERT_TRUE(empty.ok());
    EXPECT_TRUE(names(*empty).empty());
    ASSERT_TRUE(c0.rm("/a").ok());
    EXPECT_EQ(read(c0, "/a/b"), "<ENOENT>");
    // Relative paths, from the guest's side.
    ASSERT_TRUE(c1.write("device/vif/0/state", "4").ok());
    EXPECT_EQ(read(c0, "/local/domain/1/device/vif/0/state"), "4");
    EXPECT_GT(d1.client_notifies, 0);
    EXPECT_GT(d1.server_notifies, 0);
}

TEST_F(XenstoreClientTest, PermissionsRoundTrip)
{
    ASSERT_TRUE(c1.write("shared", "s").ok());
    Permission p[4];
    auto n = c1.get_perms("shared", p);
    ASSERT_TRUE(n.ok());
    ASSERT_EQ(*n, 1u);
    EXPECT_EQ(p[0], (Permission{DomainId(1), Access::none}));
    const Permission grant[] = {{DomainId(1), Access::none}, {DomainId(2), Access::read}, {DomainId(3), Access::both}};
    ASSERT_TRUE(c1.set_perms("shared", grant).ok());
    auto n3 = c1.get_perms("shared", p);
    ASSERT_TRUE(n3.ok());
    ASSERT_EQ(*n3, 3u);
    EXPECT_TRUE(std::equal(grant, grant + 3, p));
    Permission one[1];
    EXPECT_EQ(err(c1.get_perms("shared", one)), XEN_ERANGE);
    EXPECT_EQ(err(c1.set_perms("shared", {})), XEN_EINVAL);
}

TEST_F(XenstoreClientTest, ServerErrorsArriveAsXenErrno)
{
    ASSERT_TRUE(c0.write("/dom0only", "x").ok());
    EXPECT_EQ(read(c1, "/dom0only"), "<EACCES>");
    EXPECT_EQ(err(c1.write("/dom0only", "y")), XEN_EACCES);
    EXPECT_EQ(read(c1, "missing"), "<ENOENT>");
    EXPECT_EQ(err(c0.write("//bad", "x")), XEN_EINVAL);
    const Permission away[] = {{DomainId(0), Access::none}};
    EXPECT_EQ(err(c1.set_perms("/local/domain/1", away)), XEN_EPERM);
    EXPECT_EQ(err(c1.transaction_end(TxId(4242), true)), XEN_ENOENT);
    EXPECT_EQ(err(c0.rm("/no/such/parent")), XEN_ENOENT);
}

TEST_F(XenstoreClientTest, AReplyLargerThanTheBufferIsErange)
{
    ASSERT_TRUE(c0.write("/v", "0123456789").ok());
    char small[4];
    Request r(small);
    const std::string_view args[] = {"/v"};
    ASSERT_TRUE(c0.submit(r, XS_READ, kNoTransaction, args).ok());
    EXPECT_EQ(err(c0.wait(r)), XEN_ERANGE);
    EXPECT_EQ(r.needed(), 10u);
    EXPECT_EQ(err(c0.read("/v", small)), XEN_ERANGE);
    char exact[10];
    EXPECT_EQ(*c0.read("/v", exact), 10u);
}

TEST(XenstoreClientLarge, ValuesLargerThanTheRingCrossItInPieces)
{
    StoreConfig config;
    config.max_value = 4096;
    XsWorld w(config);
    auto& d0 = w.add(0);
    std::string big(4000, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
    ASSERT_TRUE(d0.client->write("/big", big).ok());
    EXPECT_EQ(read(*d0.client, "/big"), big);
    // Too big for one message: refused before anything is sent.
    EXPECT_EQ(err(d0.client->write("/big", std::string(kPayloadMax, 'x'))), XEN_E2BIG);
    EXPECT_EQ(read(*d0.client, "/big"), big);
}

TEST_F(XenstoreClientTest, WatchesFireOnTheNodeAndBelowUntilUnwatched)
{
    Events ev;
    Watch watch(&Events::record, &ev);
    ASSERT_TRUE(c1.watch(watch, "device").ok());
    c1.poll();
    EXPECT_EQ(ev.take(), Strings{"device"});  // the first event, with the path as given

    ASSERT_TRUE(c0.write("/local/domain/1/device/vif/0/state", "1").ok());
    ASSERT_TRUE(c0.write("/local/domain/1/device", "").ok());
    ASSERT_TRUE(c0.write("/local/domain/1/other", "").ok());
    c1.poll();
    EXPECT_EQ(ev.take(), (Strings{"device/vif/0/state", "device"}));

    // Removing a parent of the watched path fires it with its own path.
    ASSERT_TRUE(c0.rm("/local/domain/1").ok());
    c1.poll();
    EXPECT_EQ(ev.take(), Strings{"device"});

    make_home(c0, 1);
    c1.poll();
    ev.take();
    ASSERT_TRUE(c1.unwatch(watch).ok());
    EXPECT_FALSE(watch.registered());
    ASSERT_TRUE(c0.write("/local/domain/1/device/x", "1").ok());
    c1.poll();
    EXPECT_TRUE(ev.take().empty());
    EXPECT_EQ(err(c1.unwatch(watch)), XEN_EINVAL);
}

TEST_F(XenstoreClientTest, SeveralWatchesAndSpecialPaths)
{
    Events a, b, intro;
    Watch wa(&Events::record, &a), wb(&Events::record, &b), wi(&Events::record, &intro);
    ASSERT_TRUE(c0.watch(wa, "/x").ok());
    ASSERT_TRUE(c0.watch(wb, "/x/y").ok());
    ASSERT_TRUE(c0.watch(wi, "@introduceDomain").ok());
    EXPECT_EQ(err(c0.watch(wa, "/x")), XEN_EEXIST);  // already registered
    c0.poll();
    a.take();
    b.take();
    intro.take();
    ASSERT_TRUE(c0.write("/x/y/z", "1").ok());
    c0.poll();
    EXPECT_EQ(a.take(), Strings{"/x/y/z"});
    EXPECT_EQ(b.take(), Strings{"/x/y/z"});
    w.store().fire_special("@introduceDomain");
    w.run_servers();
    c0.poll();
    EXPECT_EQ(intro.take(), Strings{"@introduceDomain"});
    EXPECT_TRUE(a.take().empty());
    ASSERT_TRUE(c0.unwatch(wa).ok());
    ASSERT_TRUE(c0.unwatch(wb).ok());
    ASSERT_TRUE(c0.unwatch(wi).ok());
}

TEST_F(XenstoreClientTest, WatchCallbacksMayMakeBlockingCalls)
{
    struct Ctx {
        Client* c;
        Strings seen;
    } ctx{&c1, {}};
    Watch watch(
        [](void* p, std::string_view path) {
            auto& x = *static_cast<Ctx*>(p);
            x.seen.push_back(std::string(path) + "=" + read(*x.c, path));
        },
        &ctx);
    ASSERT_TRUE(c1.write("state", "1").ok());
    ASSERT_TRUE(c1.watch(watch, "state").ok());
    ASSERT_TRUE(c0.write("/local/domain/1/state", "2").ok());
    c1.poll();
    EXPECT_EQ(ctx.seen, (Strings{"state=1", "state=2"}));
}

TEST_F(XenstoreClientTest, TransactionRetriesWhileTheCommitConflicts)
{
    ASSERT_TRUE(c1.write("counter", "0").ok());
    int attempts = 0;
    bool interfere = true;
    auto increment = [&](TxId tx) -> Status {
        ++attempts;
        char buf[16];
        auto n = c1.read("counter", buf, tx);
        if (!n) return Err(n.error());
        const int value = std::stoi(std::string(buf, *n));
        if (interfere) {
            interfere = false;
            // Another writer gets in between our read and our commit.
            KEEL_TRY(c0.write("/local/domain/1/counter", "10"));
        }
        return c1.write("counter", std::to_string(value + 1), tx);
    };
    ASSERT_TRUE(c1.transaction(increment).ok());
    EXPECT_EQ(attempts, 2);
    EXPECT_EQ(read(c1, "counter"), "11");  // 10 + 1: the retry saw the other write

    attempts = 0;
    ASSERT_TRUE(c1.transaction(increment).ok());
    EXPECT_EQ(attempts, 1);
    EXPECT_EQ(read(c1, "counter"), "12");
}

TEST_F(XenstoreClientTest, TransactionRetryCanBeBounded)
{
    int attempts = 0;
    const Status s = c1.transaction(
        [&](TxId tx) -> Status {
            ++attempts;
            KEEL_TRY(c1.write("x", "mine", tx));
            return c0.write("/local/domain/1/y", std::to_string(attempts));  // always conflicts
        },
        3);
    EXPECT_EQ(err(s), XEN_EAGAIN);
    EXPECT_EQ(attempts, 3);
    EXPECT_EQ(read(c1, "x"), "<ENOENT>");
}

TEST_F(XenstoreClientTest, TransactionErrorsAbortAndAreReturned)
{
    const Status s = c1.transaction([&](TxId tx) -> Status {
        KEEL_TRY(c1.write("half", "done", tx));
        return c1.write("/local/domain/0/forbidden", "x", tx);
    });
    EXPECT_EQ(err(s), XEN_EACCES);
    EXPECT_EQ(read(c1, "half"), "<ENOENT>");
    // The aborted transaction is gone from the store.
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(c1.transaction([](TxId) -> Status { return {}; }).ok());
}

TEST_F(XenstoreClientTest, ManyRequestsOutstandingAtOnce)
{
    char bufs[6][16];
    Request reqs[6] = {Request(bufs[0]), Request(bufs[1]), Request(bufs[2]),
                       Request(bufs[3]), Request(bufs[4]), Request(bufs[5])};
    for (int i = 0; i < 3; ++i) {
        const std::string path = "/m/" + std::to_string(i);
        const std::string_view args[] = {path};
        ASSERT_TRUE(c0.submit(reqs[i], XS_WRITE, kNoTransaction, args, "v" + std::to_string(i)).ok());
    }
    for (int i = 0; i < 3; ++i) {
        const std::string path = "/m/" + std::to_string(i);
        const std::string_view args[] = {path};
        ASSERT_TRUE(c0.submit(reqs[3 + i], XS_READ, kNoTransaction, args).ok());
    }
    EXPECT_EQ(err(c0.submit(reqs[0], XS_READ, kNoTransaction, {})), XEN_EINVAL);  // still pending
    for (int round = 0; round < 10; ++round) {
        w.run_servers();
        c0.poll();
    }
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(reqs[i].done());
        EXPECT_TRUE(reqs[i].result().ok());
        ASSERT_TRUE(reqs[3 + i].done());
        EXPECT_EQ(std::string(reqs[3 + i].reply().data(), reqs[3 + i].reply().size()), "v" + std::to_string(i));
    }
}

TEST_F(XenstoreClientTest, AbandonedRequestsAndWatchesAreForgottenSafely)
{
    {
        char buf[8];
        Request r(buf);
        const std::string_view args[] = {"/local/domain/1"};
        ASSERT_TRUE(c1.submit(r, XS_READ, kNoTransaction, args).ok());
    }  // gone before its reply
    Events ev;
    {
        Watch watch(&Events::record, &ev);
        ASSERT_TRUE(c1.watch(watch, "gone").ok());
    }
    c1.poll();
    ev.take();
    ASSERT_TRUE(c0.write("/local/domain/1/gone", "x").ok());
    w.run_servers();
    c1.poll();
    EXPECT_TRUE(ev.take().empty());
    EXPECT_EQ(read(c1, "gone"), "x");
}

// The event queue fills while a callback blocks; the watch still fires
// (with its own path) once the queue drains, so nothing is missed.
TEST_F(XenstoreClientTest, EventQueueOverflowStillFiresTheWatch)
{
    struct Ctx {
        Client* c;
        Strings seen;
        bool nested = false;
    } ctx{&c1, {}};
    Watch watch(
        [](void* p, std::string_view path) {
            auto& x = *static_cast<Ctx*>(p);
            x.seen.emplace_back(path);
            if (!x.nested) {
                x.nested = true;
                read(*x.c, "home");  // blocks while the events pile up
            }
        },
        &ctx);
    ASSERT_TRUE(c1.write("home", "h").ok());
    bool burst = false;
    w.meanwhile = [&] {
        if (burst || !ctx.nested) return;
        burst = true;
        // Another domain writes a lot below the watch before the server
        // answers our read: all those events arrive before the reply.
        for (int i = 0; i < 40; ++i) {
            const std::string path = "/local/domain/1/home/" + std::string(200, 'p') + std::to_string(i);
            ASSERT_TRUE(w.store().write(d0.server->id(), kNoTransaction, path, "").ok());
        }
    };
    ASSERT_TRUE(c1.watch(watch, "home").ok());
    for (int i = 0; i < 20; ++i) {
        w.run_servers();
        c1.poll();
    }
    EXPECT_TRUE(burst);
    // The first (initial) event, as many of the burst as fit, then the
    // watch's own path for the rest.
    ASSERT_GE(ctx.seen.size(), 3u);
    EXPECT_EQ(ctx.seen.front(), "home");
    EXPECT_LT(ctx.seen.size(), 41u);
    EXPECT_EQ(ctx.seen.back(), "home");
    ASSERT_TRUE(c1.unwatch(watch).ok());
}

// --- A scripted server: replies in any order ---------------------------------

namespace {

struct Scripted {
    RingPage page;
    ServerRing ring{&page.intf};
    std::string in;
    std::string watch_token;

    struct Req {
        Header h;
        std::string payload;
    };

    std::vector<Req> take()
    {
        char buf[256];
        for (;;) {
            auto n = ring.receive(buf);
            if (!n.ok() || *n == 0) break;
            in.append(buf, *n);
        }
        std::vector<Req> out;
        while (in.size() >= kHeaderSize) {
            auto h = decode_header(std::span<const char, kHeaderSize>(in.data(), kHeaderSize));
            if (in.size() < kHeaderSize + h->len) break;
            out.push_back({*h, in.substr(kHeaderSize, h->len)});
            in.erase(0, kHeaderSize + h->len);
        }
        return out;
    }

    void send(std::uint32_t type, std::uint32_t req_id, const std::string& payload)
    {
        std::string msg(kHeaderSize, '\0');
        encode_header(Header{type, req_id, 0, static_cast<std::uint32_t>(payload.size())},
                      std::span<char, kHeaderSize>(msg.data(), kHeaderSize));
        msg += payload;
        ASSERT_EQ(*ring.send(msg), msg.size());
    }

    // The wait hook while registering watches: answer WATCH with OK.
    static void answer_watches(void* ctx)
    {
        auto& self = *static_cast<Scripted*>(ctx);
        for (auto& r : self.take()) {
            ASSERT_EQ(r.h.type, XS_WATCH);
            self.watch_token = r.payload.substr(r.payload.find('\0') + 1);
            self.watch_token.pop_back();
            self.send(XS_WATCH, r.h.req_id, std::string("OK\0", 3));
        }
    }
};

} // namespace

TEST(XenstoreClientScripted, RepliesInAnyOrderAreMatchedByReqId)
{
    Scripted srv;
    Client c(&srv.page.intf, ClientHooks{nullptr, &Scripted::answer_watches, &srv});
    Events ev;
    Watch watch(&Events::record, &ev);
    ASSERT_TRUE(c.watch(watch, "/w").ok());
    ASSERT_FALSE(srv.watch_token.empty());

    char b1[16], b2[16], b3[64], b4[16];
    Request r1(b1), r2(b2), r3(b3), r4(b4);
    const std::string_view a[] = {"/a"}, b[] = {"/b"}, d[] = {"/d"}, e[] = {"/e"};
    ASSERT_TRUE(c.submit(r1, XS_READ, kNoTransaction, a).ok());
    ASSERT_TRUE(c.submit(r2, XS_READ, kNoTransaction, b).ok());
    ASSERT_TRUE(c.submit(r3, XS_DIRECTORY, kNoTransaction, d).ok());
    ASSERT_TRUE(c.submit(r4, XS_READ, kNoTransaction, e).ok());
    auto reqs = srv.take();
    ASSERT_EQ(reqs.size(), 4u);
    EXPECT_EQ(reqs[0].payload, std::string("/a\0", 3));
    std::vector<std::uint32_t> ids;
    for (auto& r : reqs) ids.push_back(r.h.req_id);
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(std::unique(ids.begin(), ids.end()), ids.end());

    srv.send(XS_DIRECTORY, reqs[2].h.req_id, std::string("x\0y\0", 4));
    srv.send(XS_WATCH_EVENT, 0, std::string("/w/sub\0", 7) + srv.watch_token + '\0');
    srv.send(XS_ERROR, reqs[0].h.req_id, std::string("ENOENT\0", 7));
    srv.send(XS_READ, 0xdeadbeef, "nobody asked");                // unknown id: dropped
    srv.send(XS_WATCH_EVENT, 0, std::string("/w\0keel/999\0", 12));  // unknown token: dropped
    srv.send(XS_DIRECTORY, reqs[3].h.req_id, "wrong type");       // a protocol slip: that request fails
    c.poll();
    EXPECT_TRUE(r1.done());
    EXPECT_TRUE(r2.pending());
    EXPECT_TRUE(r3.done());
    EXPECT_EQ(err(r1.result()), XEN_ENOENT);
    EXPECT_EQ(names(StringList(r3.reply())), (Strings{"x", "y"}));
    EXPECT_EQ(err(r4.result()), XEN_EIO);
    EXPECT_EQ(ev.take(), Strings{"/w/sub"});

    // The last reply comes in one byte at a time.
    std::string msg(kHeaderSize, '\0');
    encode_header(Header{XS_READ, reqs[1].h.req_id, 0, 3}, std::span<char, kHeaderSize>(msg.data(), kHeaderSize));
    msg += "bee";
    for (char ch : msg) {
        EXPECT_TRUE(r2.pending());
        ASSERT_EQ(*srv.ring.send(std::span<const char>(&ch, 1)), 1u);
        c.poll();
    }
    ASSERT_TRUE(r2.done());
    EXPECT_EQ(std::string(r2.reply().data(), r2.reply().size()), "bee");
    EXPECT_FALSE(c.broken());
}
