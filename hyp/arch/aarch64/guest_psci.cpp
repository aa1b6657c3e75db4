// Virtual PSCI: the arch-neutral decoder (core/psci) with the actions that touch
// vCPUs and domains.
#include "guest_psci.hpp"

#include "domain.hpp"

#include <xen/sched.h>
#include "inject.hpp"
#include "pcpu.hpp"
#include "psci/vpsci.hpp"
#include "scheduler.hpp"
#include "vcpu_context.hpp"

namespace keel::arch {

namespace {
class DomainPsci final : public psci::Actions {
public:
    explicit DomainPsci(Vcpu& caller) : v_(caller), d_(*caller.domain) {}

    std::int64_t cpu_on(unsigned target, std::uint64_t entry, std::uint64_t context) override
    {
        Vcpu& t = d_.vcpus[target];
        Pcpu& p = pcpus[t.pcpu];
        {
            LockGuard g(p.rq.lock);
            if (t.sched.state != sched::State::Offline) return psci::kAlreadyOn;
            vcpu_reset(t, entry, context);
            t.sched.state = sched::State::Runnable;
        }
        vcpu_kick(t);
        return psci::kSuccess;
    }
    void cpu_off() override
    {
        LockGuard g(pcpus[v_.pcpu].rq.lock);
        v_.sched.state = sched::State::Offline;
    }
    bool vcpu_online(unsigned target) override { return d_.vcpus[target].sched.state != sched::State::Offline; }
    unsigned nr_vcpus() override { return d_.nr_vcpus; }
    void system_off() override { domain_shutdown(d_, SHUTDOWN_poweroff); }
    void system_reset() override { domain_shutdown(d_, SHUTDOWN_reboot); }
    void cpu_suspend() override { vcpu_block(this_cpu(), v_); }

private:
    Vcpu& v_;
    Domain& d_;
};
} // namespace

void guest_psci_call(Vcpu& v)
{
    const std::uint32_t fn = static_cast<std::uint32_t>(v.frame.x[0]);
    if (!psci::is_psci_or_smccc(fn)) {
        v.frame.x[0] = static_cast<std::uint64_t>(psci::kNotSupported);
        return;
    }
    DomainPsci actions(v);
    v.frame.x[0] = static_cast<std::uint64_t>(psci::call(fn, v.frame.x[1], v.frame.x[2], v.frame.x[3], actions));
}

} // namespace keel::arch
