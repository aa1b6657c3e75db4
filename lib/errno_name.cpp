#include <keel/errno.hpp>

namespace keel {
namespace {

struct ErrnoName {
    int value;
    const char* name;
};

// Generated from the public header; aliases (EWOULDBLOCK, EDEADLOCK) come after
// the names they alias, so the first match is the canonical name.
constexpr ErrnoName kNames[] = {
#define XEN_ERRNO(name, value) {value, #name},
#include <xen/errno.h>
};

} // namespace

const char* errno_name(Errno e)
{
    if (e == Errno::OK) return "OK";
    for (const auto& n : kNames)
        if (n.value == static_cast<int>(e)) return n.name;
    return "E?";
}

} // namespace keel
