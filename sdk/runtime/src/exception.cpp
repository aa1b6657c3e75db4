// The C++ half of exception entry (vectors.S): offer synchronous exceptions
// from our own EL to the registered handler; report anything else and stop.
#include <cstddef>

#include <keel/guest/console.hpp>
#include <keel/guest/exception.hpp>
#include <keel/guest/psci.hpp>

namespace keel::guest {
namespace {

// vectors.S hard-codes these offsets.
static_assert(offsetof(ExceptionFrame, x[30]) == 240);
static_assert(offsetof(ExceptionFrame, sp) == 248);
static_assert(offsetof(ExceptionFrame, elr) == 256);
static_assert(offsetof(ExceptionFrame, esr) == 272);
static_assert(sizeof(ExceptionFrame) == 288);

SyncExceptionHandler g_handler = nullptr;
bool g_reporting = false;

const char* const kVectorKind[] = {"synchronous", "IRQ", "FIQ", "SError"};
const char* const kVectorSource[] = {"EL1 on SP_EL0", "EL1", "EL0 (AArch64)", "EL0 (AArch32)"};
constexpr unsigned kVectorOwnEl = 1;  // current EL, SP_ELx: where the guest runs
constexpr unsigned kVectorSync = 0;

[[noreturn]] void report_and_stop(const ExceptionFrame& f, unsigned vector)
{
    // A fault while reporting must not recurse forever.
    if (!g_reporting) {
        g_reporting = true;
        const auto ec = f.exception_class();
        print("keel-rt: unhandled %s exception from %s: %s (EC 0x%02x)\n", kVectorKind[vector % 4],
              kVectorSource[vector / 4], exception_class_name(ec), static_cast<unsigned>(ec));
        print("keel-rt:   ESR 0x%08lx FAR 0x%016lx ELR 0x%016lx SPSR 0x%08lx\n", f.esr, f.far, f.elr, f.spsr);
        print("keel-rt: stopping\n");
    }
    psci::system_off();
}

} // namespace

const char* exception_class_name(ExceptionClass ec)
{
    switch (ec) {
    case ExceptionClass::kUnknown: return "undefined instruction";
    case ExceptionClass::kWfx: return "trapped WFI/WFE";
    case ExceptionClass::kFpAccess: return "FP/SIMD access trap";
    case ExceptionClass::kIllegalState: return "illegal execution state";
    case ExceptionClass::kSvc: return "SVC";
    case ExceptionClass::kHvc: return "HVC";
    case ExceptionClass::kSmc: return "SMC";
    case ExceptionClass::kSysReg: return "system register trap";
    case ExceptionClass::kInstructionAbortLower: return "instruction abort (lower EL)";
    case ExceptionClass::kInstructionAbort: return "instruction abort";
    case ExceptionClass::kPcAlignment: return "PC alignment fault";
    case ExceptionClass::kDataAbortLower: return "data abort (lower EL)";
    case ExceptionClass::kDataAbort: return "data abort";
    case ExceptionClass::kSpAlignment: return "SP alignment fault";
    case ExceptionClass::kFpException: return "FP exception";
    case ExceptionClass::kSError: return "SError";
    case ExceptionClass::kBreakpointLower: return "breakpoint (lower EL)";
    case ExceptionClass::kBreakpoint: return "breakpoint";
    case ExceptionClass::kStepLower: return "software step (lower EL)";
    case ExceptionClass::kStep: return "software step";
    case ExceptionClass::kWatchpointLower: return "watchpoint (lower EL)";
    case ExceptionClass::kWatchpoint: return "watchpoint";
    case ExceptionClass::kBrk: return "BRK";
    }
    return "unexpected exception class";
}

SyncExceptionHandler set_sync_exception_handler(SyncExceptionHandler handler)
{
    SyncExceptionHandler previous = g_handler;
    g_handler = handler;
    return previous;
}

} // namespace keel::guest

extern "C" void keel_guest_exception(keel::guest::ExceptionFrame* frame, unsigned vector)
{
    using namespace keel::guest;
    if (vector == kVectorOwnEl * 4 + kVectorSync && g_handler != nullptr &&
        g_handler(*frame) == ExceptionAction::kResume)
        return;
    report_and_stop(*frame, vector);
}
