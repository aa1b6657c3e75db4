// The xenstore ring transport on a real xenstore_domain_interface page:
// wrapping, partial transfers, and a peer that lies about its indices or
// its message lengths.
#include "sdk_xenstore_test_support.hpp"

#include <cstring>
#include <numeric>
#include <string>
#include <vector>

using namespace keel;
using namespace keel::guest;
using namespace keel::guest::xenstore;
using namespace keel::guest::xenstore::test;

namespace {

std::vector<char> pattern(std::size_t n, int seed)
{
    std::vector<char> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<char>((i * 7 + seed) & 0xff);
    return v;
}

// Moves `data` through the request ring, client to server, in whatever
// pieces the ring allows.
std::vector<char> through_req(ClientRing& c, ServerRing& s, const std::vector<char>& data)
{
    std::vector<char> got;
    std::size_t sent = 0;
    char buf[300];
    while (got.size() < data.size()) {
        auto n = c.send(std::span<const char>(data).subspan(sent));
        EXPECT_TRUE(n.ok());
        sent += *n;
        auto r = s.receive(buf);
        EXPECT_TRUE(r.ok());
        got.insert(got.end(), buf, buf + *r);
    }
    return got;
}

} // namespace

TEST(XenstoreRing, BytesSurviveWrappingOfRingAndIndices)
{
    for (XENSTORE_RING_IDX start : {0u, 1000u, 0xfffffc00u, 0xffffffffu - 5u}) {
        RingPage page;
        page.intf.req_cons = page.intf.req_prod = start;
        page.intf.rsp_cons = page.intf.rsp_prod = start;
        ClientRing c(&page.intf);
        ServerRing s(&page.intf);
        for (std::size_t size : {1u, 17u, 1023u, 1024u, 1025u, 5000u}) {
            const auto data = pattern(size, static_cast<int>(size));
            EXPECT_EQ(through_req(c, s, data), data) << start << " " << size;
        }
        // And the other way.
        const auto data = pattern(3000, 3);
        std::vector<char> got;
        std::size_t sent = 0;
        char buf[128];
        while (got.size() < data.size()) {
            sent += *s.send(std::span<const char>(data).subspan(sent));
            auto r = c.receive(buf);
            ASSERT_TRUE(r.ok());
            got.insert(got.end(), buf, buf + *r);
        }
        EXPECT_EQ(got, data);
    }
}

TEST(XenstoreRing, AFullRingTakesWhatFits)
{
    RingPage page;
    ClientRing c(&page.intf);
    ServerRing s(&page.intf);
    const auto data = pattern(1500, 1);
    EXPECT_EQ(*c.send(data), kRingSize);
    EXPECT_EQ(*c.send(data), 0u);
    char buf[100];
    EXPECT_EQ(*s.receive(buf), 100u);
    EXPECT_EQ(*c.send(std::span<const char>(data).subspan(kRingSize)), 100u);
    EXPECT_EQ(page.intf.req_prod - page.intf.req_cons, kRingSize);
}

TEST(XenstoreRing, HostileIndicesAreProtocolErrors)
{
    char buf[16] = {};
    {
        RingPage page;
        ClientRing c(&page.intf);
        page.intf.rsp_prod = kRingSize + 1;  // more in flight than the ring holds
        EXPECT_EQ(err(c.receive(buf)), XEN_EIO);
    }
    {
        RingPage page;
        ClientRing c(&page.intf);
        page.intf.req_cons = 1;  // the consumer claims to be ahead of us
        EXPECT_EQ(err(c.send(buf)), XEN_EIO);
    }
    {
        RingPage page;
        ClientRing c(&page.intf);
        page.intf.req_cons = 0x80000000u;
        EXPECT_EQ(err(c.send(buf)), XEN_EIO);
    }
    {
        RingPage page;
        ServerRing s(&page.intf);
        page.intf.req_prod = 0xffffffffu;  // "behind" by one: a huge distance
        EXPECT_EQ(err(s.receive(buf)), XEN_EIO);
    }
    {
        RingPage page;
        ServerRing s(&page.intf);
        page.intf.rsp_cons = 2000;
        EXPECT_EQ(err(s.send(buf)), XEN_EIO);
    }
    {
        // Exactly a full ring in flight is legal.
        RingPage page;
        ClientRing c(&page.intf);
        page.intf.rsp_prod = kRingSize;
        EXPECT_EQ(*c.receive(buf), sizeof buf);
    }
}

// Our own published index is not trusted either: we keep a private copy,
// so a peer scribbling on it cannot make us skip or rewrite data.
TEST(XenstoreRing, ScribbledOwnIndexIsIgnored)
{
    RingPage page;
    ClientRing c(&page.intf);
    ServerRing s(&page.intf);
    const auto data = pattern(10, 9);
    ASSERT_EQ(*c.send(data), 10u);
    page.intf.req_prod = 500;
    ASSERT_EQ(*c.send(data), 10u);
    EXPECT_EQ(page.intf.req_prod, 20u);
    char buf[64];
    ASSERT_EQ(*s.receive(buf), 20u);
    EXPECT_EQ(std::memcmp(buf, data.data(), 10), 0);
    EXPECT_EQ(std::memcmp(buf + 10, data.data(), 10), 0);
}

TEST(XenstoreRing, ServerAdvertisesErrorReporting)
{
    RingPage page;
    ServerRing s(&page.intf);
    EXPECT_EQ(page.intf.server_features & XENSTORE_SERVER_FEATURE_ERROR,
              std::uint32_t{XENSTORE_SERVER_FEATURE_ERROR});
    EXPECT_EQ(page.intf.error, std::uint32_t{XENSTORE_ERROR_NONE});
}

TEST(XenstoreRing, ServerDropsAGuestWithBadIndices)
{
    XsWorld w;
    auto& d1 = w.add(1);
    ASSERT_TRUE(w.store().connected(DomainId(1)));
    d1.page->intf.req_prod = d1.page->intf.req_cons + kRingSize + 1;
    d1.server->poll();
    EXPECT_TRUE(d1.server->broken());
    EXPECT_EQ(d1.page->intf.error, std::uint32_t{XENSTORE_ERROR_RINGIDX});
    EXPECT_FALSE(w.store().connected(DomainId(1)));
    EXPECT_GT(d1.server_notifies, 0);
}

TEST(XenstoreRing, ServerDropsAGuestSendingAnOversizedMessage)
{
    XsWorld w;
    auto& d1 = w.add(1);
    ClientRing raw(&d1.page->intf);
    char h[kHeaderSize];
    encode_header(Header{XS_WRITE, 1, 0, XENSTORE_PAYLOAD_MAX + 1}, h);
    ASSERT_EQ(*raw.send(h), kHeaderSize);
    d1.server->poll();
    EXPECT_TRUE(d1.server->broken());
    EXPECT_EQ(d1.page->intf.error, std::uint32_t{XENSTORE_ERROR_PROTO});
    EXPECT_FALSE(w.store().connected(DomainId(1)));
}

TEST(XenstoreRing, ServerTakesRequestsInPieces)
{
    XsWorld w;
    auto& d0 = w.add(0);
    ClientRing raw(&d0.page->intf);
    char msg[kMessageMax];
    MessageWriter mw(msg, XS_WRITE, 5, kNoTransaction);
    mw.arg("/piecewise").raw("value");
    const std::size_t len = *mw.finish();
    for (std::size_t i = 0; i < len; ++i) {
        ASSERT_EQ(*raw.send(std::span<const char>(msg + i, 1)), 1u);
        d0.server->poll();
    }
    char reply[64];
    auto n = raw.receive(reply);
    ASSERT_TRUE(n.ok());
    ASSERT_GE(*n, kHeaderSize);
    auto h = decode_header(std::span<const char, kHeaderSize>(reply, kHeaderSize));
    EXPECT_EQ(h->type, XS_WRITE);
    EXPECT_EQ(h->req_id, 5u);
    char value[16];
    auto v = w.store().read(d0.server->id(), kNoTransaction, "/piecewise", value);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(std::string(value, *v), "value");
}

TEST(XenstoreRing, ClientBreaksOnHostileIndicesAndFailsEverything)
{
    XsWorld w;
    auto& d0 = w.add(0);
    Client& c = *d0.client;
    ASSERT_TRUE(c.write("/x", "1").ok());
    char buf[8];
    Request pending(buf);
    const std::string_view args[] = {"/x"};
    ASSERT_TRUE(c.submit(pending, XS_READ, kNoTransaction, args).ok());
    d0.page->intf.rsp_prod += 5000;
    c.poll();
    EXPECT_TRUE(c.broken());
    EXPECT_TRUE(pending.done());
    EXPECT_EQ(err(pending.result()), XEN_EIO);
    EXPECT_EQ(err(c.read("/x", buf)), XEN_EIO);
    EXPECT_EQ(err(c.write("/x", "2")), XEN_EIO);
}

TEST(XenstoreRing, ClientBreaksOnAnOversizedReply)
{
    RingPage page;
    Client c(&page.intf, {});
    ServerRing s(&page.intf);
    char buf[8];
    Request r(buf);
    const std::string_view args[] = {"/x"};
    ASSERT_TRUE(c.submit(r, XS_READ, kNoTransaction, args).ok());
    char h[kHeaderSize];
    encode_header(Header{XS_READ, 1, 0, XENSTORE_PAYLOAD_MAX + 1}, h);
    ASSERT_EQ(*s.send(h), kHeaderSize);
    c.poll();
    EXPECT_TRUE(c.broken());
    EXPECT_EQ(err(r.result()), XEN_EIO);
}
