// Xen's answers as readable text, for guests that print what a hypercall said
// (tests/abi, tests/guests/pingpong). The strings live in a few rotating slots:
// each stays valid until the line that prints it is out.
#pragma once

#include <cstdint>

namespace abi {

// A hypercall's return value: "ok" for 0, "-EINVAL" for Xen errno values,
// the number itself when positive.
const char* rc(long value);
// A grant-table status (GNTST_*): "GNTST_okay", "GNTST_bad_gntref", ...
const char* gntst(std::int16_t status);

} // namespace abi
