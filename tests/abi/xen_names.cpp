#include "xen_names.hpp"

#include <keel/errno.hpp>
#include <keel/format.hpp>

namespace abi {
namespace {

char g_slots[4][24];
unsigned g_next_slot = 0;
char* slot() { return g_slots[g_next_slot++ % 4]; }

} // namespace

const char* rc(long value)
{
    if (value == 0) return "ok";
    char* out = slot();
    if (value < 0) {
        const char* name = keel::errno_name(static_cast<keel::Errno>(-value));
        if (name[1] != '?') {
            keel::format(out, sizeof g_slots[0], "-%s", name);
            return out;
        }
    }
    keel::format(out, sizeof g_slots[0], "%ld", value);
    return out;
}

const char* gntst(std::int16_t status)
{
    // <xen/grant_table.h>'s GNTST_* values, 0 down to -12.
    static const char* const names[] = {
        "GNTST_okay",           "GNTST_general_error",  "GNTST_bad_domain",     "GNTST_bad_gntref",
        "GNTST_bad_handle",     "GNTST_bad_virt_addr",  "GNTST_bad_dev_addr",   "GNTST_no_device_space",
        "GNTST_permission_denied", "GNTST_bad_page",    "GNTST_bad_copy_arg",   "GNTST_address_too_big",
        "GNTST_eagain",         "GNTST_no_space",
    };
    if (status <= 0 && -status < static_cast<int>(sizeof names / sizeof names[0])) return names[-status];
    char* out = slot();
    keel::format(out, sizeof g_slots[0], "GNTST(%d)", status);
    return out;
}

} // namespace abi
