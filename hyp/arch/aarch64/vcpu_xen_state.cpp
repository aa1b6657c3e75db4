// Per-vCPU state of the Xen ABI: where the vCPU's vcpu_info lives and the
// runstate area the guest reads its steal time from.
#include "hypercall_context.hpp"
#include "guest_memory_access.hpp"
#include "sysreg.hpp"

#include "evtchn/event_channels.hpp"
#include "evtchn/shared_layout.hpp"

#include <cstring>
#include <xen/vcpu.h>

namespace keel::arch {

evtchn::EventChannels& event_channels();

namespace {
bool write_guest_va(std::uint64_t va, const void* src, std::size_t n)
{
    const auto* in = static_cast<const std::uint8_t*>(src);
    while (n > 0) {
        const std::size_t chunk = kPageSize - (va & (kPageSize - 1));
        const std::size_t len = chunk < n ? chunk : n;
        const std::uint64_t pa = guest_va_to_pa(va, true);
        if (!pa) return false;
        std::memcpy(reinterpret_cast<void*>(pa), in, len);
        in += len;
        va += len;
        n -= len;
    }
    return true;
}

std::uint64_t system_time_ns()
{
    const unsigned __int128 ticks = sysreg::cntpct_el0::read();
    return static_cast<std::uint64_t>(ticks * 1000000000u / sysreg::cntfrq_el0::read());
}
} // namespace

long vcpu_register_vcpu_info(Domain& d, Vcpu& v, std::uint64_t gfn, std::uint32_t offset)
{
    // Xen's order of checks (map_vcpu_info): another running vCPU, the offset, then the page.
    if (&v != this_cpu().current && v.sched.state != sched::State::Offline) return xen_err(Errno::XEN_EINVAL);
    if (offset > kPageSize - sizeof(evtchn::VcpuInfo)) return xen_err(Errno::XEN_ENXIO);
    auto t = d.s2.translate(IpAddr(gfn << kPageShift));
    if (!t || t->type != mm::MemType::Normal || !t->access.write) return xen_err(Errno::XEN_EINVAL);
    auto* info = reinterpret_cast<evtchn::VcpuInfo*>(t->pa.raw() + offset);
    return xen_ret(event_channels().register_vcpu_info(DomainId(d.id), v.id, info));
}

void vcpu_update_runstate(Vcpu& v, xen::GuestMemory&)
{
    if (v.runstate_va == 0) return;
    vcpu_runstate_info info{};
    info.state = RUNSTATE_running;
    info.state_entry_time = system_time_ns();
    info.time[RUNSTATE_running] = info.state_entry_time;
    (void)write_guest_va(v.runstate_va, &info, sizeof info);
}

} // namespace keel::arch
