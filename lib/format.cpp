#include <keel/format.hpp>

#include <cstdint>

namespace keel {
namespace {

struct Sink {
    char* buf;
    std::size_t n;
    std::size_t len = 0;
    void put(char c)
    {
        if (len + 1 < n) buf[len] = c;
        ++len;
    }
};

void put_number(Sink& s, std::uint64_t v, unsigned base, bool upper, bool negative, unsigned width, char pad)
{
    const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    unsigned i = 0;
    do {
        tmp[i++] = digits[v % base];
        v /= base;
    } while (v != 0);
    unsigned total = i + (negative ? 1 : 0);
    if (negative && pad == '0') s.put('-');
    for (; total < width; ++total) s.put(pad);
    if (negative && pad != '0') s.put('-');
    while (i > 0) s.put(tmp[--i]);
}

} // namespace

std::size_t vformat(char* buf, std::size_t n, const char* fmt, va_list ap)
{
    Sink s{buf, n};
    for (const char* p = fmt; *p; ++p) {
        if (*p != '%') {
            s.put(*p);
            continue;
        }
        ++p;
        char pad = ' ';
        unsigned width = 0;
        if (*p == '0') {
            pad = '0';
            ++p;
        }
        while (*p >= '0' && *p <= '9') width = width * 10 + unsigned(*p++ - '0');
        int longs = 0;
        while (*p == 'l' || *p == 'z') {
            ++longs;
            ++p;
        }
        switch (*p) {
        case 'd':
        case 'i': {
            std::int64_t v = longs ? va_arg(ap, long long) : va_arg(ap, int);
            std::uint64_t mag = v < 0 ? std::uint64_t(0) - std::uint64_t(v) : std::uint64_t(v);
            put_number(s, mag, 10, false, v < 0, width, pad);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            std::uint64_t v = longs ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned);
            put_number(s, v, *p == 'u' ? 10 : 16, *p == 'X', false, width, pad);
            break;
        }
        case 'p':
            s.put('0');
            s.put('x');
            put_number(s, reinterpret_cast<std::uintptr_t>(va_arg(ap, void*)), 16, false, false, width, pad);
            break;
        case 's': {
            const char* str = va_arg(ap, const char*);
            if (!str) str = "(null)";
            unsigned len = 0;
            while (str[len]) ++len;
            for (; len < width; ++len) s.put(' ');
            while (*str) s.put(*str++);
            break;
        }
        case 'c':
            s.put(static_cast<char>(va_arg(ap, int)));
            break;
        case '%':
            s.put('%');
            break;
        case '\0':
            --p;
            break;
        default:
            s.put('%');
            s.put(*p);
            break;
        }
    }
    if (n > 0) buf[s.len < n ? s.len : n - 1] = '\0';
    return s.len;
}

std::size_t format(char* buf, std::size_t n, const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    std::size_t r = vformat(buf, n, fmt, ap);
    va_end(ap);
    return r;
}

} // namespace keel
