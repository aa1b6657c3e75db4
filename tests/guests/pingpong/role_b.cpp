// Role B: the side that uses what A offers. It binds to A's port 1, then maps
// A's page ref kMapRef and copies through ref kCopyRef, one step per event.
#include "event_link.hpp"
#include "roles.hpp"
#include "xen_calls.hpp"

namespace pingpong {
namespace {

// Bounded: A allocates its port within its first few hundred hypercalls.
constexpr unsigned kBindTries = 1000000;

alignas(kPage) std::uint8_t g_copy_out[kPage];
alignas(kPage) std::uint8_t g_copy_back[kPage];

const char* yes_no(bool b) { return b ? "yes" : "no"; }

std::uint8_t copy_pattern(unsigned i) { return static_cast<std::uint8_t>(0x5a ^ (i * 7)); }

// The peer's page is mapped where our stage 1 says Device memory: byte accesses only.
bool equals(const volatile std::uint8_t* bytes, const char* text)
{
    for (; *text != '\0'; ++bytes, ++text)
        if (*bytes != static_cast<std::uint8_t>(*text)) return false;
    return *bytes == 0;
}

void put(volatile std::uint8_t* bytes, const char* text)
{
    do *bytes++ = static_cast<std::uint8_t>(*text);
    while (*text++ != '\0');
}

// The grant-map steps; false if the conversation cannot go on.
bool map_steps(const Config& cfg, const EventLink& link)
{
    const std::uint64_t at = cfg.extended_region;
    const Mapping m = map_grant(cfg.peer, kMapRef, at, false);
    line("b: grant map: map_grant_ref the peer's ref 8", "%s", gntst_name(m.status));
    if (m.status != GNTST_okay) return false;
    auto* page = reinterpret_cast<volatile std::uint8_t*>(at);
    line("b: grant map: the peer's message in the mapped page", "%s", yes_no(equals(page, kMessage)));
    put(page + kReplyOffset, kReply);
    if (link.notify() != 0 || link.wait() != 0) return false;  // A looks at its flags, tries to revoke

    line("b: grant map: unmap_grant_ref", "%s", gntst_name(unmap_grant(at, m.handle)));
    if (link.notify() != 0 || link.wait() != 0) return false;  // A revokes

    const Mapping again = map_grant(cfg.peer, kMapRef, at, false);
    line("b: grant map: map_grant_ref the revoked ref", "%s", gntst_name(again.status));
    if (again.status == GNTST_okay) unmap_grant(at, again.handle);
    return true;
}

} // namespace

int run_b(const Config& cfg, void* shared_info)
{
    evtchn_port_t port = 0;
    long r = -1;
    for (unsigned i = 0; i < kBindTries && r != 0; ++i) {
        r = bind_interdomain(cfg.peer, kFirstPort, port);
        if (r != 0) yield();
    }
    line("b: bind_interdomain to the peer's port 1", "%s", rc_name(r));
    if (r != 0) return 1;
    EventLink link(shared_info, port, cfg.wait_by);
    // Xen raises the new local end once, in case the remote end missed a
    // notification while unbound. A has not sent anything yet, so this one
    // carries nothing: drop it, or every later wait would be one step early.
    line("b: bind_interdomain: our end pending at once", "%s", yes_no(link.pending()));
    link.clear();
    if (link.notify() != 0) return 1;

    if (cfg.bench_round_trips != 0) return bench_round_trips_b(link, cfg.bench_round_trips);

    unsigned done = 0;
    for (; done < kRoundTrips; ++done)
        if (link.wait() != 0 || link.notify() != 0) break;
    if (done != kRoundTrips) return 1;

    if (!map_steps(cfg, link)) return 1;

    for (unsigned i = 0; i < kCopyLength; ++i) g_copy_out[i] = copy_pattern(i);
    line("b: grant copy: into the peer's ref 9", "%s",
         gntst_name(copy_to_grant(g_copy_out, cfg.peer, kCopyRef, kCopyOffset, kCopyLength)));
    const std::int16_t back = copy_from_grant(cfg.peer, kCopyRef, kCopyOffset, g_copy_back, kCopyLength);
    bool same = true;
    for (unsigned i = 0; i < kCopyLength; ++i) same = same && g_copy_back[i] == copy_pattern(i);
    line("b: grant copy: back from the peer's ref 9, bytes match", "%s, %s", gntst_name(back), yes_no(same));
    if (link.notify() != 0) return 1;
    return link.wait() == 0 ? 0 : 1;  // A's last word
}

} // namespace pingpong
