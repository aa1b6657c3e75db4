// Characters typed on the physical console go to one domain's emulated UART at a
// time. As on Xen, pressing Ctrl-A three times switches to the next domain.
#pragma once

namespace keel::arch {

void console_input_poll();

} // namespace keel::arch
