// PSCI calls through the SMC Calling Convention, on the conduit /psci names.
#include <libfdt.h>

#include <string_view>

#include <keel/guest/psci.hpp>

#include "runtime_internal.hpp"

namespace keel::guest::psci {
namespace {

enum class Conduit { kNone, kHvc, kSmc };
Conduit g_conduit = Conduit::kNone;

constexpr std::uint32_t kPsciVersion = 0x84000000;
constexpr std::uint32_t kPsciSystemOff = 0x84000008;

// SMCCC 1.0: x0 function id in, x0 result out, x1-x17 may be clobbered.
std::uint64_t call(std::uint32_t function)
{
    register std::uint64_t x0 asm("x0") = function;
    if (g_conduit == Conduit::kHvc) {
        asm volatile("hvc #0"
                     : "+r"(x0)
                     :
                     : "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13",
                       "x14", "x15", "x16", "x17", "memory");
    } else {
        asm volatile("smc #0"
                     : "+r"(x0)
                     :
                     : "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13",
                       "x14", "x15", "x16", "x17", "memory");
    }
    return x0;
}

} // namespace

keel::Result<std::uint32_t> version()
{
    if (g_conduit == Conduit::kNone) return keel::Err(keel::Errno::XEN_ENODEV);
    return static_cast<std::uint32_t>(call(kPsciVersion));
}

void system_off()
{
    if (g_conduit != Conduit::kNone) call(kPsciSystemOff);
    for (;;) asm volatile("wfi");
}

} // namespace keel::guest::psci

namespace keel::guest::detail {

void psci_init(const void* fdt)
{
    const int node = fdt_path_offset(fdt, "/psci");
    if (node < 0) return;
    const char* method = static_cast<const char*>(fdt_getprop(fdt, node, "method", nullptr));
    if (method == nullptr) return;
    const std::string_view m(method);
    if (m == "hvc") psci::g_conduit = psci::Conduit::kHvc;
    else if (m == "smc") psci::g_conduit = psci::Conduit::kSmc;
}

} // namespace keel::guest::detail
