// Collects a domain's console bytes into whole lines, so output from several
// domains never interleaves mid-line on the physical console. Carriage returns
// are dropped (the console adds its own); overlong lines are split.
#pragma once

#include <cstddef>

namespace keel::vuart {

// Where finished output lines go.
class LineSink {
public:
    virtual void line(const char* text, std::size_t len) = 0;

protected:
    ~LineSink() = default;
};

class LineAssembler {
public:
    static constexpr std::size_t kLineMax = 256;

    void put(char c, LineSink* sink)
    {
        if (c == '\r') return;
        if (c == '\n' || len_ == kLineMax) {
            if (sink) sink->line(buf_, len_);
            len_ = 0;
            if (c == '\n') return;
        }
        buf_[len_++] = c;
    }
    void flush(LineSink* sink)
    {
        if (len_ > 0 && sink) sink->line(buf_, len_);
        len_ = 0;
    }

private:
    char buf_[kLineMax] = {};
    std::size_t len_ = 0;
};

} // namespace keel::vuart
