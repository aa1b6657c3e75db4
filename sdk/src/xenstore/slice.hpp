// string_view::substr throws std::out_of_range, which freestanding code
// (no exceptions, no libstdc++ behind it) cannot link; this clamps instead.
#pragma once

#include <cstddef>
#include <string_view>

namespace keel::guest::xenstore {

inline std::string_view slice(std::string_view s, std::size_t pos,
                              std::size_t n = std::string_view::npos)
{
    if (pos > s.size()) pos = s.size();
    if (n > s.size() - pos) n = s.size() - pos;
    return std::string_view(s.data() + pos, n);
}

} // namespace keel::guest::xenstore
