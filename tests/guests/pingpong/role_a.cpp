// Role A: the side that offers. It grants two of its pages to B, allocates
// the unbound port B binds to, then answers B's steps, checking from its own
// grant table what B's mappings and copies look like to the granter.
#include "event_link.hpp"
#include "grant_entry.hpp"
#include "roles.hpp"
#include "xen_calls.hpp"

namespace pingpong {
namespace {

alignas(kPage) std::uint8_t g_map_page[kPage];   // ref kMapRef: B maps it
alignas(kPage) std::uint8_t g_copy_page[kPage];  // ref kCopyRef: B copies into it

const char* yes_no(bool b) { return b ? "yes" : "no"; }

bool equals(const volatile std::uint8_t* bytes, const char* text)
{
    for (; *text != '\0'; ++bytes, ++text)
        if (*bytes != static_cast<std::uint8_t>(*text)) return false;
    return *bytes == 0;
}

void print_flags(const char* what, const GrantTable& table, grant_ref_t ref)
{
    const std::uint16_t f = table.flags(ref);
    line(what, "%s, %s", yes_no(f & GTF_reading), yes_no(f & GTF_writing));
}

// The byte pattern B copies in (B computes the same one).
std::uint8_t copy_pattern(unsigned i) { return static_cast<std::uint8_t>(0x5a ^ (i * 7)); }

} // namespace

int run_a(const Config& cfg, void* shared_info)
{
    const long frame = map_grant_frame(cfg.grant_region / kPage);
    if (frame != 0) {
        line("a: add_to_physmap grant_table frame 0", "%s", rc_name(frame));
        return 1;
    }
    GrantTable table(cfg.grant_region);
    for (unsigned i = 0; i < sizeof kMessage; ++i) g_map_page[i] = static_cast<std::uint8_t>(kMessage[i]);
    table.grant(kMapRef, cfg.peer, gfn_of(g_map_page));
    table.grant(kCopyRef, cfg.peer, gfn_of(g_copy_page));

    evtchn_port_t port = 0;
    const long alloc = alloc_unbound(cfg.peer, port);
    line("a: alloc_unbound for the peer", "%s, port %u", rc_name(alloc), port);
    if (alloc != 0 || port != kFirstPort) return 1;
    EventLink link(shared_info, port, cfg.wait_by);
    // B rings once it has bound: from then on the channel is up.
    if (link.wait() != 0) return 1;
    line("a: peer bound and rang", "ok");

    if (cfg.bench_round_trips != 0) return bench_round_trips_a(link, cfg.bench_round_trips);

    unsigned done = 0;
    for (; done < kRoundTrips; ++done)
        if (link.notify() != 0 || link.wait() != 0) break;
    line("100 round trips", "%s", done == kRoundTrips ? "ok" : "failed");
    if (done != kRoundTrips) return 1;

    // B has mapped ref kMapRef, read our message and written its reply.
    if (link.wait() != 0) return 1;
    line("a: grant map: peer's reply in the granted page", "%s", yes_no(equals(g_map_page + kReplyOffset, kReply)));
    print_flags("a: grant map: flags while mapped: reading, writing", table, kMapRef);
    line("a: grant revoke while mapped", "%s", table.end_access(kMapRef) ? "revoked (wrong)" : "busy");
    if (link.notify() != 0) return 1;

    // B has unmapped.
    if (link.wait() != 0) return 1;
    print_flags("a: grant map: flags after unmap: reading, writing", table, kMapRef);
    line("a: grant revoke after unmap", "%s", table.end_access(kMapRef) ? "ok" : "busy");
    if (link.notify() != 0) return 1;

    // B has tried the revoked ref, then copied into ref kCopyRef and back.
    if (link.wait() != 0) return 1;
    bool landed = true;
    for (unsigned i = 0; i < kCopyLength; ++i)
        landed = landed && g_copy_page[kCopyOffset + i] == copy_pattern(i);
    landed = landed && g_copy_page[kCopyOffset - 1] == 0 && g_copy_page[kCopyOffset + kCopyLength] == 0;
    line("a: grant copy: peer's bytes in the granted page, nothing around them", "%s", yes_no(landed));
    print_flags("a: grant copy: flags after the copies: reading, writing", table, kCopyRef);
    line("a: grant revoke the copy grant", "%s", table.end_access(kCopyRef) ? "ok" : "busy");

    // Last word: B may stop now.
    return link.notify() == 0 ? 0 : 1;
}

} // namespace pingpong
