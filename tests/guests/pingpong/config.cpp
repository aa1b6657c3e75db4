#include "config.hpp"

#include <keel/guest/device_tree.hpp>

namespace pingpong {
namespace {

bool starts_with(const char* s, const char* prefix)
{
    while (*prefix != '\0')
        if (*s++ != *prefix++) return false;
    return true;
}

// A decimal number up to the next space; false if there are no digits.
bool parse_number(const char* s, unsigned& out)
{
    unsigned value = 0;
    const char* p = s;
    for (; *p >= '0' && *p <= '9'; ++p) value = value * 10 + static_cast<unsigned>(*p - '0');
    if (p == s || (*p != '\0' && *p != ' ')) return false;
    out = value;
    return true;
}

} // namespace

bool parse_bootargs(const char* args, Config& out)
{
    for (const char* w = args; *w != '\0';) {
        unsigned n = 0;
        if (starts_with(w, "role=a")) out.role = Role::kA;
        else if (starts_with(w, "role=b")) out.role = Role::kB;
        else if (starts_with(w, "role=solo")) out.role = Role::kSolo;
        else if (starts_with(w, "wait=yield")) out.wait_by = WaitBy::kYield;
        else if (starts_with(w, "wait=poll")) out.wait_by = WaitBy::kPoll;
        else if (starts_with(w, "peer=")) {
            if (!parse_number(w + 5, n) || n == 0 || n >= 0x7ff0) return false;
            out.peer = static_cast<std::uint16_t>(n);
        } else if (starts_with(w, "bench=")) {
            if (!parse_number(w + 6, out.bench_round_trips)) return false;
        } else if (starts_with(w, "hypercalls=")) {
            if (!parse_number(w + 11, out.bench_hypercalls)) return false;
        }
        while (*w != '\0' && *w != ' ') ++w;
        while (*w == ' ') ++w;
    }
    if (out.role == Role::kSolo) return out.bench_hypercalls > 0;
    return out.role != Role::kUnknown && out.peer != 0;
}

bool read_hypervisor_node(const void* fdt, Config& out)
{
    auto node = keel::guest::dt::find_compatible(fdt, "xen,xen");
    if (!node) return false;
    auto grant = keel::guest::dt::reg(fdt, *node, 0);
    auto extended = keel::guest::dt::reg(fdt, *node, 1);
    if (!grant || !extended || extended->size < 4096) return false;
    out.grant_region = grant->base;
    out.extended_region = extended->base;
    return true;
}

} // namespace pingpong
