// The xenstore wire format: headers, argument lists, errors, watch events,
// permissions; round trips and hostile input.
//
// <cerrno> comes first on purpose: with EINVAL defined, xs_wire.h defines
// its xsd_errors table, which the error mapping is checked against.
#include <cerrno>
#include <cstdint>
#include <xen/io/xs_wire.h>

#include "sdk_xenstore_test_support.hpp"

#include <cstring>
#include <string>
#include <vector>

using namespace keel;
using namespace keel::guest;
using namespace keel::guest::xenstore;
using namespace keel::guest::xenstore::test;

namespace {

std::span<const char> bytes(const std::string& s) { return {s.data(), s.size()}; }

std::vector<std::string> all(StringList l)
{
    std::vector<std::string> out;
    for (std::string_view s : l) out.emplace_back(s);
    return out;
}

} // namespace

TEST(XenstoreWire, HeaderRoundTripsAndMatchesTheCStruct)
{
    char buf[kHeaderSize];
    encode_header(Header{XS_WRITE, 7, 3, 42}, buf);
    xsd_sockmsg m;
    std::memcpy(&m, buf, sizeof m);
    EXPECT_EQ(m.type, XS_WRITE);
    EXPECT_EQ(m.req_id, 7u);
    EXPECT_EQ(m.tx_id, 3u);
    EXPECT_EQ(m.len, 42u);
    auto h = decode_header(buf);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->type, XS_WRITE);
    EXPECT_EQ(h->req_id, 7u);
    EXPECT_EQ(h->tx_id, 3u);
    EXPECT_EQ(h->len, 42u);
}

TEST(XenstoreWire, HeaderLengthBeyondPayloadMaxIsRejected)
{
    char buf[kHeaderSize];
    encode_header(Header{XS_READ, 1, 0, XENSTORE_PAYLOAD_MAX}, buf);
    EXPECT_TRUE(decode_header(buf).ok());
    for (std::uint32_t len : {XENSTORE_PAYLOAD_MAX + 1u, 65536u, 0x7fffffffu, 0xffffffffu}) {
        encode_header(Header{XS_READ, 1, 0, len}, buf);
        EXPECT_EQ(err(decode_header(buf)), XEN_E2BIG) << len;
    }
}

TEST(XenstoreWire, MessageWriterBuildsArgsAndRawTail)
{
    char buf[kMessageMax];
    MessageWriter w(buf, XS_WRITE, 9, TxId(5));
    w.arg("/a/b").raw(std::string_view("v\0x", 3));
    auto len = w.finish();
    ASSERT_TRUE(len.ok());
    ASSERT_EQ(*len, kHeaderSize + 8);
    auto h = decode_header(std::span<const char, kHeaderSize>(buf, kHeaderSize));
    EXPECT_EQ(h->len, 8u);
    EXPECT_EQ(h->tx_id, 5u);
    EXPECT_EQ(std::string(buf + kHeaderSize, 8), std::string("/a/b\0v\0x", 8));

    ArgReader r(std::span<const char>(buf + kHeaderSize, 8));
    EXPECT_EQ(*r.next(), "/a/b");
    EXPECT_EQ(r.rest(), std::string_view("v\0x", 3));
}

TEST(XenstoreWire, MessageWriterNumbersAndEmptyArgs)
{
    char buf[64];
    MessageWriter w(buf, XS_TRANSACTION_START, 1, kNoTransaction);
    w.arg("").arg(std::uint32_t{4294967295u}).arg(std::uint32_t{0});
    auto len = w.finish();
    ASSERT_TRUE(len.ok());
    EXPECT_EQ(std::string(buf + kHeaderSize, *len - kHeaderSize), std::string("\0" "4294967295\0" "0\0", 14));
}

TEST(XenstoreWire, MessageWriterRejectsOversizeAndEmbeddedNul)
{
    std::vector<char> big(kMessageMax + 100);
    {
        MessageWriter w(big, XS_WRITE, 1, kNoTransaction);
        w.raw(std::string(kPayloadMax, 'x'));
        EXPECT_TRUE(w.finish().ok());  // exactly the maximum is fine
    }
    {
        MessageWriter w(big, XS_WRITE, 1, kNoTransaction);
        w.arg("/p").raw(std::string(kPayloadMax - 2, 'x'));
        EXPECT_EQ(err(w.finish()), XEN_E2BIG);
    }
    {
        char small[kHeaderSize + 4];
        MessageWriter w(small, XS_READ, 1, kNoTransaction);
        w.arg("/abcd");
        EXPECT_EQ(err(w.finish()), XEN_E2BIG);  // the buffer, not the protocol
    }
    {
        char buf[64];
        MessageWriter w(buf, XS_READ, 1, kNoTransaction);
        w.arg(std::string_view("/a\0b", 4));
        EXPECT_EQ(err(w.finish()), XEN_EINVAL);
    }
}

TEST(XenstoreWire, ArgReaderNeverReadsPastThePayload)
{
    const std::string unterminated = "/a/b";
    ArgReader r(bytes(unterminated));
    EXPECT_EQ(err(r.next()), XEN_EINVAL);

    const std::string two("one\0two", 7);
    ArgReader r2(bytes(two));
    EXPECT_EQ(*r2.next(), "one");
    EXPECT_EQ(err(r2.next()), XEN_EINVAL);  // "two" has no terminator
    EXPECT_EQ(r2.rest(), "two");

    ArgReader r3(std::span<const char>{});
    EXPECT_EQ(err(r3.next()), XEN_EINVAL);
    EXPECT_TRUE(r3.empty());
    EXPECT_EQ(r3.rest(), "");
}

TEST(XenstoreWire, StringListSkipsEmptiesAndUnterminatedTails)
{
    EXPECT_TRUE(all(StringList({})).empty());
    EXPECT_TRUE(all(StringList(bytes(std::string("\0", 1)))).empty());
    EXPECT_EQ(all(StringList(bytes(std::string("a\0bc\0", 5)))), (std::vector<std::string>{"a", "bc"}));
    const std::string tail("a\0bc", 4);
    StringList l(bytes(tail));
    EXPECT_FALSE(l.valid());
    EXPECT_EQ(all(l), (std::vector<std::string>{"a"}));
    EXPECT_EQ(l.count(), 1u);
    EXPECT_TRUE(all(StringList(bytes("abc"))).empty());
}

// Every entry of xs_wire.h's own table decodes to the Xen errno of the same
// name, whose value here is the host's (Linux shares Xen's numbering for
// all of them), and encodes back to the same name.
TEST(XenstoreWire, ErrorNamesCoverXsdErrorsTable)
{
    for (const auto& e : xsd_errors) {
        const Errno x = error_from_wire(e.errstring);
        EXPECT_EQ(static_cast<int>(x), e.errnum) << e.errstring;
        EXPECT_EQ(error_to_wire(x), e.errstring);
    }
}

TEST(XenstoreWire, ErrorRepliesDecodeHostileInputToEinval)
{
    EXPECT_EQ(decode_error(bytes(std::string("EACCES\0", 7))), XEN_EACCES);
    EXPECT_EQ(decode_error(bytes(std::string("EAGAIN\0", 7))), XEN_EAGAIN);
    EXPECT_EQ(decode_error(bytes("EACCES")), XEN_EINVAL);  // no terminator
    EXPECT_EQ(decode_error(bytes(std::string("EBOGUS\0", 7))), XEN_EINVAL);
    EXPECT_EQ(decode_error(bytes(std::string("OK\0", 3))), XEN_EINVAL);
    EXPECT_EQ(decode_error({}), XEN_EINVAL);
}

TEST(XenstoreWire, WatchEventDecoding)
{
    const std::string payload("/a/b\0tok\0", 9);
    auto ev = decode_watch_event(bytes(payload));
    ASSERT_TRUE(ev.ok());
    EXPECT_EQ(ev->path, "/a/b");
    EXPECT_EQ(ev->token, "tok");
    EXPECT_TRUE(decode_watch_event(bytes(std::string("/a\0\0", 4))).ok());  // empty token is legal
    EXPECT_TRUE(decode_watch_event(bytes(std::string("/a\0t\0extra\0", 11))).ok());
    EXPECT_EQ(err(decode_watch_event(bytes(std::string("/a\0tok", 6)))), XEN_EINVAL);
    EXPECT_EQ(err(decode_watch_event(bytes(std::string("/a\0", 3)))), XEN_EINVAL);
    EXPECT_EQ(err(decode_watch_event(bytes(std::string("\0tok\0", 5)))), XEN_EINVAL);
    EXPECT_EQ(err(decode_watch_event({})), XEN_EINVAL);
}

TEST(XenstoreWire, DecimalNumbers)
{
    EXPECT_EQ(*parse_decimal("0"), 0u);
    EXPECT_EQ(*parse_decimal("4294967295"), 4294967295u);
    for (const char* bad : {"", "4294967296", "99999999999", "-1", "+1", "1a", " 1", "0x10"})
        EXPECT_EQ(err(parse_decimal(bad)), XEN_EINVAL) << bad;
    char buf[10];
    EXPECT_EQ(std::string(buf, format_decimal(0, buf)), "0");
    EXPECT_EQ(std::string(buf, format_decimal(4294967295u, buf)), "4294967295");
}

TEST(XenstoreWire, PermissionsRoundTripAndRejectGarbage)
{
    for (const char* text : {"n0", "r5", "w65535", "b1"}) {
        auto p = parse_permission(text);
        ASSERT_TRUE(p.ok()) << text;
        char out[kPermissionTextMax];
        EXPECT_EQ(std::string(out, format_permission(*p, out)), text);
    }
    EXPECT_EQ(parse_permission("b7")->access, Access::both);
    EXPECT_EQ(parse_permission("b7")->domain, DomainId(7));
    for (const char* bad : {"", "r", "x1", "r65536", "r-1", "R1", "r 1", "rr1", "n"})
        EXPECT_EQ(err(parse_permission(bad)), XEN_EINVAL) << bad;
}
