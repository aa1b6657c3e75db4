// The xenstore wire format (<xen/io/xs_wire.h>, docs/misc/xenstore.txt): a
// 16-byte `struct xsd_sockmsg` header, then `len` bytes of payload, at most
// XENSTORE_PAYLOAD_MAX. Payloads are nul-terminated strings, except WRITE's
// value (raw bytes to the end) and READ's reply (the raw value).
//
// Everything here works on caller-provided buffers and treats incoming bytes
// as hostile: a length beyond the payload maximum, a missing terminator or a
// malformed number is an error, never a read past the buffer.
//
// Errors travel as errno *names* ("EINVAL\0"). The name <-> value mapping is
// Xen's own errno list (<xen/errno.h>), not a retyped copy of xs_wire.h's
// xsd_errors table: that table only exists when the includer has <errno.h>
// (never in freestanding code) and would carry the host's values, not Xen's.
// Every name in xsd_errors is a Xen errno name, so decoding covers the table
// (a host test checks this against the table itself); a name that is not a
// Xen errno decodes to EINVAL, as libxenstore does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <keel/guest/types.hpp>
#include <span>
#include <stdint.h>  // xs_wire.h names the global uint32_t
#include <string_view>
#include <xen/io/xs_wire.h>

namespace keel::guest::xenstore {

inline constexpr std::size_t kHeaderSize = sizeof(xsd_sockmsg);
inline constexpr std::size_t kPayloadMax = XENSTORE_PAYLOAD_MAX;
inline constexpr std::size_t kMessageMax = kHeaderSize + kPayloadMax;
inline constexpr std::size_t kAbsPathMax = XENSTORE_ABS_PATH_MAX;
inline constexpr std::size_t kRelPathMax = XENSTORE_REL_PATH_MAX;

struct TxIdTag;
using TxId = Strong<TxIdTag, std::uint32_t>;
inline constexpr TxId kNoTransaction{0};

// The header, host byte order (guest and xenstored share one endianness; the
// header is a plain C struct on the ring).
struct Header {
    std::uint32_t type = XS_INVALID;
    std::uint32_t req_id = 0;
    std::uint32_t tx_id = 0;
    std::uint32_t len = 0;
};

void encode_header(const Header& h, std::span<char, kHeaderSize> out);
// E2BIG if len exceeds XENSTORE_PAYLOAD_MAX: the peer broke the protocol and
// the stream cannot be resynchronised. The type is not checked here.
Result<Header> decode_header(std::span<const char, kHeaderSize> in);

// Builds one message (header + payload) in `out`; finish() fills in `len`.
// Errors are sticky: the first one is what finish() reports.
class MessageWriter {
public:
    MessageWriter(std::span<char> out, std::uint32_t type, std::uint32_t req_id, TxId tx);

    MessageWriter& arg(std::string_view s);     // s, then a nul; EINVAL if s holds a nul
    MessageWriter& arg(std::uint32_t decimal);  // the number in decimal, then a nul
    MessageWriter& raw(std::string_view bytes); // as is (WRITE's value, READ's reply)

    // The whole message's length; E2BIG if the payload passed
    // XENSTORE_PAYLOAD_MAX or the buffer.
    Result<std::size_t> finish();
    std::size_t payload_size() const { return len_; }

private:
    void append(const char* p, std::size_t n);

    std::span<char> out_;
    Header h_;
    std::size_t len_ = 0;
    Errno error_ = Errno::OK;
};

// Reads nul-terminated arguments off a payload, left to right.
class ArgReader {
public:
    explicit ArgReader(std::span<const char> payload) : p_(payload) {}

    // The next string (without its nul); EINVAL if none is left or the last
    // one is not terminated inside the payload.
    Result<std::string_view> next();
    // Whatever is left, unterminated (WRITE's value).
    std::string_view rest() const;
    bool empty() const { return pos_ >= p_.size(); }

private:
    std::span<const char> p_;
    std::size_t pos_ = 0;
};

// A payload that is a list of nul-terminated strings ("<name>|*"): iterate
// with for (std::string_view s : StringList(payload)). Empty strings (a lone
// nul some servers send for an empty directory) are skipped; an unterminated
// tail is ignored (valid() says whether there was one).
class StringList {
public:
    explicit StringList(std::span<const char> payload) : p_(payload) {}
    bool valid() const { return p_.empty() || p_.back() == '\0'; }
    std::size_t count() const;

    class iterator {
    public:
        iterator(std::span<const char> terminated, std::size_t pos) : p_(terminated), pos_(pos)
        {
            skip_empty();
        }
        std::string_view operator*() const;
        iterator& operator++();
        bool operator==(const iterator& o) const { return pos_ == o.pos_; }

    private:
        void skip_empty();
        std::span<const char> p_;
        std::size_t pos_;
    };
    iterator begin() const { return iterator(p_.first(terminated_size()), 0); }
    iterator end() const { return iterator(p_.first(terminated_size()), terminated_size()); }

private:
    std::size_t terminated_size() const;
    std::span<const char> p_;
};

// Error replies: the errno name. Unknown names are EINVAL.
Errno error_from_wire(std::string_view name);
std::string_view error_to_wire(Errno e);
// An XS_ERROR payload ("EACCES\0") as an errno; EINVAL if it is malformed.
Errno decode_error(std::span<const char> payload);

// XS_WATCH_EVENT: "<path>|<token>|". Both must be present and terminated and
// the path non-empty; anything after the token is ignored (reserved).
struct WatchEvent {
    std::string_view path;
    std::string_view token;
};
Result<WatchEvent> decode_watch_event(std::span<const char> payload);

// Decimal numbers as xenstore writes them (domids, transaction ids): digits
// only, no sign, no leading '+', nothing after; EINVAL past UINT32_MAX.
Result<std::uint32_t> parse_decimal(std::string_view s);
// Writes `v` in decimal into out (at least 10 bytes); returns the length.
std::size_t format_decimal(std::uint32_t v, std::span<char> out);

// Permissions, as xenstored keeps them: the first entry names the owner (who
// may do anything) and the access of every domain not listed; later entries
// give one domain's access. Dom0 may do anything anywhere.
enum class Access : std::uint8_t {
    none = 0,   // 'n'
    read = 1,   // 'r'
    write = 2,  // 'w'
    both = 3,   // 'b'
};
struct Permission {
    DomainId domain;
    Access access = Access::none;
    constexpr bool operator==(const Permission&) const = default;
};
inline constexpr std::size_t kPermissionTextMax = 7;  // "b65535" and a nul

// "r5" -> {5, read}; EINVAL for anything else (unknown letter, bad or
// out-of-range domid).
Result<Permission> parse_permission(std::string_view s);
// Writes e.g. "b65535" (no nul) into out; returns its length.
std::size_t format_permission(Permission p, std::span<char, kPermissionTextMax> out);

} // namespace keel::guest::xenstore
