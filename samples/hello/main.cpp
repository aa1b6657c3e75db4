// The smallest Keel guest: say hello, show what the device tree tells a guest
// about itself, power off. Runs unchanged on Keel and on Xen (as a dom0less
// domU), since everything it knows comes from the device tree in x0.
//
// By the time main runs, the runtime has turned the MMU on, found the console
// (the vpl011 UART) and the PSCI conduit, and run static constructors.
// Returning from main powers the domain off with PSCI SYSTEM_OFF.
#include <keel/guest/runtime.hpp>

namespace guest = keel::guest;

int main(const void* fdt)
{
    const char* args = guest::dt::bootargs(fdt);
    guest::print("hello: hello from %s\n", args[0] != '\0' ? args : "(no bootargs)");
    guest::print("hello: memory %lu MiB\n", static_cast<unsigned long>(guest::dt::memory_size(fdt) >> 20));
    guest::print("hello: vcpus %u\n", guest::dt::cpu_count(fdt));
    if (auto v = guest::psci::version())
        guest::print("hello: psci %u.%u\n", *v >> 16, *v & 0xffff);
    guest::print("hello: done\n");
    return 0;
}
