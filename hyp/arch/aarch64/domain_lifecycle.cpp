// A domain's end: its vCPUs stop, and once no physical CPU holds any of them,
// its memory and tables go back to the hypervisor and its VMID's TLB entries are
// flushed. When the last domain is gone, the machine powers off.
#include "console.hpp"
#include "domain.hpp"
#include "evtchn/event_channels.hpp"

#include <xen/xen.h>
#include "firmware.hpp"
#include "gic.hpp"
#include "hyp_memory.hpp"
#include "pcpu.hpp"
#include "scheduler.hpp"
#include "sysreg.hpp"

namespace keel::arch {

evtchn::EventChannels& event_channels();

void domain_flush_tlb(const Domain& d)
{
    // TLBI by VMID acts on the VMID in VTTBR_EL2: borrow it, then put back whoever runs here.
    const std::uint64_t saved = sysreg::vttbr_el2::read();
    sysreg::vttbr_el2::write(d.vttbr());
    isb();
    asm volatile("tlbi vmalls12e1is\n dsb ish\n isb" ::: "memory");
    sysreg::vttbr_el2::write(saved);
    isb();
}

void Domain::kick(unsigned vcpu)
{
    if (vcpu < nr_vcpus) vcpu_kick(vcpus[vcpu]);
}

void Domain::line(const char* text, std::size_t len) { console_guest_line(id, text, len); }

Domain* domain_by_id(DomainId id, bool dying_too)
{
    for (Domain& d : domains) {
        const bool alive = d.state == DomainState::Running || (dying_too && d.state == DomainState::Dying);
        if (alive && d.id == id.raw()) return &d;
    }
    return nullptr;
}

unsigned nr_live_domains()
{
    unsigned n = 0;
    for (const Domain& d : domains) n += d.state == DomainState::Running || d.state == DomainState::Dying;
    return n;
}

namespace {
const char* const kReasons[] = {"poweroff", "reboot", "suspend", "crash", "watchdog", "soft_reset"};

// Tell the control domain a domain changed state, as Xen does (VIRQ_DOM_EXC is
// global: vCPU 0's binding).
void notify_control_domain(const Domain& d)
{
    for (Domain& other : domains)
        if (other.privileged && other.state == DomainState::Running && &other != &d)
            event_channels().raise_virq(DomainId(other.id), VIRQ_DOM_EXC, 0);
}

// Takes every vCPU off its run queue's candidates; CPUs running one reschedule.
void stop_vcpus(Domain& d)
{
    for (unsigned i = 0; i < d.nr_vcpus; ++i) {
        Vcpu& v = d.vcpus[i];
        {
            LockGuard g(pcpus[v.pcpu].rq.lock);
            v.sched.state = sched::State::Offline;
        }
        if (v.pcpu != this_cpu().index) gic().send_sgi(v.pcpu, kSgiKick);
    }
}

// Sets every vCPU's `paused` flag; pausing also waits until none is on a CPU.
void set_paused(Domain& d, bool paused)
{
    for (unsigned i = 0; i < d.nr_vcpus; ++i) {
        Vcpu& v = d.vcpus[i];
        LockGuard g(pcpus[v.pcpu].rq.lock);
        v.sched.paused = paused;
    }
    for (unsigned i = 0; i < d.nr_vcpus; ++i) {
        Vcpu& v = d.vcpus[i];
        if (!paused) {
            vcpu_kick(v);
            continue;
        }
        if (v.pcpu == this_cpu().index) continue;  // we are running here, so it is not
        gic().send_sgi(v.pcpu, kSgiKick);
        // The other CPU takes the kick at its next instruction boundary in the guest, or
        // is in the hypervisor with interrupts masked for a bounded time.
        while (__atomic_load_n(&pcpus[v.pcpu].current, __ATOMIC_ACQUIRE) == &v) asm volatile("yield");
    }
}

// Unmaps, from every other domain, the pages of `d` they map as foreign pages.
void revoke_foreign_maps_of(const Domain& d)
{
    LockGuard outer(foreign_map_lock);
    for (Domain& mapper : domains) {
        if (&mapper == &d || mapper.state == DomainState::Free) continue;
        bool flushed = false;
        LockGuard g(mapper.p2m_lock);
        for (ForeignMap& f : mapper.foreign) {
            if (f.gfn == ~0ull || f.owner != d.id) continue;
            (void)mapper.s2.unmap(IpAddr(f.gfn << kPageShift), kPageSize);
            f = ForeignMap{};
            flushed = true;
        }
        if (flushed) domain_flush_tlb(mapper);
    }
}
} // namespace

void domain_shutdown(Domain& d, unsigned reason)
{
    const char* name = reason < sizeof kReasons / sizeof kReasons[0] ? kReasons[reason] : "?";
    if (!d.toolstack_managed) {
        if (d.state == DomainState::Running) printk("d%u (%s): shutdown (%s)\n", d.id, d.name, name);
        domain_kill(d);
        return;
    }
    if (__atomic_exchange_n(&d.shut_down, true, __ATOMIC_ACQ_REL)) return;  // already down
    if (d.shutdown_code == kShutdownCodeInvalid) d.shutdown_code = reason;
    if (d.has_vpl011) d.vpl011.flush();
    printk("d%u (%s): shutdown (%s), waiting for the control domain\n", d.id, d.name, name);
    stop_vcpus(d);
    notify_control_domain(d);
}

void domain_kill(Domain& d)
{
    DomainState expected = DomainState::Running;
    if (!__atomic_compare_exchange_n(&d.state, &expected, DomainState::Dying, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return;  // already going
    if (d.has_vpl011) d.vpl011.flush();
    notify_control_domain(d);
    stop_vcpus(d);
    // vCPUs loaded elsewhere release the domain when they leave; if none is, do it now.
    if (__atomic_load_n(&d.loaded, __ATOMIC_ACQUIRE) == 0) domain_release(d);
}

Status domain_pause_by_controller(Domain& d)
{
    // Xen caps the control domain's pause count so repeated calls cannot overflow it.
    if (d.controller_pauses >= 255) return Err(Errno::XEN_EOVERFLOW);
    if (d.controller_pauses++ == 0) set_paused(d, true);
    return {};
}

Status domain_unpause_by_controller(Domain& d)
{
    if (d.controller_pauses == 0) return Err(Errno::XEN_EINVAL);
    if (--d.controller_pauses == 0) set_paused(d, false);
    return {};
}

void domain_release(Domain& d)
{
    DomainState expected = DomainState::Dying;
    if (!__atomic_compare_exchange_n(&d.state, &expected, DomainState::Dead, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return;  // someone else is releasing it
    for (unsigned i = 0; i < d.nr_vcpus; ++i) {
        Vcpu& v = d.vcpus[i];
        if (!v.domain) continue;
        LockGuard g(pcpus[v.pcpu].rq.lock);
        pcpus[v.pcpu].rq.remove(&v.sched);
    }
    // Peers' channels to this domain become unbound before its pages go away, and
    // no one keeps a foreign mapping of them.
    event_channels().close_all_for_dead_domain(d.events);
    revoke_foreign_maps_of(d);
    domain_release_grants(d);
    if (d.s2.root().raw() != 0) {
        domain_flush_tlb(d);
        d.s2.destroy();
    }
    domain_destroy_grants(d);
    if (d.ram_size) (void)page_allocator().free(d.ram_pa, d.ram_size / kPageSize);
    if (d.shared_info.raw()) (void)page_allocator().free(d.shared_info, 1);
    const unsigned id = d.id;
    d.~Domain();
    new (&d) Domain();
    printk("d%u: released\n", id);
    if (nr_live_domains() == 0) {
        printk("no domains left: powering off\n");
        firmware_system_off();
    }
}

} // namespace keel::arch
