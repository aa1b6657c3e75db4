// The bare-guest runtime's contract with the program it starts.
//
// start.S enters at EL1 with the device tree in x0; the runtime then sets up
// a stack, clears BSS, installs exception vectors, turns the MMU on with an
// identity map (RAM normal write-back, everything else Device-nGnRE), finds
// the console and the PSCI conduit in the device tree, runs static
// constructors and calls
//
//     int main(const void* fdt);
//
// Returning from main (or calling keel::guest::exit) powers the domain off
// with PSCI SYSTEM_OFF; a non-zero status is printed first.
#pragma once

#include <keel/guest/console.hpp>
#include <keel/guest/device_tree.hpp>
#include <keel/guest/exception.hpp>
#include <keel/guest/psci.hpp>

int main(const void* fdt);

namespace keel::guest {

[[noreturn]] void exit(int status);

} // namespace keel::guest
