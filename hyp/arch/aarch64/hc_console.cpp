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
    case CONSOLEIO_read: {
        if (!c.dom.privileged) return xen_err(Errno::XEN_EPERM);
        // Characters typed while this domain has the console focus (console_input.cpp).
        char chunk[Domain::ConsoleInput::kSize];
        unsigned n = 0;
        {
            auto& in = c.dom.console_in;
            LockGuard g(in.lock);
            while (n < count && in.count > 0) {
                chunk[n++] = in.buf[in.head];
                in.head = (in.head + 1) % in.kSize;
                --in.count;
            }
        }
        if (Status s = c.mem.write(buf, chunk, n); !s) return s.as_xen_ret();
        return static_cast<long>(n);
    }
    default: return xen_err(Errno::XEN_ENOSYS);
    }
}

} // namespace keel::arch
