// The two ends of a Xen PV ring (<xen/io/ring.h>), over the shared page of
// ring_layout.hpp. The front end (FrontRing) produces requests and consumes
// responses; the back end (BackRing) consumes requests and produces
// responses into the same slots. One-for-one: every response answers one
// request, in the slot the request used, so the front never has more than
// size() requests outstanding.
//
// What ring.h's macros do, and where:
//   XEN_FRONT_RING_INIT                                FrontRing::init (SHARED_RING_INIT + FRONT_RING_INIT)
//   FRONT_RING_INIT, FRONT_RING_ATTACH                 FrontRing::attach(shared, 0 or start)
//   BACK_RING_INIT, BACK_RING_ATTACH                   BackRing::attach(shared, 0 or start)
//   RING_SIZE, RING_FREE_REQUESTS, RING_FULL           size(), free_requests(), full()
//   RING_HAS_UNCONSUMED_{REQUESTS,RESPONSES}           unconsumed_requests(), unconsumed_responses()
//   RING_COPY_{REQUEST,RESPONSE}, cons++               take_request(), take_response()
//   *RING_GET_{REQUEST,RESPONSE}(prod_pvt++) = x       produce_request(), produce_response()
//   RING_PUSH_{REQUESTS,RESPONSES}[_AND_CHECK_NOTIFY]  push_*()
//   RING_FINAL_CHECK_FOR_{REQUESTS,RESPONSES}          final_check_for_*()
// Produce several, then push once: the peer sees the batch at one index store
// and gets at most one event for it.
//
// The peer is not trusted. Each end reads the peer's producer index exactly
// once per check, into a local, and accepts it only if it is possible: a back
// end cannot have published more responses than requests we pushed, a front
// end cannot have more requests outstanding than the ring has slots (ring.h's
// RING_{REQUEST,RESPONSE}_PROD_OVERFLOW, made exact). An impossible index is a
// protocol error, kRingProtocolError (XEN_EIO): the end latches it, consumes
// nothing more (no slot beyond what was validated is ever read) and every
// later call fails with it; the driver should tear the connection down.
// Entries are copied out of shared memory once (take_*), so a peer rewriting
// a slot cannot change a request between its check and its use. What an entry
// says (ids, grant refs, lengths) is the protocol layer's to validate.
//
// Not thread-safe: each end belongs to one thread of its domain at a time.
#pragma once

#include <cstddef>
#include <cstdint>

#include <keel/guest/ring_layout.hpp>
#include <keel/guest/shared_memory.hpp>
#include <keel/guest/types.hpp>

namespace keel::guest {

// A peer published an impossible producer index. XEN_EIO: Xen's errno list
// has no EPROTO, and an I/O error is what a driver reports for a broken device.
inline constexpr Errno kRingProtocolError = Errno::XEN_EIO;

namespace ring_detail {

template <typename Shared>
Errno check_attach(const Shared* shared, unsigned order)
{
    if (shared == nullptr || order > kMaxRingPageOrder) return Errno::XEN_EINVAL;
    if (reinterpret_cast<std::uintptr_t>(shared) % alignof(Shared) != 0) return Errno::XEN_EINVAL;
    if (Shared::entries_for_order(order) == 0) return Errno::XEN_EINVAL;  // an entry larger than the ring
    return Errno::OK;
}

// RING_PUSH_*: publish our producer index.
inline void publish(RingIdx& shared_prod, RingIdx prod)
{
    // Orders our writes of the new entries before the index store that makes
    // them visible, and (beyond ring.h's write barrier) our earlier reads of
    // the slots this index hands back to the peer, which it may now overwrite.
    shm::full_barrier();
    shm::write_once(shared_prod, prod);
}

// RING_PUSH_*_AND_CHECK_NOTIFY: publish, then decide whether the peer asked
// for an event somewhere in (old_prod, prod]. `old_prod` is our own last
// published value, kept privately: the shared copy is the peer's to scribble.
inline bool publish_and_check_notify(RingIdx& shared_prod, const RingIdx& shared_event,
                                     RingIdx old_prod, RingIdx prod)
{
    publish(shared_prod, prod);
    // Orders the index store before the event load: pairs with the barrier in
    // the peer's final check, so either the peer re-reads our new index after
    // setting its event, or we read the event it set and notify it.
    shm::full_barrier();
    const RingIdx event = shm::read_once(shared_event);
    return static_cast<RingIdx>(prod - event) < static_cast<RingIdx>(prod - old_prod);
}

// The peer's producer index, read once, accepted only if at most `limit`
// entries lie between our consumer index and it (unsigned: an index behind
// `cons` is a huge distance and fails the same test).
inline Result<RingIdx> read_peer_prod(const RingIdx& shared_prod, RingIdx cons, RingIdx limit)
{
    const RingIdx prod = shm::read_once(shared_prod);
    if (static_cast<RingIdx>(prod - cons) > limit) return Err(kRingProtocolError);
    // Orders the index load before the loads of the entries it covers.
    shm::read_barrier();
    return prod;
}

// RING_FINAL_CHECK_FOR_*, the step between the two looks: ask for an event
// when the peer publishes entry `cons`.
inline void request_event(RingIdx& shared_event, RingIdx cons)
{
    shm::write_once(shared_event, static_cast<RingIdx>(cons + 1));
    // Orders the event store before the second producer-index load: pairs
    // with the peer's barrier between its index store and its event load.
    shm::full_barrier();
}

} // namespace ring_detail

template <typename Req, typename Rsp>
class FrontRing {
public:
    using Shared = SharedRing<Req, Rsp>;

    // A detached end: no ring, every operation fails with XEN_ENOTCONN.
    FrontRing() = default;
    FrontRing(const FrontRing&) = delete;
    FrontRing& operator=(const FrontRing&) = delete;
    // One end, one owner: moving leaves the source detached.
    FrontRing(FrontRing&& o) noexcept : s_(o.s_) { o.s_ = State{}; }
    FrontRing& operator=(FrontRing&& o) noexcept
    {
        if (this != &o) {
            s_ = o.s_;
            o.s_ = State{};
        }
        return *this;
    }

    // XEN_FRONT_RING_INIT: initialise the shared page (SHARED_RING_INIT) of a
    // 1 << order page ring and become its front end, all indices at 0.
    // XEN_EINVAL for a null or misaligned page or an unsupported order.
    [[nodiscard]] static Result<FrontRing> init(Shared* shared, unsigned order = 0)
    {
        const Errno e = ring_detail::check_attach(shared, order);
        if (e != Errno::OK) return Err(e);
        shared->init();
        return FrontRing(shared, 0, Shared::entries_for_order(order));
    }

    // FRONT_RING_ATTACH: become the front end of a live ring, shared page
    // untouched, with our producer and consumer indices at `start`.
    [[nodiscard]] static Result<FrontRing> attach(Shared* shared, RingIdx start, unsigned order = 0)
    {
        const Errno e = ring_detail::check_attach(shared, order);
        if (e != Errno::OK) return Err(e);
        return FrontRing(shared, start, Shared::entries_for_order(order));
    }

    RingIdx size() const { return s_.size; }                  // RING_SIZE
    Shared* shared() const { return s_.shared; }
    Errno error() const { return s_.error; }                   // OK, the latched error, or XEN_ENOTCONN
    RingIdx req_prod_pvt() const { return s_.req_prod_pvt; }  // next request slot
    RingIdx rsp_cons() const { return s_.rsp_cons; }          // next response to take

    // RING_FREE_REQUESTS: slots with neither an unanswered request nor an
    // untaken response in them.
    RingIdx free_requests() const { return s_.size - (s_.req_prod_pvt - s_.rsp_cons); }
    bool full() const { return free_requests() == 0; }  // RING_FULL

    // Copies `req` into the next free slot; the back end sees it only after a
    // push. XEN_EAGAIN when full (take responses first).
    [[nodiscard]] Status produce_request(const Req& req)
    {
        if (s_.error != Errno::OK) return Err(s_.error);
        if (full()) return Err(Errno::XEN_EAGAIN);
        shm::copy_to_shared(s_.shared->entry(s_.req_prod_pvt & (s_.size - 1)).req, req);
        ++s_.req_prod_pvt;
        return {};
    }

    // RING_PUSH_REQUESTS: publish every request produced so far. The caller
    // notifies the back end itself (or checks with the variant below).
    void push_requests()
    {
        if (s_.shared == nullptr) return;
        ring_detail::publish(s_.shared->req_prod, s_.req_prod_pvt);
        s_.req_pushed = s_.req_prod_pvt;
    }

    // RING_PUSH_REQUESTS_AND_CHECK_NOTIFY: publish, and true when the back end
    // asked (req_event) to be notified of one of the requests just published.
    [[nodiscard]] bool push_requests_and_check_notify()
    {
        if (s_.shared == nullptr) return false;
        const bool notify = ring_detail::publish_and_check_notify(
            s_.shared->req_prod, s_.shared->req_event, s_.req_pushed, s_.req_prod_pvt);
        s_.req_pushed = s_.req_prod_pvt;
        return notify;
    }

    // RING_HAS_UNCONSUMED_RESPONSES: responses published and not yet taken.
    [[nodiscard]] Result<RingIdx> unconsumed_responses()
    {
        KEEL_TRY(refresh());
        return static_cast<RingIdx>(s_.rsp_seen - s_.rsp_cons);
    }

    // The next response, copied out of its slot (RING_COPY_RESPONSE, then
    // rsp_cons++): true and `out` filled, or false if none is published. The
    // peer's index is read only when the responses already validated are used
    // up, so a loop of take_response() reads it once per batch.
    [[nodiscard]] Result<bool> take_response(Rsp& out)
    {
        if (s_.error != Errno::OK) return Err(s_.error);
        if (s_.rsp_cons == s_.rsp_seen) {
            KEEL_TRY(refresh());
            if (s_.rsp_cons == s_.rsp_seen) return false;
        }
        shm::copy_from_shared(out, s_.shared->entry(s_.rsp_cons & (s_.size - 1)).rsp);
        ++s_.rsp_cons;
        return true;
    }

    // RING_FINAL_CHECK_FOR_RESPONSES, before sleeping: true if responses are
    // waiting (keep taking); false once rsp_event asks the back end for an
    // event on the next response and none has arrived, so sleeping until that
    // event cannot miss one.
    [[nodiscard]] Result<bool> final_check_for_responses()
    {
        KEEL_TRY(refresh());
        if (s_.rsp_seen != s_.rsp_cons) return true;
        ring_detail::request_event(s_.shared->rsp_event, s_.rsp_cons);
        KEEL_TRY(refresh());
        return s_.rsp_seen != s_.rsp_cons;
    }

private:
    struct State {
        Shared* shared = nullptr;
        RingIdx size = 0;
        RingIdx req_prod_pvt = 0;  // our next request
        RingIdx req_pushed = 0;    // what we last stored into req_prod
        RingIdx rsp_cons = 0;      // our next response
        RingIdx rsp_seen = 0;      // the back end's rsp_prod as last validated
        Errno error = Errno::XEN_ENOTCONN;
    };

    FrontRing(Shared* shared, RingIdx start, RingIdx size)
        : s_{shared, size, start, start, start, start, Errno::OK}
    {
    }

    // Re-reads rsp_prod. The back end can only answer requests we published.
    Status refresh()
    {
        if (s_.error != Errno::OK) return Err(s_.error);
        auto prod = ring_detail::read_peer_prod(s_.shared->rsp_prod, s_.rsp_cons,
                                                static_cast<RingIdx>(s_.req_pushed - s_.rsp_cons));
        if (!prod) {
            s_.error = prod.error();
            return Err(s_.error);
        }
        s_.rsp_seen = *prod;
        return {};
    }

    State s_;
};

template <typename Req, typename Rsp>
class BackRing {
public:
    using Shared = SharedRing<Req, Rsp>;

    // A detached end: no ring, every operation fails with XEN_ENOTCONN.
    BackRing() = default;
    BackRing(const BackRing&) = delete;
    BackRing& operator=(const BackRing&) = delete;
    // One end, one owner: moving leaves the source detached.
    BackRing(BackRing&& o) noexcept : s_(o.s_) { o.s_ = State{}; }
    BackRing& operator=(BackRing&& o) noexcept
    {
        if (this != &o) {
            s_ = o.s_;
            o.s_ = State{};
        }
        return *this;
    }

    // BACK_RING_INIT (start 0) / BACK_RING_ATTACH: become the back end of a
    // 1 << order page ring the front end initialised; the shared page is not
    // written. XEN_EINVAL for a null or misaligned page or an unsupported order.
    [[nodiscard]] static Result<BackRing> attach(Shared* shared, RingIdx start = 0, unsigned order = 0)
    {
        const Errno e = ring_detail::check_attach(shared, order);
        if (e != Errno::OK) return Err(e);
        return BackRing(shared, start, Shared::entries_for_order(order));
    }

    RingIdx size() const { return s_.size; }                  // RING_SIZE
    Shared* shared() const { return s_.shared; }
    Errno error() const { return s_.error; }                   // OK, the latched error, or XEN_ENOTCONN
    RingIdx rsp_prod_pvt() const { return s_.rsp_prod_pvt; }  // next response slot
    RingIdx req_cons() const { return s_.req_cons; }          // next request to take

    // Requests taken and not yet answered: how many produce_response() may write.
    RingIdx owed_responses() const { return s_.req_cons - s_.rsp_prod_pvt; }

    // RING_HAS_UNCONSUMED_REQUESTS: requests published and not yet taken.
    // ring.h clamps this to the slots not holding unanswered requests,
    // min(req_prod - req_cons, size - (req_cons - rsp_prod_pvt)); an honest
    // front end never exceeds that bound, so exceeding it is a protocol error
    // here, not a silent clamp.
    [[nodiscard]] Result<RingIdx> unconsumed_requests()
    {
        KEEL_TRY(refresh());
        return static_cast<RingIdx>(s_.req_seen - s_.req_cons);
    }

    // The next request, copied out of its slot (RING_COPY_REQUEST, then
    // req_cons++): true and `out` filled, or false if none is published. The
    // copy is the only read of the slot: validate and use `out`, never the ring.
    [[nodiscard]] Result<bool> take_request(Req& out)
    {
        if (s_.error != Errno::OK) return Err(s_.error);
        if (s_.req_cons == s_.req_seen) {
            KEEL_TRY(refresh());
            if (s_.req_cons == s_.req_seen) return false;
        }
        shm::copy_from_shared(out, s_.shared->entry(s_.req_cons & (s_.size - 1)).req);
        ++s_.req_cons;
        return true;
    }

    // Copies `rsp` into the slot of the oldest unanswered request; the front
    // end sees it only after a push. XEN_EINVAL when no taken request is
    // waiting for an answer (the slot would still hold an unread request).
    [[nodiscard]] Status produce_response(const Rsp& rsp)
    {
        if (s_.error != Errno::OK) return Err(s_.error);
        if (owed_responses() == 0) return Err(Errno::XEN_EINVAL);
        shm::copy_to_shared(s_.shared->entry(s_.rsp_prod_pvt & (s_.size - 1)).rsp, rsp);
        ++s_.rsp_prod_pvt;
        return {};
    }

    // RING_PUSH_RESPONSES: publish every response produced so far.
    void push_responses()
    {
        if (s_.shared == nullptr) return;
        ring_detail::publish(s_.shared->rsp_prod, s_.rsp_prod_pvt);
        s_.rsp_pushed = s_.rsp_prod_pvt;
    }

    // RING_PUSH_RESPONSES_AND_CHECK_NOTIFY: publish, and true when the front
    // end asked (rsp_event) to be notified of one of the responses just published.
    [[nodiscard]] bool push_responses_and_check_notify()
    {
        if (s_.shared == nullptr) return false;
        const bool notify = ring_detail::publish_and_check_notify(
            s_.shared->rsp_prod, s_.shared->rsp_event, s_.rsp_pushed, s_.rsp_prod_pvt);
        s_.rsp_pushed = s_.rsp_prod_pvt;
        return notify;
    }

    // RING_FINAL_CHECK_FOR_REQUESTS, before sleeping: true if requests are
    // waiting; false once req_event asks the front end for an event on the
    // next request and none has arrived, so sleeping cannot miss one.
    [[nodiscard]] Result<bool> final_check_for_requests()
    {
        KEEL_TRY(refresh());
        if (s_.req_seen != s_.req_cons) return true;
        ring_detail::request_event(s_.shared->req_event, s_.req_cons);
        KEEL_TRY(refresh());
        return s_.req_seen != s_.req_cons;
    }

private:
    struct State {
        Shared* shared = nullptr;
        RingIdx size = 0;
        RingIdx rsp_prod_pvt = 0;  // our next response
        RingIdx rsp_pushed = 0;    // what we last stored into rsp_prod
        RingIdx req_cons = 0;      // our next request
        RingIdx req_seen = 0;      // the front end's req_prod as last validated
        Errno error = Errno::XEN_ENOTCONN;
    };

    BackRing(Shared* shared, RingIdx start, RingIdx size)
        : s_{shared, size, start, start, start, start, Errno::OK}
    {
    }

    // Re-reads req_prod. Every request the front end publishes occupies a slot
    // until we answer it, so at most size - owed_responses() are untaken.
    Status refresh()
    {
        if (s_.error != Errno::OK) return Err(s_.error);
        auto prod = ring_detail::read_peer_prod(s_.shared->req_prod, s_.req_cons,
                                                static_cast<RingIdx>(s_.size - owed_responses()));
        if (!prod) {
            s_.error = prod.error();
            return Err(s_.error);
        }
        s_.req_seen = *prod;
        return {};
    }

    State s_;
};

} // namespace keel::guest
