// The runtime's start-up sequence, from start.S to main and back out.
#include <keel/guest/runtime.hpp>

#include "runtime_internal.hpp"

extern "C" {
using Constructor = void (*)();
extern Constructor __init_array_start[], __init_array_end[];
}

namespace keel::guest {

void exit(int status)
{
    if (status != 0) print("keel-rt: main returned %d\n", status);
    psci::system_off();
}

} // namespace keel::guest

extern "C" [[noreturn]] void keel_guest_boot(const void* fdt)
{
    using namespace keel::guest;
    detail::mmu_enable_window(fdt);
    detail::console_init(fdt);
    detail::psci_init(fdt);
    if (auto mapped = detail::mmu_map_ram(fdt); !mapped)
        print("keel-rt: cannot map RAM from the device tree (%s): running on the boot window only\n",
              keel::errno_name(mapped.error()));
    for (Constructor* c = __init_array_start; c != __init_array_end; ++c) (*c)();
    exit(main(fdt));
}
