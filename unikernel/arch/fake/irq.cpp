// Host implementation of keel::uk::arch's interrupt mask (see fake_cpu.hpp).
#include "fake_cpu.hpp"

#include <keel/uk/irq_guard.hpp>

namespace keel::uk::arch {
namespace {

bool g_masked = false;
bool g_pending = false;
fake::IrqHandler g_handler = nullptr;
void* g_context = nullptr;

// Delivers the pending interrupt the way an exception entry would: masked
// while the handler runs, the previous state back afterwards.
void deliver()
{
    while (!g_masked && g_pending && g_handler != nullptr) {
        g_pending = false;
        g_masked = true;
        g_handler(g_context);
        g_masked = false;
    }
}

} // namespace

IrqState irq_save()
{
    const IrqState previous = g_masked ? 1 : 0;
    g_masked = true;
    return previous;
}

void irq_restore(IrqState state)
{
    g_masked = state != 0;
    deliver();
}

void irq_enable()
{
    g_masked = false;
    deliver();
}

bool irqs_masked() { return g_masked; }

bool irq_state_masked(IrqState state) { return state != 0; }

namespace fake {

void set_irq_handler(IrqHandler handler, void* context)
{
    g_handler = handler;
    g_context = context;
}

void raise_irq()
{
    g_pending = true;
    deliver();
}

bool irq_pending() { return g_pending; }

void reset()
{
    g_masked = false;
    g_pending = false;
    g_handler = nullptr;
    g_context = nullptr;
}

} // namespace fake
} // namespace keel::uk::arch
