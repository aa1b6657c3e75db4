// Discovery, validation and the handshake loop. See bus.hpp for the model.
#include <keel/guest/xenbus/bus.hpp>

#include "../xenstore/slice.hpp"

#include <cstring>
#include <xen/xen.h>  // DOMID_FIRST_RESERVED

namespace keel::guest::xenbus {

using xenstore::Client;
using xenstore::format_decimal;
using xenstore::kNoTransaction;
using xenstore::parse_decimal;
using xenstore::slice;
using xenstore::StringList;
using xenstore::TxId;

namespace {

// A path built from pieces in fixed memory; too long is XEN_ENAMETOOLONG.
class PathBuf {
public:
    PathBuf& add(std::string_view s)
    {
        if (s.size() > sizeof(buf_) - len_) {
            ok_ = false;
        } else if (!s.empty()) {
            std::memcpy(buf_ + len_, s.data(), s.size());
            len_ += s.size();
        }
        return *this;
    }
    PathBuf& add(std::uint32_t v)
    {
        char text[12];
        return add(std::string_view(text, format_decimal(v, text)));
    }
    bool ok() const { return ok_; }
    Status check() const { return ok_ ? Status{} : Status(Err(Errno::XEN_ENAMETOOLONG)); }
    std::string_view view() const { return {buf_, len_}; }

private:
    char buf_[2 * Device::kPathMax];
    std::size_t len_ = 0;
    bool ok_ = true;
};

Status copy_to(std::string_view s, char (&out)[Device::kPathMax], std::size_t& len)
{
    if (s.size() > sizeof(out)) return Err(Errno::XEN_ENAMETOOLONG);
    std::memcpy(out, s.data(), s.size());
    len = s.size();
    return {};
}

// The components of `rest` ("/a/b/c"), up to three.
struct Components {
    std::string_view c[3];
    std::size_t count = 0;
};
Components split(std::string_view rest)
{
    Components out;
    while (!rest.empty() && out.count < 3) {
        if (rest[0] != '/') break;
        rest = slice(rest, 1);
        const std::size_t end = rest.find('/');
        out.c[out.count++] = slice(rest, 0, end);
        rest = slice(rest, end == std::string_view::npos ? rest.size() : end);
    }
    return out;
}

Result<std::uint32_t> parse_domid(std::string_view s)
{
    auto v = parse_decimal(s);
    if (!v || *v >= DOMID_FIRST_RESERVED) return Err(Errno::XEN_EINVAL);
    return *v;
}

} // namespace

// --- Device ------------------------------------------------------------------

Device::Device() : watch_(&Bus::on_peer_state, this) {}

Client& Device::client() const { return bus_->client_; }

void Device::reset()
{
    bus_ = nullptr;
    driver_ = nullptr;
    node_len_ = other_len_ = watch_len_ = 0;
    other_id_ = DomainId(0);
    front_id_ = devid_ = 0;
    state_ = XenbusStateInitialising;
    peer_ = XenbusStateUnknown;
    error_ = Errno::OK;
    online_ = true;
    published_ = connected_ = dirty_ = seen_ = false;
    driver_data = nullptr;
}

void Device::close()
{
    if (!bus_) return;
    online_ = false;
    bus_->kick(*this);
}

void Device::open()
{
    if (!bus_) return;
    online_ = true;
    error_ = Errno::OK;
    bus_->kick(*this);
}

Result<std::size_t> Device::read(std::string_view key, std::span<char> value, TxId tx)
{
    if (!bus_) return Err(Errno::XEN_EINVAL);
    PathBuf p;
    p.add(nodename()).add("/").add(key);
    KEEL_TRY(p.check());
    return client().read(p.view(), value, tx);
}

Result<std::uint32_t> Device::read_uint(std::string_view key, TxId tx)
{
    char buf[16];
    auto n = read(key, buf, tx);
    if (!n) return Err(n.error() == Errno::XEN_ERANGE ? Errno::XEN_EINVAL : n.error());
    return parse_decimal(std::string_view(buf, *n));
}

Status Device::write(std::string_view key, std::string_view value, TxId tx)
{
    if (!bus_) return Err(Errno::XEN_EINVAL);
    PathBuf p;
    p.add(nodename()).add("/").add(key);
    KEEL_TRY(p.check());
    return client().write(p.view(), value, tx);
}

Status Device::write_uint(std::string_view key, std::uint32_t value, TxId tx)
{
    char text[12];
    return write(key, std::string_view(text, format_decimal(value, text)), tx);
}

Status Device::remove_key(std::string_view key, TxId tx)
{
    if (!bus_) return Err(Errno::XEN_EINVAL);
    PathBuf p;
    p.add(nodename()).add("/").add(key);
    KEEL_TRY(p.check());
    return client().rm(p.view(), tx);
}

Result<std::size_t> Device::read_otherend(std::string_view key, std::span<char> value, TxId tx)
{
    if (!bus_) return Err(Errno::XEN_EINVAL);
    PathBuf p;
    p.add(otherend()).add("/").add(key);
    KEEL_TRY(p.check());
    return client().read(p.view(), value, tx);
}

Result<std::uint32_t> Device::read_otherend_uint(std::string_view key, TxId tx)
{
    char buf[16];
    auto n = read_otherend(key, buf, tx);
    if (!n) return Err(n.error() == Errno::XEN_ERANGE ? Errno::XEN_EINVAL : n.error());
    return parse_decimal(std::string_view(buf, *n));
}

// --- Bus ---------------------------------------------------------------------

Bus::DriverSlot::DriverSlot() : watch(&Bus::on_directory, this) {}

Bus::Bus(Client& client, Side side, DomainId self, std::span<Device> slots)
    : client_(client), side_(side), self_(self), slots_(slots)
{
    for (DriverSlot& s : drivers_) s.bus = this;
}

Bus::~Bus() { stop(); }

Status Bus::add_driver(Driver& driver)
{
    if (started_) return Err(Errno::XEN_EBUSY);
    if (driver_count_ == kMaxDrivers) return Err(Errno::XEN_ENOSPC);
    for (std::size_t i = 0; i < driver_count_; ++i) {
        if (drivers_[i].driver->type() == driver.type()) return Err(Errno::XEN_EEXIST);
    }
    DriverSlot& slot = drivers_[driver_count_];
    PathBuf p;
    p.add(side_ == Side::frontend ? "device/" : "backend/").add(driver.type());
    KEEL_TRY(p.check());
    KEEL_TRY(copy_to(p.view(), slot.path, slot.path_len));
    slot.driver = &driver;
    ++driver_count_;
    return {};
}

Status Bus::start()
{
    if (started_) return Err(Errno::XEN_EEXIST);
    // Watch callbacks that come during these calls only set flags.
    running_ = true;
    Status result;
    for (std::size_t i = 0; i < driver_count_ && result.ok(); ++i) {
        DriverSlot& slot = drivers_[i];
        result = client_.watch(slot.watch, std::string_view(slot.path, slot.path_len));
        slot.rescan = true;
    }
    running_ = false;
    if (!result) {
        for (std::size_t i = 0; i < driver_count_; ++i) {
            if (drivers_[i].watch.registered()) (void)client_.unwatch(drivers_[i].watch);
            drivers_[i].rescan = false;
        }
        return result;
    }
    started_ = true;
    run();
    return {};
}

void Bus::stop()
{
    const bool was_running = running_;
    running_ = true;
    for (std::size_t i = 0; i < driver_count_; ++i) {
        if (drivers_[i].watch.registered()) (void)client_.unwatch(drivers_[i].watch);
    }
    for (Device& d : slots_) {
        if (d.bus_ == this) release(d, true);
    }
    for (std::size_t i = 0; i < driver_count_; ++i) drivers_[i].rescan = false;
    started_ = false;
    running_ = was_running;
}

std::size_t Bus::device_count() const
{
    std::size_t n = 0;
    for (const Device& d : slots_) n += d.bus_ == this;
    return n;
}

std::size_t Bus::watch_count() const
{
    std::size_t n = 0;
    for (std::size_t i = 0; i < driver_count_; ++i) n += drivers_[i].watch.registered();
    for (const Device& d : slots_) n += d.bus_ == this && d.watch_.registered();
    return n;
}

Device* Bus::find(std::string_view type, std::uint32_t devid, DomainId frontend)
{
    for (Device& d : slots_) {
        if (d.bus_ != this || d.devid_ != devid || d.driver_->type() != type) continue;
        if (side_ == Side::backend && d.front_id_ != frontend.raw()) continue;
        return &d;
    }
    return nullptr;
}

void Bus::kick(Device& dev)
{
    if (dev.bus_ != this) return;
    dev.dirty_ = true;
    run();
}

Result<Device*> Bus::probe(Driver& driver, std::uint32_t devid, DomainId frontend)
{
    const bool was_running = running_;
    running_ = true;
    auto r = do_probe(driver, devid, frontend);
    running_ = was_running;
    if (started_) run();
    return r;
}

void Bus::refuse(Errno e)
{
    // Keys not written yet is not a refusal: the toolstack is still at it.
    if (e == Errno::XEN_ENOENT) return;
    ++refusals_;
    last_refusal_ = e;
}

// --- Discovery ---------------------------------------------------------------

void Bus::on_directory(void* ctx, std::string_view path)
{
    DriverSlot& slot = *static_cast<DriverSlot*>(ctx);
    Bus& bus = *slot.bus;
    const std::string_view dir(slot.path, slot.path_len);
    // An event inside a known device's node (its state, its keys) changes
    // nothing about which devices exist; anything else rescans.
    if (path.size() > dir.size() && slice(path, 0, dir.size()) == dir) {
        const Components c = split(slice(path, dir.size()));
        const bool front = bus.side_ == Side::frontend;
        if (c.count >= (front ? 2u : 3u)) {
            auto devid = parse_decimal(c.c[front ? 0 : 1]);
            auto fe = front ? Result<std::uint32_t>(0u) : parse_decimal(c.c[0]);
            if (devid && fe && fe.value() <= 0xffff &&
                bus.find(slot.driver->type(), *devid, DomainId(static_cast<std::uint16_t>(*fe)))) {
                return;
            }
        }
    }
    slot.rescan = true;
    bus.run();
}

void Bus::on_peer_state(void* ctx, std::string_view)
{
    Device& dev = *static_cast<Device*>(ctx);
    if (!dev.bus_) return;
    dev.dirty_ = true;
    dev.bus_->run();
}

void Bus::run()
{
    if (running_ || !started_) return;
    running_ = true;
    for (bool worked = true; worked;) {
        worked = false;
        for (std::size_t i = 0; i < driver_count_; ++i) {
            if (!drivers_[i].rescan) continue;
            drivers_[i].rescan = false;
            scan(drivers_[i]);
            worked = true;
        }
        for (Device& d : slots_) {
            if (d.bus_ != this || !d.dirty_) continue;
            d.dirty_ = false;
            drive(d);
            worked = true;
        }
    }
    running_ = false;
}

void Bus::scan(DriverSlot& slot)
{
    for (Device& d : slots_) d.seen_ = false;
    const std::string_view dir(slot.path, slot.path_len);
    auto top = client_.directory(dir, list_[0]);
    if (!top && top.error() != Errno::XEN_ENOENT) return;  // keep what we have
    if (top) {
        for (std::string_view name : *top) {
            if (side_ == Side::frontend) {
                auto devid = parse_decimal(name);
                if (!devid) {
                    refuse(Errno::XEN_EINVAL);
                    continue;
                }
                if (Device* d = find(slot.driver->type(), *devid)) {
                    d->seen_ = true;
                } else if (auto d = do_probe(*slot.driver, *devid, DomainId(0))) {
                    (*d)->seen_ = true;
                }
                continue;
            }
            auto fe = parse_domid(name);
            if (!fe) {
                refuse(Errno::XEN_EINVAL);
                continue;
            }
            const DomainId front(static_cast<std::uint16_t>(*fe));
            PathBuf sub;
            sub.add(dir).add("/").add(name);
            if (!sub.ok()) continue;
            auto devs = client_.directory(sub.view(), list_[1]);
            if (!devs) {
                // Unreadable right now: keep its devices rather than tear them down.
                for (Device& d : slots_) d.seen_ |= d.bus_ == this && d.front_id_ == *fe;
                continue;
            }
            for (std::string_view dname : *devs) {
                auto devid = parse_decimal(dname);
                if (!devid) {
                    refuse(Errno::XEN_EINVAL);
                    continue;
                }
                if (Device* d = find(slot.driver->type(), *devid, front)) {
                    d->seen_ = true;
                } else if (auto d = do_probe(*slot.driver, *devid, front)) {
                    (*d)->seen_ = true;
                }
            }
        }
    }
    for (Device& d : slots_) {
        if (d.bus_ == this && d.driver_ == slot.driver && !d.seen_) release(d, false);
    }
}

Result<Device*> Bus::do_probe(Driver& driver, std::uint32_t devid, DomainId frontend)
{
    if (Device* d = find(driver.type(), devid, frontend)) return d;
    Device* dev = nullptr;
    for (Device& d : slots_) {
        if (!d.bus_) {
            dev = &d;
            break;
        }
    }
    if (!dev) {
        refuse(Errno::XEN_ENOSPC);
        return Err(Errno::XEN_ENOSPC);
    }
    dev->reset();
    dev->bus_ = this;
    dev->driver_ = &driver;
    dev->devid_ = devid;
    dev->front_id_ = frontend.raw();
    PathBuf node;
    if (side_ == Side::frontend) {
        node.add("device/").add(driver.type()).add("/").add(devid);
    } else {
        node.add("backend/").add(driver.type()).add("/").add(frontend.raw()).add("/").add(devid);
    }
    Status s = node.check();
    if (s) s = copy_to(node.view(), dev->node_, dev->node_len_);
    if (s) s = validate(*dev);
    if (s) s = adopt_state(*dev);
    if (s) s = driver.probe(*dev);
    if (!s) {
        dev->reset();
        refuse(s.error());
        return Err(s.error());
    }
    PathBuf watch_path;
    watch_path.add(dev->otherend()).add("/state");
    s = watch_path.check();
    if (s) s = copy_to(watch_path.view(), dev->watch_path_, dev->watch_len_);
    if (s) s = client_.watch(dev->watch_, std::string_view(dev->watch_path_, dev->watch_len_));
    if (!s) {
        driver.remove(*dev);
        dev->reset();
        refuse(s.error());
        return Err(s.error());
    }
    dev->dirty_ = true;
    return dev;
}

// The other end must be exactly where the toolstack puts it:
//   frontend device/<type>/<n>           -> /local/domain/<b>/backend/<otype>/<self>/<n>
//   backend  backend/<type>/<f>/<n>      -> /local/domain/<f>/device/<otype>/<n>
// and the domain key (backend-id / frontend-id) must name the domain in it.
Status Bus::validate(Device& dev)
{
    const bool front = side_ == Side::frontend;
    auto id = dev.read_uint(front ? "backend-id" : "frontend-id");
    if (!id) return Err(id.error());
    if (*id >= DOMID_FIRST_RESERVED) return Err(Errno::XEN_EINVAL);
    if (!front && *id != dev.front_id_) return Err(Errno::XEN_EINVAL);
    dev.other_id_ = DomainId(static_cast<std::uint16_t>(*id));

    auto n = dev.read(front ? "backend" : "frontend", std::span<char>(dev.other_, sizeof(dev.other_)));
    if (!n) return Err(n.error() == Errno::XEN_ERANGE ? Errno::XEN_EINVAL : n.error());
    dev.other_len_ = *n;

    PathBuf expected;
    expected.add("/local/domain/").add(*id);
    if (front) {
        expected.add("/backend/").add(dev.driver_->otherend_type()).add("/").add(self_.raw());
    } else {
        expected.add("/device/").add(dev.driver_->otherend_type());
    }
    expected.add("/").add(dev.devid_);
    if (!expected.ok() || expected.view() != dev.otherend()) {
        dev.other_len_ = 0;
        return Err(Errno::XEN_EINVAL);
    }
    return {};
}

// --- The handshake -----------------------------------------------------------

namespace {
Status write_state(Device& dev, XenbusState state);
} // namespace

// Where my end starts. Initialising (or no node yet) and Closed are taken as
// they are. Anything else was left by an earlier incarnation of this driver
// (a kexec'd kernel, a restarted driver domain): the other end may believe
// in a data path that no longer exists, so close first (Linux's
// xenbus_reset_frontend); the handshake then resets from Closed.
Status Bus::adopt_state(Device& dev)
{
    char buf[16];
    auto n = dev.read("state", buf);
    if (!n && n.error() != Errno::XEN_ENOENT && n.error() != Errno::XEN_ERANGE) return Err(n.error());
    auto mine = n ? parse_state(std::string_view(buf, *n)) : Result<XenbusState>(XenbusStateInitialising);
    if (mine && (*mine == XenbusStateInitialising || *mine == XenbusStateClosed)) {
        dev.state_ = *mine;
        return {};
    }
    KEEL_TRY(write_state(dev, XenbusStateClosing));
    dev.state_ = XenbusStateClosing;
    return {};
}

namespace {

// Writes `state` to <node>/state only if the node still exists (writing
// would otherwise re-create a device the toolstack removed), as Linux's
// xenbus_switch_state does.
Status write_state(Device& dev, XenbusState state)
{
    return dev.transaction([&](TxId tx) -> Status {
        char buf[16];
        auto cur = dev.read("state", buf, tx);
        if (!cur && cur.error() != Errno::XEN_ERANGE) return Err(cur.error());
        return dev.write("state", state_text(state), tx);
    });
}

} // namespace

void Bus::drive(Device& dev)
{
    // Each step writes a state the next evaluation will not write again, so
    // this settles in a few rounds; the bound is for a peer that keeps
    // changing underneath.
    for (int round = 0; round < 16 && dev.bus_ == this; ++round) {
        char buf[16];
        auto n = client_.read(std::string_view(dev.watch_path_, dev.watch_len_), buf);
        const PeerState peer =
            peer_state(n ? Errno::OK : n.error(), n ? std::string_view(buf, *n) : std::string_view());
        if (peer.hostile) dev.error_ = Errno::XEN_EIO;
        dev.peer_ = peer.state;

        const Step step = side_ == Side::frontend ? frontend_step(dev.state_, peer.state, dev.online_)
                                                  : backend_step(dev.state_, peer.state, dev.online_);
        if (step.idle()) return;

        Status r;
        switch (step.action) {
        case Action::publish:
            r = dev.driver_->publish(dev);
            if (r.error() == Errno::XEN_EAGAIN) return;  // not ready: kick() later
            dev.published_ = r.ok();
            break;
        case Action::connect:
            r = dev.driver_->connect(dev);
            dev.connected_ = r.ok();
            if (r) dev.error_ = Errno::OK;
            break;
        case Action::disconnect:
            if (dev.published_ || dev.connected_) dev.driver_->disconnect(dev);
            dev.published_ = dev.connected_ = false;
            break;
        case Action::none:
            break;
        }
        if (!r) {
            // The driver failed: close instead (the next round says how).
            dev.error_ = r.error();
            dev.online_ = false;
            continue;
        }
        if (step.write) {
            if (!write_state(dev, *step.write)) return;  // gone: the rescan removes it
            dev.state_ = *step.write;
        }
    }
}

void Bus::release(Device& dev, bool write_closed)
{
    if (dev.watch_.registered()) (void)client_.unwatch(dev.watch_);
    if (write_closed && dev.state_ != XenbusStateClosed) (void)write_state(dev, XenbusStateClosed);
    if (dev.published_ || dev.connected_) dev.driver_->disconnect(dev);
    dev.published_ = dev.connected_ = false;
    dev.driver_->remove(dev);
    dev.reset();
}

} // namespace keel::guest::xenbus
