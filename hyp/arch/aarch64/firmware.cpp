#include "firmware.hpp"

#include "panic.hpp"

namespace keel::arch {

namespace {
bool smc_conduit = true;

std::int64_t psci_call(std::uint64_t fn, std::uint64_t a1, std::uint64_t a2, std::uint64_t a3)
{
    register std::uint64_t x0 asm("x0") = fn;
    register std::uint64_t x1 asm("x1") = a1;
    register std::uint64_t x2 asm("x2") = a2;
    register std::uint64_t x3 asm("x3") = a3;
    if (smc_conduit)
        asm volatile("smc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) : : "memory");
    else
        asm volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) : : "memory");
    return static_cast<std::int64_t>(x0);
}
} // namespace

void firmware_init(bool use_smc) { smc_conduit = use_smc; }

std::int64_t firmware_cpu_on(std::uint64_t mpidr, std::uint64_t entry, std::uint64_t context)
{
    return psci_call(0xc4000003, mpidr, entry, context);
}

void firmware_system_off()
{
    psci_call(0x84000008, 0, 0, 0);
    halt_cpu();
}

} // namespace keel::arch
