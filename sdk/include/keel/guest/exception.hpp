// Exceptions a bare guest takes: the state the vectors save, the exception
// classes a guest meets, and the hook through which a guest (a test guest,
// typically) handles synchronous exceptions itself, for instance to survive a
// fault it provoked on purpose. Without a hook, or when the hook declines, the
// runtime prints the exception class, ESR, FAR and ELR and powers the domain off.
#pragma once

#include <cstdint>

namespace keel::guest {

// ESR_EL1.EC values (Arm ARM, "ESR_EL1, Exception Syndrome Register").
enum class ExceptionClass : std::uint8_t {
    kUnknown = 0x00,  // undefined instructions among others
    kWfx = 0x01,
    kFpAccess = 0x07,
    kIllegalState = 0x0e,
    kSvc = 0x15,
    kHvc = 0x16,
    kSmc = 0x17,
    kSysReg = 0x18,
    kInstructionAbortLower = 0x20,
    kInstructionAbort = 0x21,
    kPcAlignment = 0x22,
    kDataAbortLower = 0x24,
    kDataAbort = 0x25,
    kSpAlignment = 0x26,
    kFpException = 0x2c,
    kSError = 0x2f,
    kBreakpointLower = 0x30,
    kBreakpoint = 0x31,
    kStepLower = 0x32,
    kStep = 0x33,
    kWatchpointLower = 0x34,
    kWatchpoint = 0x35,
    kBrk = 0x3c,
};

// "data abort", "undefined instruction", ... ; "exception class 0x.." style text for others.
const char* exception_class_name(ExceptionClass ec);

// The registers saved on entry, restored on return (the FP/SIMD registers are
// saved and restored too, but are not part of what a handler sees).
struct ExceptionFrame {
    std::uint64_t x[31];
    std::uint64_t sp;    // the interrupted stack pointer; not restored
    std::uint64_t elr;   // where execution resumes: a handler may move it
    std::uint64_t spsr;
    std::uint64_t esr;
    std::uint64_t far;

    ExceptionClass exception_class() const { return static_cast<ExceptionClass>(esr >> 26); }
    std::uint32_t iss() const { return static_cast<std::uint32_t>(esr & 0x1ffffff); }
    // Resume after the instruction ELR points at (AArch64 instructions are 4 bytes).
    void skip_instruction() { elr += 4; }
};

enum class ExceptionAction {
    kResume,     // return to frame.elr with the frame's registers
    kUnhandled,  // fall back to the default: report and power off
};

// Called for synchronous exceptions taken from the guest's own EL (EL1 on SP_EL1).
using SyncExceptionHandler = ExceptionAction (*)(ExceptionFrame& frame);

// Installs `handler` (nullptr restores the default); returns the previous one.
SyncExceptionHandler set_sync_exception_handler(SyncExceptionHandler handler);

} // namespace keel::guest
