// The xenbus driver model over a xenstore Client: discovery, validation of
// the other end, and the handshake, apart from any driver's data path.
//
//   Bus     one per domain and side. Watches device/<type> (frontend, under
//           the domain's home) or backend/<type> (backend, under
//           backend/<type>/<frontend-domid>/<n>) for each registered driver,
//           probes what appears and removes what disappears.
//   Device  one per discovered device, in a slot the caller provides (no
//           heap). Knows its node, the other end's node and domain (read
//           from backend/backend-id or frontend/frontend-id and checked
//           against the path the toolstack must have used), watches the
//           other end's state node and drives the handshake (state.hpp).
//   Driver  the type-specific part: publish its keys, connect and
//           disconnect its data path. It never writes `state`.
//
// Threading: everything runs from the Client's watch callbacks (i.e. from
// Client::poll) or from the Bus's own calls. The work is queued as flags
// (a rescan, a device whose other end changed) and run by one loop, so a
// callback that arrives while the Bus is inside a blocking call only sets a
// flag: the Bus is never re-entered.
//
// Trust: the other end's values are checked before use; a device whose
// otherend path or domain is not the expected one is refused (XEN_EINVAL,
// counted in refusals()); an unparsable or unusable peer state closes the
// device with error() XEN_EIO. Driver callbacks run with the Device's
// helpers available; they must not call Bus::stop().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <keel/guest/types.hpp>
#include <keel/guest/xenbus/state.hpp>
#include <keel/guest/xenstore/client.hpp>
#include <span>
#include <string_view>

namespace keel::guest::xenbus {

enum class Side : std::uint8_t { frontend, backend };

class Device;

// The driver for one device type. Virtual calls only, no RTTI needed.
class Driver {
public:
    // "vif", "vbd", ...: the directory under device/ (frontend) or backend/.
    virtual std::string_view type() const = 0;
    // The other end's directory name, when it differs (a "vbd" frontend
    // served by a "qdisk" backend).
    virtual std::string_view otherend_type() const { return type(); }
    // A validated device was found. An error refuses it.
    virtual Status probe(Device&) { return {}; }
    // Write my keys (frontend: ring-ref, event-channel; backend: features).
    // A backend not ready yet (hotplug) answers XEN_EAGAIN and calls
    // Bus::kick() later. Any other error closes the device.
    virtual Status publish(Device&) { return {}; }
    // The other end's keys are there: start the data path. An error closes
    // the device.
    virtual Status connect(Device&) = 0;
    // Stop the data path and withdraw what publish() set up. Called once for
    // each publish() that succeeded, whether connect() ran or not.
    virtual void disconnect(Device&) {}
    // The device is gone (its node was removed, or the bus stopped).
    virtual void remove(Device&) {}

protected:
    ~Driver() = default;
};

class Bus;

class Device {
public:
    static constexpr std::size_t kPathMax = 128;

    Device();
    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;

    bool in_use() const { return bus_ != nullptr; }
    Driver& driver() const { return *driver_; }
    // My node: "device/vif/0" (frontend) or "backend/vif/5/0" (backend),
    // relative to the domain's home.
    std::string_view nodename() const { return {node_, node_len_}; }
    // The other end's node, absolute.
    std::string_view otherend() const { return {other_, other_len_}; }
    DomainId otherend_id() const { return other_id_; }
    std::uint32_t devid() const { return devid_; }
    XenbusState state() const { return state_; }
    XenbusState otherend_state() const { return peer_; }
    bool connected() const { return connected_; }
    // Why the device closed on its own: the driver's errno, or XEN_EIO for a
    // hostile peer state. OK while nothing went wrong.
    Errno error() const { return error_; }
    // The driver's own pointer.
    void* driver_data = nullptr;

    // Close (online = false) or reopen the device; the handshake runs.
    void close();
    void open();

    // My keys ("ring-ref") and the other end's, optionally in a transaction.
    Result<std::size_t> read(std::string_view key, std::span<char> value,
                             xenstore::TxId tx = xenstore::kNoTransaction);
    Result<std::uint32_t> read_uint(std::string_view key, xenstore::TxId tx = xenstore::kNoTransaction);
    Status write(std::string_view key, std::string_view value,
                 xenstore::TxId tx = xenstore::kNoTransaction);
    Status write_uint(std::string_view key, std::uint32_t value,
                      xenstore::TxId tx = xenstore::kNoTransaction);
    Status remove_key(std::string_view key, xenstore::TxId tx = xenstore::kNoTransaction);
    Result<std::size_t> read_otherend(std::string_view key, std::span<char> value,
                                      xenstore::TxId tx = xenstore::kNoTransaction);
    Result<std::uint32_t> read_otherend_uint(std::string_view key,
                                             xenstore::TxId tx = xenstore::kNoTransaction);
    // fn(TxId) -> Status in a transaction, retried on XEN_EAGAIN
    // (Client::transaction).
    template <typename Fn>
    Status transaction(Fn&& fn, unsigned max_attempts = 0);

private:
    friend class Bus;
    xenstore::Client& client() const;
    void reset();

    Bus* bus_ = nullptr;
    Driver* driver_ = nullptr;
    char node_[kPathMax];
    std::size_t node_len_ = 0;
    char other_[kPathMax];
    std::size_t other_len_ = 0;
    char watch_path_[kPathMax];  // "<otherend>/state", alive while watched
    std::size_t watch_len_ = 0;
    xenstore::Watch watch_;
    DomainId other_id_{0};
    std::uint32_t front_id_ = 0;  // backend side: the frontend domain in my path
    std::uint32_t devid_ = 0;
    XenbusState state_ = XenbusStateInitialising;
    XenbusState peer_ = XenbusStateUnknown;
    Errno error_ = Errno::OK;
    bool online_ = true;
    bool published_ = false;
    bool connected_ = false;
    bool dirty_ = false;  // the other end's state may have changed
    bool seen_ = false;   // scratch for rescans
};

class Bus {
public:
    static constexpr std::size_t kMaxDrivers = 8;

    // `self` is this domain's id: a frontend checks that its backend path
    // names it. Devices live in `slots` while they exist.
    Bus(xenstore::Client& client, Side side, DomainId self, std::span<Device> slots);
    ~Bus();
    Bus(const Bus&) = delete;
    Bus& operator=(const Bus&) = delete;

    // Before start(). XEN_ENOSPC past kMaxDrivers, XEN_EEXIST for a type
    // already registered, XEN_ENAMETOOLONG for a type that does not fit.
    Status add_driver(Driver& driver);
    // Watches every driver's directory and probes what is already there.
    Status start();
    // Tears everything down: removes the watches, writes Closed on every
    // device whose node still exists, disconnects and removes the devices.
    void stop();

    // Probe one device by hand (or again): the frontend's device id, or for
    // a backend `frontend` and device id. The device, or why it was refused
    // (XEN_EINVAL: wrong otherend path or domain; XEN_ENOENT: keys not
    // written yet; XEN_ENOSPC: no free slot).
    Result<Device*> probe(Driver& driver, std::uint32_t devid, DomainId frontend = DomainId(0));
    // Re-run the handshake of `dev` (a backend that was not ready).
    void kick(Device& dev);

    Side side() const { return side_; }
    xenstore::Client& client() const { return client_; }
    std::size_t device_count() const;
    Device* find(std::string_view type, std::uint32_t devid, DomainId frontend = DomainId(0));
    // Watches this bus holds with the client (its drivers' and devices').
    std::size_t watch_count() const;
    // Devices refused so far, and why the last one was.
    std::uint32_t refusals() const { return refusals_; }
    Errno last_refusal() const { return last_refusal_; }

private:
    friend class Device;
    struct DriverSlot {
        DriverSlot();
        Driver* driver = nullptr;
        Bus* bus = nullptr;
        char path[Device::kPathMax];
        std::size_t path_len = 0;
        xenstore::Watch watch;
        bool rescan = false;
    };

    static void on_directory(void* ctx, std::string_view path);
    static void on_peer_state(void* ctx, std::string_view path);
    void run();
    void scan(DriverSlot& slot);
    void scan_dir(DriverSlot& slot, std::string_view dir, DomainId frontend, bool backend_top);
    Result<Device*> do_probe(Driver& driver, std::uint32_t devid, DomainId frontend);
    Status validate(Device& dev);
    Status adopt_state(Device& dev);
    void drive(Device& dev);
    void release(Device& dev, bool write_closed);
    void refuse(Errno e);

    xenstore::Client& client_;
    Side side_;
    DomainId self_;
    std::span<Device> slots_;
    std::array<DriverSlot, kMaxDrivers> drivers_;
    std::size_t driver_count_ = 0;
    bool started_ = false;
    bool running_ = false;
    std::uint32_t refusals_ = 0;
    Errno last_refusal_ = Errno::OK;
    // Directory listings during a scan (the backend's is two levels deep).
    char list_[2][512];
};

template <typename Fn>
Status Device::transaction(Fn&& fn, unsigned max_attempts)
{
    return client().transaction(static_cast<Fn&&>(fn), max_attempts);
}

} // namespace keel::guest::xenbus
