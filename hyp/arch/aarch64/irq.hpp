#pragma once

#include "pcpu.hpp"

namespace keel::arch {

// Takes every pending physical interrupt on this CPU and acts on it.
void handle_physical_irqs(Pcpu& p);

} // namespace keel::arch
