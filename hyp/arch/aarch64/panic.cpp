#include "panic.hpp"

#include "console.hpp"
#include "hcr_bits.hpp"
#include "sysreg.hpp"

#include <keel/format.hpp>

#include <cstdarg>
#include <cstdint>

extern "C" char __image_start[], __image_end[];

namespace keel::arch {

namespace {

const char* ec_name(std::uint64_t esr)
{
    switch (esr::ec_of(esr)) {
    case esr::Ec::Unknown: return "unknown reason";
    case esr::Ec::InstAbortSame: return "instruction abort";
    case esr::Ec::DataAbortSame: return "data abort";
    case esr::Ec::PcAlign: return "PC alignment";
    case esr::Ec::SpAlign: return "SP alignment";
    case esr::Ec::Brk64: return "BRK";
    case esr::Ec::SError: return "SError";
    case esr::Ec::IllegalState: return "illegal execution state";
    default: return "other";
    }
}

// Walks the frame-pointer chain (the build keeps frame pointers everywhere).
void backtrace(std::uint64_t fp)
{
    printk("backtrace:\n");
    for (int depth = 0; depth < 32 && fp != 0; ++depth) {
        if ((fp & 15) != 0 || fp < reinterpret_cast<std::uint64_t>(__image_start) ||
            fp >= reinterpret_cast<std::uint64_t>(__image_end))
            break;
        const auto* frame = reinterpret_cast<const std::uint64_t*>(fp);
        printk("  [<%016lx>]\n", frame[1]);
        fp = frame[0];
    }
}

} // namespace

void halt_cpu()
{
    for (;;) asm volatile("wfi");
}

void panic(const char* fmt, ...)
{
    char buf[200];
    va_list ap;
    va_start(ap, fmt);
    vformat(buf, sizeof buf, fmt, ap);
    va_end(ap);
    printk("KEEL PANIC on CPU %lu: %s\n", sysreg::mpidr_el1::read() & 0xff, buf);
    backtrace(reinterpret_cast<std::uint64_t>(__builtin_frame_address(0)));
    halt_cpu();
}

} // namespace keel::arch

// Called from the vectors when the hypervisor itself takes an exception.
extern "C" [[noreturn]] void keel_hyp_fault(std::uint64_t kind, std::uint64_t esr, std::uint64_t elr,
                                            std::uint64_t far, std::uint64_t fp)
{
    using namespace keel::arch;
    static const char* const kinds[] = {"synchronous exception", "IRQ", "FIQ", "SError"};
    printk("KEEL PANIC: %s in the hypervisor: %s (EC 0x%lx)\n", kinds[kind & 3], ec_name(esr),
           (esr >> esr::kEcShift) & 0x3f);
    printk("  ESR_EL2 %016lx  ELR_EL2 %016lx  FAR_EL2 %016lx\n", esr, elr, far);
    backtrace(fp);
    halt_cpu();
}
