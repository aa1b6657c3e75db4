#include "dt/xen_cmdline.hpp"

namespace keel::dt {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Xen compares option names with '-' and '_' treated alike.
bool name_char_equal(char a, char b)
{
    if (a == '-') a = '_';
    if (b == '-') b = '_';
    return a == b;
}

bool name_equal(TextView key, const char* name)
{
    std::size_t i = 0;
    for (; i < key.size; ++i)
        if (name[i] == '\0' || !name_char_equal(key.data[i], name[i])) return false;
    return name[i] == '\0';
}

int digit_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return 99;
}

// Reads a number at the start of `text`; `used` is how many characters it took.
Result<std::uint64_t> leading_number(TextView text, std::size_t& used)
{
    std::size_t i = 0;
    unsigned base = 10;
    if (text.size >= 2 && text.data[0] == '0' && (text.data[1] == 'x' || text.data[1] == 'X')) {
        base = 16;
        i = 2;
    } else if (text.size >= 1 && text.data[0] == '0') {
        base = 8;
    }
    const std::size_t first = i;
    std::uint64_t v = 0;
    for (; i < text.size; ++i) {
        const int d = digit_value(text.data[i]);
        if (d >= static_cast<int>(base)) break;
        if (v > (UINT64_MAX - static_cast<unsigned>(d)) / base) return Err(Errno::XEN_EINVAL);
        v = v * base + static_cast<unsigned>(d);
    }
    if (i == first) return Err(Errno::XEN_EINVAL);
    used = i;
    return v;
}

} // namespace

bool find_option(const char* cmdline, const char* name, TextView& value)
{
    if (cmdline == nullptr) return false;
    bool found = false;
    const char* p = cmdline;
    for (;;) {
        while (is_blank(*p)) ++p;
        if (*p == '\0') return found;

        // One option: up to the next blank outside double quotes.
        const char* start = p;
        bool quoted = false;
        while (*p != '\0' && (quoted || !is_blank(*p))) {
            if (*p == '"') quoted = !quoted;
            ++p;
        }
        const TextView opt{start, static_cast<std::size_t>(p - start)};

        std::size_t eq = 0;
        while (eq < opt.size && opt.data[eq] != '=') ++eq;
        if (!name_equal(TextView{opt.data, eq}, name)) continue;

        found = true;
        value = eq < opt.size ? TextView{opt.data + eq + 1, opt.size - eq - 1} : TextView{opt.data + opt.size, 0};
        if (value.size >= 2 && value.data[0] == '"' && value.data[value.size - 1] == '"')
            value = TextView{value.data + 1, value.size - 2};
    }
}

Result<std::uint64_t> parse_number(TextView text)
{
    std::size_t used = 0;
    auto v = leading_number(text, used);
    if (!v) return Err(v.error());
    if (used != text.size) return Err(Errno::XEN_EINVAL);
    return *v;
}

Result<std::uint64_t> parse_size(TextView text)
{
    std::size_t used = 0;
    auto v = leading_number(text, used);
    if (!v) return Err(v.error());

    unsigned shift = 10;  // Xen's default unit is KiB
    if (used < text.size) {
        switch (text.data[used]) {
        case 'T': case 't': shift = 40; break;
        case 'G': case 'g': shift = 30; break;
        case 'M': case 'm': shift = 20; break;
        case 'K': case 'k': shift = 10; break;
        case 'B': case 'b': shift = 0; break;
        default: return Err(Errno::XEN_EINVAL);
        }
        ++used;
    }
    if (used != text.size) return Err(Errno::XEN_EINVAL);
    if (shift > 0 && *v > (UINT64_MAX >> shift)) return Err(Errno::XEN_EINVAL);
    return *v << shift;
}

bool list_contains(TextView list, const char* item)
{
    std::size_t start = 0;
    for (std::size_t i = 0; i <= list.size; ++i) {
        if (i == list.size || list.data[i] == ',') {
            if (TextView{list.data + start, i - start}.equals(item)) return true;
            start = i + 1;
        }
    }
    return false;
}

} // namespace keel::dt
