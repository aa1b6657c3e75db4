#include "evtchn/event_domain.hpp"

#include "evtchn/guest_atomics.hpp"
#include "evtchn/two_level.hpp"

namespace keel::evtchn {

Status EventDomain::init(DomainId id, SharedInfo* shared, unsigned nr_vcpus, evtchn_port_t max_port)
{
    if (nr_vcpus == 0 || nr_vcpus > kMaxVcpus || max_port >= kPortCapacity) return Err(Errno::XEN_EINVAL);
    LockGuard g(lock_);
    live_ = true;
    dying_ = false;
    id_ = id;
    nr_vcpus_ = nr_vcpus;
    max_port_ = max_port;
    valid_ = kPortsPerBucket;  // Xen allocates the first bucket with the domain
    reset_next_ = 0;
    shared_ = shared;
    for (auto& c : ports_) c = Channel{};
    ports_[0].state = ChannelState::Reserved;  // evtchn_init(): port 0 is never handed out
    for (unsigned v = 0; v < kMaxVcpus; ++v) {
        guest::zero_vcpu_info(&placeholder_[v]);
        VcpuInfo* info = (shared && v < kLegacyVcpus) ? &shared->vcpu_info[v] : &placeholder_[v];
        __atomic_store_n(&vcpu_info_[v], info, __ATOMIC_RELEASE);
        vcpu_info_registered_[v] = false;
        for (auto& p : virq_to_port_[v]) p = 0;
    }
    return {};
}

VcpuInfo* EventDomain::vcpu_info(unsigned vcpu) const
{
    if (vcpu >= kMaxVcpus) return nullptr;
    return __atomic_load_n(&vcpu_info_[vcpu], __ATOMIC_ACQUIRE);
}

bool EventDomain::vcpu_info_registered(unsigned vcpu) const
{
    LockGuard g(lock_);
    return vcpu < nr_vcpus_ && vcpu_info_registered_[vcpu];
}

bool EventDomain::upcall_pending(unsigned vcpu) const
{
    const VcpuInfo* info = vcpu < nr_vcpus_ ? vcpu_info(vcpu) : nullptr;
    return info && guest::test_flag(&info->evtchn_upcall_pending);
}

bool EventDomain::port_pending(evtchn_port_t port) const
{
    return shared_ != nullptr && port < kTwoLevelPorts && guest::test_bit(shared_->evtchn_pending, port);
}

Channel EventDomain::channel(evtchn_port_t port) const
{
    LockGuard g(lock_);
    if (port >= kPortCapacity) return Channel{};
    Channel c = ports_[port];
    c.notify_vcpu = static_cast<std::uint16_t>(notify_vcpu(ports_[port]));
    return c;
}

evtchn_port_t EventDomain::valid_ports() const
{
    LockGuard g(lock_);
    return valid_;
}

evtchn_port_t EventDomain::virq_port(unsigned vcpu, unsigned virq) const
{
    LockGuard g(lock_);
    if (vcpu >= kMaxVcpus || virq >= kNrVirqs) return 0;
    return virq_to_port_[vcpu][virq];
}

bool EventDomain::dying() const
{
    LockGuard g(lock_);
    return dying_;
}

Result<evtchn_port_t> EventDomain::alloc_port()
{
    // get_free_port(): the lowest free port; past the valid ones, grow by a bucket.
    if (dying_) return Err(Errno::XEN_EINVAL);
    const evtchn_port_t scan = valid_ < max_port_ + 1 ? valid_ : max_port_ + 1;
    for (evtchn_port_t p = 0; p < scan; ++p)
        if (ports_[p].state == ChannelState::Free) return p;
    if (valid_ > max_port_ || valid_ >= kPortCapacity) return Err(Errno::XEN_ENOSPC);
    const evtchn_port_t p = valid_;
    valid_ += kPortsPerBucket;
    return p;
}

void EventDomain::free_port(evtchn_port_t port)
{
    // evtchn_free(): drop a pending event so a later binding starts clean, and
    // forget the vCPU (the next user of the number gets vCPU 0). The mask bit is
    // the guest's and stays as it is.
    Channel& c = ports_[port];
    if (shared_ && c.state > ChannelState::Reserved) two_level::clear_pending(*shared_, port);
    c.state = ChannelState::Free;
    set_notify_vcpu(c, 0);
    c.virq = 0;
    c.remote_dom = DomainId{};
    c.remote_port = 0;
    c.peer = nullptr;
}

Upcall EventDomain::set_pending(evtchn_port_t port, unsigned vcpu)
{
    // evtchn_port_set_pending() only touches ports a guest can use.
    VcpuInfo* info = vcpu_info(vcpu);
    if (!shared_ || !info || ports_[port].state <= ChannelState::Reserved) return {};
    // Xen's evtchn_check_pollers: a poller wakes whatever the mask, upcall or not.
    const bool upcall = two_level::set_pending(*shared_, *info, port);
    return Upcall{upcall, id_, vcpu, true};
}

Upcall EventDomain::unmask(evtchn_port_t port)
{
    // evtchn_port_unmask(): a free or reserved port's mask bit is left alone.
    const Channel& c = ports_[port];
    const unsigned vcpu = notify_vcpu(c);
    VcpuInfo* info = vcpu_info(vcpu);
    if (!shared_ || !info || c.state <= ChannelState::Reserved) return {};
    if (!two_level::unmask(*shared_, *info, port)) return {};
    return Upcall{true, id_, vcpu};
}

} // namespace keel::evtchn
