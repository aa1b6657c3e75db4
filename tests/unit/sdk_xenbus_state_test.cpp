// The handshake tables alone: parsing, the peer reduction, the traces of a
// full handshake, a close, a reset, and from every pair of starting states
// (including ones a hostile peer writes) the two ends settle where they
// should without looping.
#include <keel/guest/xenbus/state.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace keel;
using namespace keel::guest;
using namespace keel::guest::xenbus;

namespace {

constexpr XenbusState kAll[] = {
    XenbusStateUnknown,   XenbusStateInitialising, XenbusStateInitWait,
    XenbusStateInitialised, XenbusStateConnected,  XenbusStateClosing,
    XenbusStateClosed,    XenbusStateReconfiguring, XenbusStateReconfigured,
};

// Two ends that take turns; a trace of what each did.
struct Sim {
    XenbusState fe = XenbusStateInitialising;
    XenbusState be = XenbusStateInitialising;
    bool fe_online = true, be_online = true;
    bool fe_published = false, be_published = false;
    bool fe_connected = false, be_connected = false;
    std::vector<std::string> trace;
    int violations = 0;

    void apply(bool front, const Step& s)
    {
        bool& published = front ? fe_published : be_published;
        bool& connected = front ? fe_connected : be_connected;
        XenbusState& mine = front ? fe : be;
        const std::string who = front ? "F " : "B ";
        switch (s.action) {
        case Action::publish:
            published = true;
            trace.push_back(who + "publish");
            break;
        case Action::connect:
            if (!published && mine != XenbusStateInitWait && mine != XenbusStateInitialised) ++violations;
            connected = true;
            trace.push_back(who + "connect");
            break;
        case Action::disconnect:
            published = connected = false;
            trace.push_back(who + "disconnect");
            break;
        case Action::none: break;
        }
        if (s.write) {
            if (*s.write == mine) ++violations;  // a write that changes nothing can loop
            mine = *s.write;
            trace.push_back(who + std::string(state_name(mine)));
        }
    }
    // One end runs until it has nothing to do; false if it would not stop.
    bool run(bool front)
    {
        for (int i = 0; i < 4; ++i) {
            const Step s = front ? frontend_step(fe, be, fe_online) : backend_step(be, fe, be_online);
            if (s.idle()) return true;
            apply(front, s);
        }
        return false;
    }
    // Alternate until both are idle; false if that takes too long.
    bool settle(bool frontend_first = true)
    {
        for (int round = 0; round < 32; ++round) {
            const std::size_t before = trace.size();
            if (!run(frontend_first) || !run(!frontend_first)) return false;
            if (trace.size() == before) return true;
        }
        return false;
    }
    std::vector<std::string> take()
    {
        std::vector<std::string> out;
        out.swap(trace);
        return out;
    }
};

using Trace = std::vector<std::string>;

} // namespace

TEST(XenbusState, ParseAndText)
{
    for (XenbusState s : kAll) {
        auto p = parse_state(state_text(s));
        ASSERT_TRUE(p.ok());
        EXPECT_EQ(*p, s);
    }
    for (const char* bad : {"", "9", "04", "-1", " 4", "4 ", "banana", "44"}) {
        EXPECT_EQ(parse_state(bad).error(), Errno::XEN_EINVAL) << bad;
    }
    EXPECT_EQ(parse_state(std::string_view("4\0", 2)).error(), Errno::XEN_EINVAL);
    EXPECT_EQ(state_name(XenbusStateConnected), "Connected");
    EXPECT_EQ(state_text(XenbusStateClosed), "6");
}

TEST(XenbusState, PeerReduction)
{
    EXPECT_EQ(peer_state(Errno::XEN_ENOENT, {}).state, XenbusStateClosed);
    EXPECT_FALSE(peer_state(Errno::XEN_ENOENT, {}).hostile);
    for (std::string_view s : {"1", "2", "3", "4", "5", "6"}) {
        const PeerState p = peer_state(Errno::OK, s);
        EXPECT_FALSE(p.hostile) << s;
        EXPECT_EQ(p.state, *parse_state(s));
    }
    for (std::string_view s : {"0", "7", "8", "9", "banana", ""}) {
        const PeerState p = peer_state(Errno::OK, s);
        EXPECT_TRUE(p.hostile) << s;
        EXPECT_EQ(p.state, XenbusStateClosing) << s;
    }
    EXPECT_EQ(peer_state(Errno::XEN_EACCES, {}).state, XenbusStateClosed);
    EXPECT_FALSE(peer_state(Errno::XEN_EACCES, {}).hostile);
    EXPECT_TRUE(peer_state(Errno::XEN_EIO, {}).hostile);
    EXPECT_TRUE(peer_state(Errno::XEN_ERANGE, {}).hostile);
}

TEST(XenbusState, FullHandshake)
{
    Sim sim;
    ASSERT_TRUE(sim.settle());
    EXPECT_EQ(sim.take(), (Trace{"B publish", "B InitWait", "F publish", "F Initialised", "B connect",
                                 "B Connected", "F connect", "F Connected"}));
    EXPECT_EQ(sim.violations, 0);
    // The backend's InitWait gates the frontend: alone, it waits.
    EXPECT_TRUE(frontend_step(XenbusStateInitialising, XenbusStateInitialising, true).idle());
    EXPECT_TRUE(backend_step(XenbusStateInitWait, XenbusStateInitialising, true).idle());
}

TEST(XenbusState, BackendClosesThenFrontendReconnects)
{
    Sim sim;
    ASSERT_TRUE(sim.settle());
    sim.take();
    sim.be_online = false;
    ASSERT_TRUE(sim.settle(false));
    EXPECT_EQ(sim.take(), (Trace{"B disconnect", "B Closing", "F disconnect", "F Closed", "B Closed",
                                 "F Initialising"}));
    // The backend stays closed until it is reopened; the frontend waits.
    EXPECT_EQ(sim.be, XenbusStateClosed);
    EXPECT_EQ(sim.fe, XenbusStateInitialising);
    sim.be_online = true;
    ASSERT_TRUE(sim.settle(false));
    EXPECT_EQ(sim.take(), (Trace{"B publish", "B InitWait", "F publish", "F Initialised", "B connect",
                                 "B Connected", "F connect", "F Connected"}));
    EXPECT_EQ(sim.violations, 0);
}

TEST(XenbusState, FrontendClosesAndResets)
{
    Sim sim;
    ASSERT_TRUE(sim.settle());
    sim.take();
    sim.fe_online = false;
    ASSERT_TRUE(sim.settle());
    EXPECT_EQ(sim.take(), (Trace{"F disconnect", "F Closing", "B disconnect", "B Closing", "F Closed",
                                 "B Closed"}));
    // Frontend reset: Closed -> Initialising brings the backend back to InitWait.
    sim.fe_online = true;
    ASSERT_TRUE(sim.settle());
    EXPECT_EQ(sim.take(), (Trace{"F Initialising", "B publish", "B InitWait", "F publish", "F Initialised",
                                 "B connect", "B Connected", "F connect", "F Connected"}));
}

TEST(XenbusState, BackendVanishesAndComesBack)
{
    // The backend's state node went (peer reads as Closed); then a new
    // backend starts at Initialising.
    EXPECT_EQ(frontend_step(XenbusStateConnected, XenbusStateClosed, true),
              (Step{Action::disconnect, XenbusStateClosed}));
    EXPECT_EQ(frontend_step(XenbusStateClosed, XenbusStateClosed, true),
              (Step{Action::none, XenbusStateInitialising}));
    EXPECT_TRUE(frontend_step(XenbusStateInitialising, XenbusStateClosed, true).idle());
    Sim sim;
    sim.fe = XenbusStateInitialising;
    sim.be = XenbusStateInitialising;
    ASSERT_TRUE(sim.settle());
    EXPECT_EQ(sim.fe, XenbusStateConnected);
}

TEST(XenbusState, HostilePeerStatesClose)
{
    for (XenbusState bad : {XenbusStateUnknown, XenbusStateReconfiguring, XenbusStateReconfigured}) {
        EXPECT_EQ(frontend_step(XenbusStateConnected, bad, true), (Step{Action::disconnect, XenbusStateClosed}));
        EXPECT_EQ(backend_step(XenbusStateConnected, bad, true), (Step{Action::disconnect, XenbusStateClosing}));
        EXPECT_EQ(frontend_step(XenbusStateInitialising, bad, true), (Step{Action::none, XenbusStateClosed}));
    }
    // A state that is not ours: whatever was set up goes.
    EXPECT_EQ(frontend_step(XenbusStateInitWait, XenbusStateConnected, true),
              (Step{Action::disconnect, XenbusStateClosed}));
    EXPECT_EQ(backend_step(XenbusStateInitialised, XenbusStateConnected, true),
              (Step{Action::disconnect, XenbusStateClosed}));
}

// From every pair of states, online: both end Connected; offline: both
// Closed; never a step that rewrites the same state, never stuck.
TEST(XenbusState, EveryStartSettles)
{
    for (bool frontend_first : {true, false}) {
        for (XenbusState f : kAll) {
            for (XenbusState b : kAll) {
                SCOPED_TRACE(std::string(state_name(f)) + "/" + std::string(state_name(b)) +
                             (frontend_first ? " F first" : " B first"));
                Sim up;
                up.fe = f;
                up.be = b;
                ASSERT_TRUE(up.settle(frontend_first));
                EXPECT_EQ(up.fe, XenbusStateConnected);
                EXPECT_EQ(up.be, XenbusStateConnected);
                EXPECT_EQ(up.violations, 0);

                Sim down;
                down.fe = f;
                down.be = b;
                down.fe_online = down.be_online = false;
                ASSERT_TRUE(down.settle(frontend_first));
                EXPECT_EQ(down.fe, XenbusStateClosed);
                EXPECT_EQ(down.be, XenbusStateClosed);
            }
        }
    }
}

// A hostile peer may write anything at any time: for every (mine, peer,
// online) the step is defined and one application suffices (the same inputs
// never ask for a second write).
TEST(XenbusState, TotalAndIdempotent)
{
    for (bool online : {true, false}) {
        for (XenbusState mine : kAll) {
            for (XenbusState peer : kAll) {
                for (bool front : {true, false}) {
                    auto step = [&](XenbusState m) {
                        return front ? frontend_step(m, peer, online) : backend_step(m, peer, online);
                    };
                    XenbusState m = mine;
                    int writes = 0;
                    for (int i = 0; i < 4; ++i) {
                        const Step s = step(m);
                        if (s.idle()) break;
                        if (s.write) {
                            EXPECT_NE(*s.write, m);
                            m = *s.write;
                            ++writes;
                        }
                    }
                    EXPECT_TRUE(step(m).idle() || writes < 4)
                        << state_name(mine) << "/" << state_name(peer) << (front ? " F" : " B");
                }
            }
        }
    }
}
