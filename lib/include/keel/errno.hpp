// Xen's errno values, taken from the public header rather than retyped:
// xen/errno.h expands XEN_ERRNO(name, value) for us.
#pragma once

namespace keel {

enum class Errno : int {
    OK = 0,  // members carry the header's own XEN_ prefix: host <errno.h> macros would clash with bare names
#define XEN_ERRNO(name, value) XEN_##name = value,
#include <xen/errno.h>
};

// Name of an errno value ("EINVAL"), or "E?" for values Xen does not define.
const char* errno_name(Errno e);

} // namespace keel
