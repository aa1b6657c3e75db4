#include "scheduler.hpp"

#include "console.hpp"
#include "domain.hpp"
#include "gic.hpp"
#include "irq.hpp"
#include "sysreg.hpp"
#include "vcpu_context.hpp"

namespace keel::arch {

Pcpu pcpus[kMaxCpus];
unsigned nr_pcpus = 0;

namespace {
std::uint64_t slice_ticks = 0;
constexpr unsigned kSliceMs = 10;

std::uint64_t now() { return sysreg::cntpct_el0::read(); }

Vcpu* vcpu_of(sched::Entity* e) { return reinterpret_cast<Vcpu*>(reinterpret_cast<char*>(e) - offsetof(Vcpu, sched)); }

void program_hyp_timer(std::uint64_t deadline)
{
    if (deadline == sched::kNoDeadline) {
        sysreg::cnthp_ctl_el2::write(0);
        return;
    }
    sysreg::cnthp_cval_el2::write(deadline);
    sysreg::cnthp_ctl_el2::write(1);  // enabled, not masked
    isb();
}

// The vCPU leaves the hardware. A dying domain's last vCPU to leave releases it.
void switch_out(Pcpu& p)
{
    Vcpu* v = p.current;
    if (!v) return;
    vcpu_save(*v);
    // Its interrupts are back in the vGIC (guest_exit); leave nothing behind that could fire.
    PhysGic& g = gic();
    for (unsigned i = 0; i < g.nr_lrs(); ++i) g.clear_lr(i);
    g.set_underflow_irq(false);
    p.current = nullptr;
    p.frame = nullptr;
    Domain& d = *v->domain;
    if (__atomic_sub_fetch(&d.loaded, 1, __ATOMIC_ACQ_REL) == 0 && d.state == DomainState::Dying) domain_release(d);
}

// The domain's `loaded` count was raised when `v` was picked, under the run-queue
// lock, so a concurrent shutdown either sees it or never lets `v` be picked.
void switch_in(Pcpu& p, Vcpu& v)
{
    vcpu_load(v);
    p.current = &v;
    p.frame = &v.frame;
}

void present_interrupts(Pcpu& p)
{
    Vcpu& v = *p.current;
    PhysGic& g = gic();
    vgic::ListReg lrs[kMaxLrs];
    const unsigned n = v.domain->vgic.fill(v.id, lrs, g.nr_lrs());
    for (unsigned i = 0; i < g.nr_lrs(); ++i) {
        if (i < n) g.write_lr(i, lrs[i]);
        else g.clear_lr(i);
    }
    g.set_underflow_irq(v.domain->vgic.overflowed(v.id));
}
} // namespace

void scheduler_init() { slice_ticks = sysreg::cntfrq_el0::read() / 1000 * kSliceMs; }

void guest_exit(Pcpu& p)
{
    Vcpu* v = p.current;
    if (!v) return;
    PhysGic& g = gic();
    vgic::ListReg lrs[kMaxLrs];
    const unsigned n = g.nr_lrs();
    for (unsigned i = 0; i < n; ++i) lrs[i] = g.read_lr(i);
    v->domain->vgic.sync(v->id, lrs, n);
}

void vcpu_block(Pcpu& p, Vcpu& v) { vcpu_block_until(p, v, 0); }

void vcpu_block_until(Pcpu& p, Vcpu& v, std::uint64_t wake_at)
{
    LockGuard g(p.rq.lock);
    if (v.sched.kick_pending || v.domain->vgic.has_deliverable(v.id)) {
        v.sched.kick_pending = false;
        return;  // an interrupt is already there: WFI completes at once
    }
    // The timer registers are live in the hardware while the vCPU is loaded.
    v.el1.cntv_ctl = sysreg::cntv_ctl_el0::read();
    v.el1.cntv_cval = sysreg::cntv_cval_el0::read();
    const std::uint64_t timer = vtimer_deadline(v);
    v.sched.wake_at = timer == 0 ? wake_at : (wake_at == 0 || timer < wake_at ? timer : wake_at);
    v.sched.state = sched::State::Blocked;
}

void vcpu_kick(Vcpu& v)
{
    Pcpu& target = pcpus[v.pcpu];
    {
        LockGuard g(target.rq.lock);
        if (!sched::RunQueue::wake(&v.sched)) v.sched.kick_pending = true;
    }
    if (&target != &this_cpu()) gic().send_sgi(v.pcpu, kSgiKick);
}

void scheduler_tick(Pcpu& p)
{
    sysreg::cnthp_ctl_el2::write(0);  // re-armed by schedule()
    p.slice_end = 0;                  // the slice is over: let others run
}

GuestFrame* schedule(Pcpu& p)
{
    for (;;) {
        Vcpu* cur = p.current;
        sched::Entity* next_e;
        std::uint64_t deadline;
        {
            LockGuard g(p.rq.lock);
            const std::uint64_t t = now();
            p.rq.wake_expired(t);
            if (cur && cur->domain->state != DomainState::Running) cur->sched.state = sched::State::Offline;
            if (cur && cur->sched.state == sched::State::Running) cur->sched.state = sched::State::Runnable;
            next_e = p.rq.pick_next(cur ? &cur->sched : nullptr, t >= p.slice_end);
            if (next_e) {
                next_e->state = sched::State::Running;
                next_e->kick_pending = false;
                if (!cur || next_e != &cur->sched) __atomic_add_fetch(&vcpu_of(next_e)->domain->loaded, 1, __ATOMIC_ACQ_REL);
            }
            deadline = p.rq.next_deadline();
            if (next_e && p.rq.nr_wanting() > 1) {
                const std::uint64_t end = (next_e == &cur->sched && t < p.slice_end) ? p.slice_end : t + slice_ticks;
                if (end < deadline) deadline = end;
            }
        }
        Vcpu* next = next_e ? vcpu_of(next_e) : nullptr;
        if (next != cur) {
            switch_out(p);
            if (next) {
                switch_in(p, *next);
                p.slice_end = now() + slice_ticks;
            }
        }
        if (next) {
            program_hyp_timer(deadline);
            present_interrupts(p);
            return &next->frame;
        }
        // Idle: sleep until an interrupt (a kick, a deadline), handle it, look again.
        program_hyp_timer(deadline);
        wfi();
        handle_physical_irqs(p);
    }
}

} // namespace keel::arch
