// The physical GIC as the hypervisor drives it: its own interrupts (timer,
// kicks between CPUs) and the virtualization interface (list registers) that
// presents a vCPU's virtual interrupts. One interface, GICv3 and GICv2 behind it.
#pragma once

#include "vgic/vgic.hpp"

#include <cstdint>

namespace keel::arch {

inline constexpr unsigned kIntidSpurious = 1020;
inline constexpr unsigned kSgiKick = 0;          // "re-evaluate what this CPU runs"
inline constexpr unsigned kPpiMaintenance = 25;  // list registers drained (underflow)
inline constexpr unsigned kPpiHypTimer = 26;     // CNTHP: the scheduler's tick
inline constexpr unsigned kPpiVirtTimer = 27;    // CNTV: the running guest's timer
inline constexpr unsigned kMaxLrs = 16;

// Per-vCPU state of the virtual CPU interface that lives in the GIC while the vCPU runs.
struct GicCpuState {
    std::uint64_t vmcr = 0;
    std::uint64_t apr0 = 0, apr1 = 0;
};

class PhysGic {
public:
    virtual void init_distributor() = 0;
    virtual void init_cpu(unsigned cpu) = 0;       // this CPU's redistributor/CPU interface
    virtual unsigned ack() = 0;                     // >= kIntidSpurious when nothing is pending
    virtual void eoi(unsigned intid) = 0;
    virtual void send_sgi(unsigned cpu, unsigned sgi) = 0;
    // Enables a shared peripheral interrupt for the hypervisor itself, delivered to CPU 0.
    virtual void enable_spi(unsigned intid) = 0;

    virtual unsigned nr_lrs() const = 0;
    virtual void write_lr(unsigned n, const vgic::ListReg& lr) = 0;
    virtual vgic::ListReg read_lr(unsigned n) = 0;
    virtual void clear_lr(unsigned n) = 0;
    // Ask for a maintenance interrupt once the list registers (nearly) drain, so
    // interrupts that did not fit are presented without waiting for another exit.
    virtual void set_underflow_irq(bool on) = 0;
    virtual void save_cpu_state(GicCpuState& s) = 0;
    virtual void load_cpu_state(const GicCpuState& s) = 0;

protected:
    ~PhysGic() = default;
};

struct HostGicInfo {
    unsigned version;
    std::uint64_t gicd, gicr, gicc, gich;
    const std::uint64_t* cpu_mpidr;
    unsigned nr_cpus;
};

// The GIC described by the host DT, set up for this machine.
PhysGic& gic_probe(const HostGicInfo& info);
PhysGic& gic();

} // namespace keel::arch
