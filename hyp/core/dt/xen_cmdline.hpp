// Xen-style command-line options ("console=dtuart dom0_mem=512M"), the syntax of
// /chosen xen,xen-bootargs, so one host tree configures both Keel and Xen.
#pragma once

#include "dt/text.hpp"

#include <keel/result.hpp>

#include <cstdint>

namespace keel::dt {

// Finds option `name` in `cmdline`. Options are separated by blanks, double quotes
// group blanks into a value, and '-' and '_' are the same in names, as in Xen.
// Xen applies options in order, so the last occurrence wins. A bare `name` gives
// an empty value. Returns false if the option is absent.
bool find_option(const char* cmdline, const char* name, TextView& value);

// An unsigned number: decimal, 0x hex or 0-prefixed octal, nothing left over.
Result<std::uint64_t> parse_number(TextView text);

// A size the way Xen's parse_size_and_unit reads it: a number, then an optional
// unit B, K, M, G or T (either case). No unit means KiB.
Result<std::uint64_t> parse_size(TextView text);

// True if the comma-separated `list` has an entry equal to `item`.
bool list_contains(TextView list, const char* item);

} // namespace keel::dt
