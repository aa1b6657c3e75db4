// One line per check: "abi: <area>: <what> -> <result>", where the result is
// something every correct implementation of the Xen ABI answers the same way
// (a symbolic errno or grant status, "ok", a property such as "port != 0").
// Never a value that legitimately differs (port numbers, version strings).
#pragma once

#include <cstdint>

namespace abi {

// Prints the line and counts the check. `result` is printf-style.
void check(const char* area, const char* what, const char* result, ...) __attribute__((format(printf, 3, 4)));

// A hypercall's return value: "ok" for 0, "-EINVAL" for Xen errno values,
// the number itself when positive.
const char* rc(long value);
// A grant-table status (GNTST_*): "GNTST_okay", "GNTST_bad_gntref", ...
const char* gntst(std::int16_t status);
// "yes"/"no".
inline const char* yes_no(bool b) { return b ? "yes" : "no"; }

unsigned checks_done();

} // namespace abi
