// The few things the SDK asks of the vCPU it runs on: hold off interrupts
// around a check-then-sleep, and sleep until an interrupt is pending.
//
// Like raw_hypercall, this is a seam: on aarch64 these are single
// instructions on DAIF and WFI; on the host they are only declared, and the
// unit tests' fake hypervisor defines them (it models "IRQs masked" per
// fake vCPU and takes a pending event interrupt when they are unmasked).
#pragma once

#include <cstdint>

namespace keel::guest::cpu {

// What irq_save found, for irq_restore to put back.
struct IrqState {
    std::uint64_t bits;
};

#if defined(__aarch64__)
// Masks IRQs (DAIF.I). The "memory" clobber keeps the compiler from moving
// shared-memory accesses out of the masked section.
inline IrqState irq_save()
{
    std::uint64_t daif;
    asm volatile("mrs %0, daif\n\tmsr daifset, #2" : "=r"(daif) : : "memory");
    return IrqState{daif};
}

inline void irq_restore(IrqState s)
{
    asm volatile("msr daif, %0" : : "r"(s.bits) : "memory");
}

// WFI wakes on a pending interrupt even while DAIF.I masks it, which is what
// makes "mask, check, WFI, unmask" free of lost wake-ups.
inline void wait_for_interrupt()
{
    asm volatile("wfi" ::: "memory");
}
#else
IrqState irq_save();
void irq_restore(IrqState s);
void wait_for_interrupt();
#endif

// A scope with interrupts held off on this vCPU.
class IrqGuard {
public:
    IrqGuard() : saved_(irq_save()) {}
    ~IrqGuard() { irq_restore(saved_); }
    IrqGuard(const IrqGuard&) = delete;
    IrqGuard& operator=(const IrqGuard&) = delete;

private:
    IrqState saved_;
};

} // namespace keel::guest::cpu
