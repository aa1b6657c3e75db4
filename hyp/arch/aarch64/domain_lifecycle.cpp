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

void domain_shutdown(Domain& d, const char* reason)
{
    DomainState expected = DomainState::Running;
    if (!__atomic_compare_exchange_n(&d.state, &expected, DomainState::Dying, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return;  // already going
    if (d.has_vpl011) d.vpl011.flush();
    printk("d%u (%s): shutdown (%s)\n", d.id, d.name, reason);
    // Tell the control domain, as Xen does (VIRQ_DOM_EXC is global: vCPU 0's binding).
    for (Domain& other : domains)
        if (other.privileged && other.state == DomainState::Running && &other != &d)
            event_channels().raise_virq(DomainId(other.id), VIRQ_DOM_EXC, 0);
    for (unsigned i = 0; i < d.nr_vcpus; ++i) {
        Vcpu& v = d.vcpus[i];
        {
            LockGuard g(pcpus[v.pcpu].rq.lock);
            v.sched.state = sched::State::Offline;
        }
        if (v.pcpu != this_cpu().index) gic().send_sgi(v.pcpu, kSgiKick);
    }
    // vCPUs loaded elsewhere release the domain when they leave; if none is, do it now.
    if (__atomic_load_n(&d.loaded, __ATOMIC_ACQUIRE) == 0) domain_release(d);
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
    // Peers' channels to this domain become unbound before its pages go away.
    event_channels().close_all_for_dead_domain(d.events);
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
