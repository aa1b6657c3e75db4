// HYPERVISOR_console_io: a domain's debug console. Output is assembled into
// lines and printed "(dN) ..." like vpl011 output; input goes to vpl011s.
#include "hypercall_context.hpp"

#include <xen/xen.h>

namespace keel::arch {

long hc_console_io(HypercallContext& c, std::uint64_t cmd, std::uint64_t count, IpAddr buf)
{
    switch (cmd) {
    case CONSOLEIO_write: {
        char chunk[128];
        for (std::uint64_t done = 0; done < count;) {
            const std::uint64_t n = count - done < sizeof chunk ? count - done : sizeof chunk;
            if (Status s = c.mem.read(buf + done, chunk, n); !s) return s.as_xen_ret();
            for (std::uint64_t i = 0; i < n; ++i) c.dom.console_io_line.put(chunk[i], &c.dom);
            done += n;
        }
        return 0;
    }
    case CONSOLEIO_read:
        if (!c.dom.privileged) return xen_err(Errno::XEN_EPERM);
        return 0;  // typed input goes to the focused domain's vpl011; nothing is queued here
    default: return xen_err(Errno::XEN_ENOSYS);
    }
}

} // namespace keel::arch
