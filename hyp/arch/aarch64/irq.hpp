#pragma once

#include "pcpu.hpp"

namespace keel::arch {

// Takes every pending physical interrupt on this CPU and acts on it.
void handle_physical_irqs(Pcpu& p);
// The physical console UART's interrupt, once it is enabled.
void set_console_intid(unsigned intid);

} // namespace keel::arch
