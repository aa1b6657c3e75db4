// The handshake tables. Each function first reduces its inputs to the states
// the handshake uses, then reads as a table: one switch on the case that
// decides, one line per answer.
#include <keel/guest/xenbus/state.hpp>

namespace keel::guest::xenbus {
namespace {

constexpr Step none() { return {}; }
constexpr Step write(XenbusState s) { return {Action::none, s}; }
constexpr Step act(Action a, XenbusState s) { return {a, s}; }

// The peer states the handshake understands; anything else is a peer that is
// closing (on purpose or because it is broken).
constexpr XenbusState reduce_peer(XenbusState s)
{
    switch (s) {
    case XenbusStateInitialising:
    case XenbusStateInitWait:
    case XenbusStateInitialised:
    case XenbusStateConnected:
    case XenbusStateClosing:
    case XenbusStateClosed:
        return s;
    default:
        return XenbusStateClosing;
    }
}

} // namespace

Step frontend_step(XenbusState mine, XenbusState peer, bool online)
{
    peer = reduce_peer(peer);
    switch (mine) {
    case XenbusStateInitialising:
    case XenbusStateInitialised:
    case XenbusStateConnected:
    case XenbusStateClosing:
    case XenbusStateClosed:
        break;
    default:  // not a frontend state: we cannot know what is set up
        return act(Action::disconnect, XenbusStateClosed);
    }
    const bool published = mine == XenbusStateInitialised || mine == XenbusStateConnected;

    if (!online) {
        switch (mine) {
        case XenbusStateInitialising: return write(XenbusStateClosed);
        case XenbusStateClosing:
            // The backend has seen our Closing once it moved off Connected.
            return peer == XenbusStateConnected || peer == XenbusStateInitialised
                       ? none()
                       : write(XenbusStateClosed);
        case XenbusStateClosed: return none();
        default: return act(Action::disconnect, XenbusStateClosing);
        }
    }

    if (mine == XenbusStateClosing) {
        // Reopened while closing: finish closing once the backend reacted.
        return peer == XenbusStateConnected ? none() : write(XenbusStateClosed);
    }
    switch (peer) {
    case XenbusStateInitialising:
        if (mine == XenbusStateConnected) return act(Action::disconnect, XenbusStateClosed);
        if (mine == XenbusStateClosed) return write(XenbusStateInitialising);  // reset
        return none();
    case XenbusStateInitWait:
    case XenbusStateInitialised:
        if (mine == XenbusStateInitialising) return act(Action::publish, XenbusStateInitialised);
        if (mine == XenbusStateConnected) return act(Action::disconnect, XenbusStateClosed);
        if (mine == XenbusStateClosed) return write(XenbusStateInitialising);  // reset
        return none();
    case XenbusStateConnected:
        if (mine == XenbusStateInitialising) return act(Action::publish, XenbusStateInitialised);
        if (mine == XenbusStateInitialised) return act(Action::connect, XenbusStateConnected);
        return none();  // Connected; or Closed, and the backend has yet to notice
    case XenbusStateClosing:
        if (published) return act(Action::disconnect, XenbusStateClosed);
        if (mine == XenbusStateInitialising) return write(XenbusStateClosed);
        return none();
    default:  // Closed: the backend is gone
        if (published) return act(Action::disconnect, XenbusStateClosed);
        if (mine == XenbusStateClosed) return write(XenbusStateInitialising);  // reset
        return none();  // Initialising: wait for it to come back
    }
}

Step backend_step(XenbusState mine, XenbusState peer, bool online)
{
    peer = reduce_peer(peer);
    switch (mine) {
    case XenbusStateInitialising:
    case XenbusStateInitWait:
    case XenbusStateConnected:
    case XenbusStateClosing:
    case XenbusStateClosed:
        break;
    default:  // not a backend state
        return act(Action::disconnect, XenbusStateClosed);
    }

    if (!online) {
        switch (mine) {
        case XenbusStateInitialising: return write(XenbusStateClosed);
        case XenbusStateClosing:
            return peer == XenbusStateClosed || peer == XenbusStateInitialising
                       ? write(XenbusStateClosed)
                       : none();
        case XenbusStateClosed: return none();
        default: return act(Action::disconnect, XenbusStateClosing);
        }
    }

    switch (mine) {
    case XenbusStateInitialising:
        return act(Action::publish, XenbusStateInitWait);
    case XenbusStateInitWait:
        switch (peer) {
        case XenbusStateInitialised:
        case XenbusStateConnected: return act(Action::connect, XenbusStateConnected);
        case XenbusStateClosing: return act(Action::disconnect, XenbusStateClosing);
        case XenbusStateClosed: return act(Action::disconnect, XenbusStateClosed);
        default: return none();
        }
    case XenbusStateConnected:
        switch (peer) {
        case XenbusStateInitialised:
        case XenbusStateConnected: return none();
        case XenbusStateClosing: return act(Action::disconnect, XenbusStateClosing);
        default:  // Closed, or a frontend that reset under us
            return act(Action::disconnect, XenbusStateClosed);
        }
    case XenbusStateClosing:
        return peer == XenbusStateClosed || peer == XenbusStateInitialising
                   ? write(XenbusStateClosed)
                   : none();
    default:  // Closed: a frontend back at Initialising wants to reconnect
        return peer == XenbusStateInitialising ? act(Action::publish, XenbusStateInitWait) : none();
    }
}

Result<XenbusState> parse_state(std::string_view text)
{
    if (text.size() != 1 || text[0] < '0' || text[0] > '8') return Err(Errno::XEN_EINVAL);
    return static_cast<XenbusState>(text[0] - '0');
}

std::string_view state_text(XenbusState s)
{
    static constexpr std::string_view kText[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8"};
    const auto i = static_cast<unsigned>(s);
    return i < 9 ? kText[i] : std::string_view("0");
}

std::string_view state_name(XenbusState s)
{
    static constexpr std::string_view kNames[] = {
        "Unknown",   "Initialising", "InitWait", "Initialised",  "Connected",
        "Closing",   "Closed",       "Reconfiguring", "Reconfigured",
    };
    const auto i = static_cast<unsigned>(s);
    return i < 9 ? kNames[i] : std::string_view("?");
}

PeerState peer_state(Errno read_error, std::string_view text)
{
    // Gone, or hidden (xenstored answers EACCES for a missing node whose
    // nearest ancestor the reader may not see): either way, not there.
    if (read_error == Errno::XEN_ENOENT || read_error == Errno::XEN_EACCES) {
        return {XenbusStateClosed, false};
    }
    if (read_error != Errno::OK) return {XenbusStateClosing, true};
    auto s = parse_state(text);
    if (!s) return {XenbusStateClosing, true};
    switch (*s) {
    case XenbusStateUnknown:
    case XenbusStateReconfiguring:
    case XenbusStateReconfigured:
        return {XenbusStateClosing, true};
    default:
        return {*s, false};
    }
}

} // namespace keel::guest::xenbus
