// A guest that misbehaves on purpose. Each check provokes one exception the
// hypervisor must turn into a fault injected into this guest (rather than
// crash, hang, or ignore it), catches it in a registered handler, and prints
// one line saying what arrived. The lines are what Xen 4.17 does; Keel must
// print the same ones (tests/system matches them on both).
//
// Bootargs: "unhandled" adds a last fault with no handler registered, to see
// the runtime report it and stop the domain.
#include <keel/format.hpp>
#include <keel/guest/runtime.hpp>

#include <cstddef>
#include <string_view>

namespace guest = keel::guest;

namespace {

// One armed probe at a time. The asm stores the faulting instruction's
// address and the address to resume at; the handler records what it saw and
// disarms the probe by clearing resume_pc.
struct Probe {
    std::uint64_t fault_pc;   // offset 0: written by the probe's asm
    std::uint64_t resume_pc;  // offset 8: likewise; 0 when disarmed
    bool taken;
    std::uint64_t esr;
    std::uint64_t far;
    std::uint64_t elr;
};
static_assert(offsetof(Probe, fault_pc) == 0 && offsetof(Probe, resume_pc) == 8);
Probe g_probe;

guest::ExceptionAction on_exception(guest::ExceptionFrame& frame)
{
    if (g_probe.resume_pc == 0) return guest::ExceptionAction::kUnhandled;  // not ours: report and stop
    g_probe.taken = true;
    g_probe.esr = frame.esr;
    g_probe.far = frame.far;
    g_probe.elr = frame.elr;
    frame.elr = g_probe.resume_pc;
    g_probe.resume_pc = 0;
    return guest::ExceptionAction::kResume;
}

void arm() { g_probe = Probe{}; }

// Runs one instruction as a probe: label 1 is the instruction, label 2 after it.
#define KEEL_PROBE(instruction, ...)                       \
    asm volatile("adr x16, 1f\n\t"                         \
                 "adr x17, 2f\n\t"                         \
                 "stp x16, x17, [%[probe]]\n\t"            \
                 "1: " instruction "\n\t"                  \
                 "2:"                                      \
                 :                                         \
                 : [probe] "r"(&g_probe) __VA_OPT__(,) __VA_ARGS__ \
                 : "x16", "x17", "memory")

void store_to(std::uint64_t address)
{
    arm();
    KEEL_PROBE("str wzr, [%[address]]", [address] "r"(address));
}

void hvc_unknown_immediate()
{
    arm();
    KEEL_PROBE("hvc #0x1234");
}

void read_impdef_sysreg()
{
    arm();
    KEEL_PROBE("mrs x16, S3_0_C15_C0_0");
}

// "data abort (EC 0x25, ESR 0x96000000, FAR ok, ELR at insn)": the class, the
// whole syndrome (IL and ISS are part of what the hypervisor chose), whether
// FAR names the address (data aborts only), and whether ELR points at the
// instruction or past it.
void report(const char* what, const std::uint64_t* expected_far = nullptr)
{
    if (!g_probe.taken) {
        guest::print("misbehave: %s -> no exception\n", what);
        return;
    }
    guest::ExceptionFrame seen{};
    seen.elr = g_probe.elr;
    seen.esr = g_probe.esr;
    seen.far = g_probe.far;
    char far[40] = "";
    if (expected_far != nullptr) {
        if (seen.far == *expected_far) keel::format(far, sizeof far, ", FAR ok");
        else keel::format(far, sizeof far, ", FAR 0x%lx", seen.far);
    }
    char elr[40];
    if (seen.elr == g_probe.fault_pc) keel::format(elr, sizeof elr, "at insn");
    else if (seen.elr == g_probe.fault_pc + 4) keel::format(elr, sizeof elr, "after insn");
    else keel::format(elr, sizeof elr, "0x%lx", seen.elr);
    const auto ec = seen.exception_class();
    guest::print("misbehave: %s -> %s (EC 0x%02x, ESR 0x%08lx%s, ELR %s)\n", what, guest::exception_class_name(ec),
                 static_cast<unsigned>(ec), seen.esr, far, elr);
}

bool has_word(const char* text, const char* word)
{
    const std::string_view t(text), w(word);
    for (std::size_t at = 0; (at = t.find(w, at)) != std::string_view::npos; at += w.size()) {
        const bool starts = at == 0 || t[at - 1] == ' ';
        const bool ends = at + w.size() == t.size() || t[at + w.size()] == ' ';
        if (starts && ends) return true;
    }
    return false;
}

std::uint64_t ram_end(const void* fdt)
{
    guest::dt::Region banks[8];
    const std::size_t n = guest::dt::memory_banks(fdt, banks, 8);
    std::uint64_t end = 0;
    for (std::size_t i = 0; i < n && i < 8; ++i)
        if (banks[i].base + banks[i].size > end) end = banks[i].base + banks[i].size;
    return end;
}

} // namespace

int main(const void* fdt)
{
    guest::set_sync_exception_handler(on_exception);

    // (a) Stores to IPAs with nothing behind them.
    const std::uint64_t outside_ram = ram_end(fdt) + (16u << 20);
    store_to(outside_ram);
    report("store 16 MiB past end of RAM", &outside_ram);

    const std::uint64_t host_uart = 0x09000000;  // the host's PL011, not in a domU's IPA space
    store_to(host_uart);
    report("store to host UART 0x09000000", &host_uart);

    // (b) Instructions that trap to the hypervisor, which has no use for them.
    hvc_unknown_immediate();
    report("hvc #0x1234");

    read_impdef_sysreg();
    report("mrs S3_0_C15_C0_0");

    // (c)
    guest::print("misbehave: survived\n");

    // With "unhandled" on the command line, end with a fault nobody handles:
    // the runtime's default handler reports it and powers the domain off.
    if (has_word(guest::dt::bootargs(fdt), "unhandled")) {
        guest::set_sync_exception_handler(nullptr);
        *reinterpret_cast<volatile std::uint32_t*>(outside_ram) = 0;
        guest::print("misbehave: unhandled fault returned\n");  // not reached
    }
    return 0;
}
