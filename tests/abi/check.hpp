// One line per check: "abi: <area>: <what> -> <result>", where the result is
// something every correct implementation of the Xen ABI answers the same way
// (a symbolic errno or grant status, "ok", a property such as "port != 0").
// Never a value that legitimately differs (port numbers, version strings).
#pragma once

#include "xen_names.hpp"

#include <cstdint>

namespace abi {

// Prints the line and counts the check. `result` is printf-style.
void check(const char* area, const char* what, const char* result, ...) __attribute__((format(printf, 3, 4)));

// "yes"/"no".
inline const char* yes_no(bool b) { return b ? "yes" : "no"; }

unsigned checks_done();

} // namespace abi
