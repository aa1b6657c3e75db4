// The unikernel's one lock on a single CPU: interrupts masked. The scheduler,
// the heap and the page allocator run their critical sections under an
// IrqGuard, since a timer interrupt may preempt a thread anywhere and switch
// to another that enters the same structure.
//
// The arch layer implements the three functions (arch/aarch64: DAIF.I;
// arch/fake: a flag host tests inspect, plus a simulated pending interrupt
// delivered when the mask drops). SMP will pair the mask with a spinlock per
// structure; the guard is where that goes.
#pragma once

namespace keel::uk::arch {

using IrqState = unsigned long;

// Masks interrupts; returns the previous state for irq_restore.
IrqState irq_save();
// Back to a state irq_save returned (an interrupt pending meanwhile is taken now).
void irq_restore(IrqState state);
// Unmasks interrupts (a new thread's first instructions: see Scheduler::thread_main).
void irq_enable();
// Whether interrupts are masked on this CPU (for assertions).
bool irqs_masked();
// Whether a state irq_save returned had them masked: the caller was in an
// interrupt handler or a critical section, where switching threads is wrong.
bool irq_state_masked(IrqState state);

} // namespace keel::uk::arch

namespace keel::uk {

class IrqGuard {
public:
    IrqGuard() : saved_(arch::irq_save()) {}
    ~IrqGuard() { arch::irq_restore(saved_); }
    // Whether the code that took this guard may be switched away from.
    bool preemptible() const { return !arch::irq_state_masked(saved_); }
    IrqGuard(const IrqGuard&) = delete;
    IrqGuard& operator=(const IrqGuard&) = delete;

private:
    arch::IrqState saved_;
};

} // namespace keel::uk
