#pragma once

namespace keel::arch {

// Stops the whole machine with a message and a backtrace. Only for hypervisor
// bugs: nothing a guest does may lead here.
[[noreturn]] void panic(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// Stops this CPU for good (used after a panic on another CPU, and by idle CPUs at power-off).
[[noreturn]] void halt_cpu();

} // namespace keel::arch
