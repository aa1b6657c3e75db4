#include "check.hpp"

#include <cstdarg>
#include <keel/format.hpp>
#include <keel/guest/console.hpp>

namespace abi {
namespace {

unsigned g_checks = 0;

} // namespace

void check(const char* area, const char* what, const char* result, ...)
{
    char text[160];
    va_list ap;
    va_start(ap, result);
    keel::vformat(text, sizeof text, result, ap);
    va_end(ap);
    ++g_checks;
    keel::guest::print("abi: %s: %s -> %s\n", area, what, text);
}


unsigned checks_done() { return g_checks; }

} // namespace abi
