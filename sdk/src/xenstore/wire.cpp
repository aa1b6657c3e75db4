#include <cstring>
#include <keel/guest/xenstore/wire.hpp>

#include "slice.hpp"

namespace keel::guest::xenstore {

namespace {

struct ErrnoEntry {
    int value;
    const char* name;
};

// Xen's errno list, expanded from the public header (aliases such as
// EWOULDBLOCK follow the name they alias, so value -> name finds the first).
constexpr ErrnoEntry kErrnos[] = {
#define XEN_ERRNO(name, value) {value, #name},
#include <xen/errno.h>
};

} // namespace

void encode_header(const Header& h, std::span<char, kHeaderSize> out)
{
    const xsd_sockmsg m{h.type, h.req_id, h.tx_id, h.len};
    std::memcpy(out.data(), &m, sizeof m);
}

Result<Header> decode_header(std::span<const char, kHeaderSize> in)
{
    xsd_sockmsg m;
    std::memcpy(&m, in.data(), sizeof m);
    if (m.len > kPayloadMax) return Err(Errno::XEN_E2BIG);
    return Header{m.type, m.req_id, m.tx_id, m.len};
}

MessageWriter::MessageWriter(std::span<char> out, std::uint32_t type, std::uint32_t req_id, TxId tx)
    : out_(out), h_{type, req_id, tx.raw(), 0}
{
    if (out_.size() < kHeaderSize) error_ = Errno::XEN_E2BIG;
}

void MessageWriter::append(const char* p, std::size_t n)
{
    if (error_ != Errno::OK) return;
    if (n > kPayloadMax - len_ || kHeaderSize + len_ + n > out_.size()) {
        error_ = Errno::XEN_E2BIG;
        return;
    }
    if (n) std::memcpy(out_.data() + kHeaderSize + len_, p, n);
    len_ += n;
}

MessageWriter& MessageWriter::arg(std::string_view s)
{
    // A nul inside would split the argument in two on the other side.
    if (s.find('\0') != std::string_view::npos && error_ == Errno::OK) error_ = Errno::XEN_EINVAL;
    append(s.data(), s.size());
    append("", 1);
    return *this;
}

MessageWriter& MessageWriter::arg(std::uint32_t decimal)
{
    char buf[10];
    append(buf, format_decimal(decimal, buf));
    append("", 1);
    return *this;
}

MessageWriter& MessageWriter::raw(std::string_view bytes)
{
    append(bytes.data(), bytes.size());
    return *this;
}

Result<std::size_t> MessageWriter::finish()
{
    if (error_ != Errno::OK) return Err(error_);
    Header h = h_;
    h.len = static_cast<std::uint32_t>(len_);
    encode_header(h, out_.first<kHeaderSize>());
    return kHeaderSize + len_;
}

Result<std::string_view> ArgReader::next()
{
    if (pos_ >= p_.size()) return Err(Errno::XEN_EINVAL);
    const char* start = p_.data() + pos_;
    const void* nul = std::memchr(start, '\0', p_.size() - pos_);
    if (!nul) return Err(Errno::XEN_EINVAL);
    const std::size_t n = static_cast<const char*>(nul) - start;
    pos_ += n + 1;
    return std::string_view(start, n);
}

std::string_view ArgReader::rest() const
{
    if (pos_ >= p_.size()) return {};
    return std::string_view(p_.data() + pos_, p_.size() - pos_);
}

std::size_t StringList::terminated_size() const
{
    std::size_t n = p_.size();
    while (n > 0 && p_[n - 1] != '\0') --n;
    return n;
}

std::size_t StringList::count() const
{
    std::size_t n = 0;
    for (auto it = begin(); it != end(); ++it) ++n;
    return n;
}

void StringList::iterator::skip_empty()
{
    while (pos_ < p_.size() && p_[pos_] == '\0') ++pos_;
}

std::string_view StringList::iterator::operator*() const
{
    // p_ ends with a nul (the iterator only sees the terminated part), so
    // strlen stops inside it.
    const char* start = p_.data() + pos_;
    return std::string_view(start, std::strlen(start));
}

StringList::iterator& StringList::iterator::operator++()
{
    pos_ += (**this).size() + 1;
    skip_empty();
    return *this;
}

Errno error_from_wire(std::string_view name)
{
    for (const auto& e : kErrnos)
        if (name == e.name) return static_cast<Errno>(e.value);
    return Errno::XEN_EINVAL;
}

std::string_view error_to_wire(Errno e) { return keel::errno_name(e); }

Errno decode_error(std::span<const char> payload)
{
    ArgReader r(payload);
    auto name = r.next();
    if (!name) return Errno::XEN_EINVAL;
    const Errno e = error_from_wire(*name);
    // An error reply that decodes to "success" would complete a request as if
    // it had worked.
    return e == Errno::OK ? Errno::XEN_EINVAL : e;
}

Result<WatchEvent> decode_watch_event(std::span<const char> payload)
{
    ArgReader r(payload);
    auto path = r.next();
    if (!path || path->empty()) return Err(Errno::XEN_EINVAL);
    auto token = r.next();
    if (!token) return Err(Errno::XEN_EINVAL);
    return WatchEvent{*path, *token};
}

Result<std::uint32_t> parse_decimal(std::string_view s)
{
    if (s.empty() || s.size() > 10) return Err(Errno::XEN_EINVAL);
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return Err(Errno::XEN_EINVAL);
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (v > 0xffffffffu) return Err(Errno::XEN_EINVAL);
    return static_cast<std::uint32_t>(v);
}

std::size_t format_decimal(std::uint32_t v, std::span<char> out)
{
    char tmp[10];
    std::size_t n = 0;
    do {
        tmp[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v);
    if (n > out.size()) return 0;
    for (std::size_t i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
    return n;
}

Result<Permission> parse_permission(std::string_view s)
{
    if (s.size() < 2) return Err(Errno::XEN_EINVAL);
    Access a;
    switch (s[0]) {
    case 'n': a = Access::none; break;
    case 'r': a = Access::read; break;
    case 'w': a = Access::write; break;
    case 'b': a = Access::both; break;
    default: return Err(Errno::XEN_EINVAL);
    }
    auto dom = parse_decimal(slice(s, 1));
    if (!dom || *dom > 0xffff) return Err(Errno::XEN_EINVAL);
    return Permission{DomainId(static_cast<std::uint16_t>(*dom)), a};
}

std::size_t format_permission(Permission p, std::span<char, kPermissionTextMax> out)
{
    static constexpr char kLetters[] = {'n', 'r', 'w', 'b'};
    out[0] = kLetters[static_cast<unsigned>(p.access) & 3];
    return 1 + format_decimal(p.domain.raw(), out.subspan(1));
}

} // namespace keel::guest::xenstore
