// tests/guests/pingpong: two dom0less domUs (`xen,enhanced = "no-xenstore"`)
// that talk through the Xen ABI alone -- an interdomain event channel and
// grant tables v1 -- with no xenstore to find each other: they rendezvous by
// convention (see roles.hpp). One image, both roles; the same lines on Xen
// 4.17 and on Keel. Bootargs: see config.hpp.
#include "config.hpp"
#include "roles.hpp"
#include "xen_calls.hpp"

#include <cstdarg>
#include <keel/format.hpp>
#include <keel/guest/runtime.hpp>

namespace guest = keel::guest;

namespace pingpong {

void line(const char* what, const char* answer, ...)
{
    char text[128];
    va_list ap;
    va_start(ap, answer);
    keel::vformat(text, sizeof text, answer, ap);
    va_end(ap);
    guest::print("pingpong: %s -> %s\n", what, text);
}

} // namespace pingpong

namespace {

// Replaced by shared_info once add_to_physmap has run; never touched as RAM again.
alignas(pingpong::kPage) std::uint8_t g_shared_info_page[pingpong::kPage];

[[noreturn]] void power_off(int status)
{
    if (status != 0) guest::print("pingpong: stopping after an error\n");
    pingpong::shutdown_poweroff();
    guest::exit(status);  // PSCI SYSTEM_OFF if the hypercall ever returns
}

} // namespace

int main(const void* fdt)
{
    using namespace pingpong;
    Config cfg;
    if (!parse_bootargs(guest::dt::bootargs(fdt), cfg)) {
        guest::print("pingpong: bootargs want role=a|b peer=N [bench=N] or role=solo hypercalls=N\n");
        power_off(1);
    }
    if (cfg.role == Role::kSolo) power_off(run_hypercall_bench(cfg.bench_hypercalls));

    if (!read_hypervisor_node(fdt, cfg)) {
        guest::print("pingpong: no xen,xen node with a grant region and an extended region\n");
        power_off(1);
    }
    const long r = map_shared_info(g_shared_info_page);
    if (r != 0) {
        line("add_to_physmap shared_info", "%s", rc_name(r));
        power_off(1);
    }
    const int status = cfg.role == Role::kA ? run_a(cfg, g_shared_info_page) : run_b(cfg, g_shared_info_page);
    if (status == 0) guest::print("pingpong: done\n");
    power_off(status);
}
