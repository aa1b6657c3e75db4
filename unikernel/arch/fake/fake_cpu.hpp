// The host build's stand-in for the CPU's interrupt mask: a flag, plus one
// simulated interrupt line. Tests raise the line; like hardware, the handler
// runs (with the mask set) as soon as the mask drops, so code that forgets to
// mask, or masks across a switch wrongly, shows up in tests.
//
// One simulated CPU for the whole process: host tests that back unikernel
// threads with host threads run one at a time, handing the CPU over.
#pragma once

namespace keel::uk::arch::fake {

using IrqHandler = void (*)(void* context);

// Handler for the simulated line (nullptr: none; a raised line then stays pending).
void set_irq_handler(IrqHandler handler, void* context);
// Marks the line pending; taken at once if interrupts are unmasked.
void raise_irq();
bool irq_pending();
// Back to the power-on state: unmasked, nothing pending, no handler.
void reset();

} // namespace keel::uk::arch::fake
