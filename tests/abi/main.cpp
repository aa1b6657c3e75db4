// tests/abi: every hypercall of Xen's Arm guest ABI that Keel implements,
// its success path and its error paths, one console line per check. The same
// image runs on Xen 4.17 (the oracle) and on Keel; their lines must be equal.
// Runs as dom0 (console_io and remote_shutdown are privileged); on Xen its
// console is console_io (Xen hides the host UART from dom0).
#include <keel/guest/runtime.hpp>
#include <libfdt.h>

#include "check.hpp"
#include "env.hpp"
#include "gic.hpp"
#include "hypercall.hpp"

#include <xen/sched.h>
#include <xen/xen.h>

#include <cstring>

namespace {

// The `xen,xen` node's `interrupts` (one PPI, three cells: type, number, flags)
// and its first `reg` region.
bool read_hypervisor_node(abi::Env& env)
{
    auto node = keel::guest::dt::find_compatible(env.fdt, "xen,xen");
    if (!node) return false;
    int len = 0;
    const auto* cells = static_cast<const fdt32_t*>(fdt_getprop(env.fdt, *node, "interrupts", &len));
    if (cells == nullptr || len < 12 || fdt32_to_cpu(cells[0]) != 1) return false;
    env.event_intid = 16 + fdt32_to_cpu(cells[1]);
    auto region = keel::guest::dt::reg(env.fdt, *node, 0);
    if (!region) return false;
    env.grant_base = region->base;
    env.grant_size = region->size;
    return true;
}

// Whether the space-separated `args` contain `word`.
bool has_word(const char* args, const char* word)
{
    const std::size_t n = std::strlen(word);
    for (const char* p = args; p && *p;) {
        while (*p == ' ') ++p;
        const char* end = p;
        while (*end && *end != ' ') ++end;
        if (static_cast<std::size_t>(end - p) == n && std::memcmp(p, word, n) == 0) return true;
        p = end;
    }
    return false;
}

} // namespace

int main(const void* fdt)
{
    abi::Env env;
    env.fdt = fdt;
    env.vcpus = keel::guest::dt::cpu_count(fdt);
    const bool node_ok = read_hypervisor_node(env);
    abi::check("dt", "hypervisor node with a PPI and a region", "%s", abi::yes_no(node_ok));
    if (!node_ok) return 1;
    env.gic_ready = static_cast<bool>(abi::gic::init(fdt, env.event_intid));
    abi::check("dt", "gic-v3 found", "%s", abi::yes_no(env.gic_ready));

    abi::check_version_and_console(env);
    abi::check_memory(env);
    abi::check_event_channels(env);
    abi::check_grant_table(env);
    abi::check_sched(env);
    abi::check_vcpu(env);
    abi::check_hvm(env);
    abi::check_physdev_and_multicall(env);
    abi::check_domctl(env);
    abi::check_memory_teardown(env);
    if (has_word(keel::guest::dt::bootargs(fdt), "keel")) abi::check_domctl_keel(env);

    keel::guest::print("abi: done %u checks\n", abi::checks_done());
    // The last call of all, the one with no line of its own: the domain ends here.
    sched_shutdown_t shutdown{SHUTDOWN_poweroff};
    abi::hypercall(__HYPERVISOR_sched_op, SCHEDOP_shutdown, abi::arg(&shutdown));
    keel::guest::print("abi: shutdown returned\n");
    return 1;
}
