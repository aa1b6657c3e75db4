// The xenbus handshake (<xen/io/xenbus.h>, docs/misc/xenstore.txt) as pure
// transition functions: given my state, the other end's state and whether I
// want to be connected, what do I do and which state do I write next.
//
// The two ends, as Linux's xen-blkfront/xen-blkback and libxl drive them:
//
//   frontend        backend
//   Initialising    Initialising
//                   InitWait       backend published its features
//   Initialised                    frontend published ring-ref, event-channel
//                   Connected      backend mapped the ring
//   Connected                      frontend connected its data path
//   Closing / Closed on either side: the other end disconnects and closes.
//
// Reconnect: a frontend whose backend went away (Closed, or its state node
// vanished) closes; once both ends are Closed, an online frontend resets to
// Initialising, and an online backend that sees a Closed -> Initialising
// frontend goes back to InitWait (Linux blkback's "prepare for reconnect").
//
// The other end is hostile until proven otherwise: a state node that is not
// a decimal XenbusState, or names a state this handshake does not use
// (Unknown, Reconfiguring, Reconfigured), counts as Closing: the data path
// is taken down and the device closes. A missing (or, to us, unreadable)
// state node counts as Closed (the other end is gone). Nothing here can loop: every step either
// writes a state that the next evaluation does not write again or is
// Action::none with nothing to write.
#pragma once

#include <cstddef>
#include <cstdint>
#include <keel/guest/types.hpp>
#include <optional>
#include <span>
#include <string_view>
#include <xen/io/xenbus.h>

namespace keel::guest::xenbus {

// What the local driver does before the state in Step::write is written.
enum class Action : std::uint8_t {
    none,
    publish,     // write my keys (frontend: ring-ref, event-channel; backend: features)
    connect,     // read the other end's keys, start the data path
    disconnect,  // stop the data path and withdraw what publish set up
};

struct Step {
    Action action = Action::none;
    std::optional<XenbusState> write;  // the state to write after the action
    constexpr bool idle() const { return action == Action::none && !write; }
    constexpr bool operator==(const Step&) const = default;
};

// `online`: the local end wants to be connected. false drives it to Closed
// (through Closing when the other end has to see that first) and keeps it
// there.
Step frontend_step(XenbusState mine, XenbusState peer, bool online);
Step backend_step(XenbusState mine, XenbusState peer, bool online);

// A state node's value: decimal 0..8, nothing else (no sign, spaces or nul).
// XEN_EINVAL otherwise.
Result<XenbusState> parse_state(std::string_view text);
// The decimal text of `s` ("4"); a static string.
std::string_view state_text(XenbusState s);
// "Connected" etc., for logs; "?" for a value outside the enum.
std::string_view state_name(XenbusState s);

// The other end's state as the handshake should see it, from a read of its
// state node: missing or unreadable (ENOENT, EACCES) -> Closed; any other
// read error, unparsable or unused by the handshake -> Closing, and
// `hostile` set.
struct PeerState {
    XenbusState state;
    bool hostile;
};
PeerState peer_state(Errno read_error, std::string_view text);

} // namespace keel::guest::xenbus
