// Device-tree fixtures for the dt_* tests: .dts files in tests/unit/data compiled
// with dtc at run time, an editable copy to add /chosen bindings to, and a
// node-by-node, property-by-property tree comparison.
#pragma once

#include <gtest/gtest.h>
#include <libfdt.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <unistd.h>
#include <sstream>
#include <string>
#include <vector>

namespace keel::test {

// tests/unit/data/<name> compiled by dtc, with `extra` DTS source appended: dtc
// merges nodes that share a path, so `/ { chosen { ... }; };` adds to /chosen,
// new children after the existing ones. Empty (and a test failure) on error.
inline std::vector<char> compile_dts(const std::string& name, const std::string& extra = "")
{
    std::vector<char> blob;
    const std::string path = std::string(KEEL_REFERENCE_DIR) + "/" + name;
    FILE* in = std::fopen(path.c_str(), "r");
    if (in == nullptr) {
        ADD_FAILURE() << "cannot read " << path;
        return blob;
    }
    std::string source;
    char chunk[4096];
    std::size_t n;
    while ((n = std::fread(chunk, 1, sizeof chunk, in)) > 0) source.append(chunk, n);
    std::fclose(in);
    source += "\n" + extra + "\n";

    char tmp[] = "/tmp/keel_dt_XXXXXX";
    const int fd = mkstemp(tmp);
    if (fd < 0 || write(fd, source.data(), source.size()) != static_cast<ssize_t>(source.size())) {
        ADD_FAILURE() << "cannot write a temporary .dts";
        if (fd >= 0) close(fd);
        return blob;
    }
    close(fd);

    const std::string cmd = std::string("dtc -q -I dts -O dtb ") + tmp;
    FILE* p = popen(cmd.c_str(), "r");
    if (p != nullptr) {
        while ((n = std::fread(chunk, 1, sizeof chunk, p)) > 0) blob.insert(blob.end(), chunk, chunk + n);
        if (pclose(p) != 0) blob.clear();
    }
    unlink(tmp);
    if (blob.empty() || fdt_check_header(blob.data()) != 0) {
        ADD_FAILURE() << "dtc failed on " << name << " plus:\n" << extra;
        blob.clear();
    }
    return blob;
}

// A host tree with room to grow, edited through libfdt's read-write API.
class EditableFdt {
public:
    explicit EditableFdt(const std::vector<char>& blob, std::size_t room = 16384) : buf_(blob.size() + room)
    {
        EXPECT_EQ(fdt_open_into(blob.data(), buf_.data(), static_cast<int>(buf_.size())), 0);
    }

    void* fdt() { return buf_.data(); }
    const void* fdt() const { return buf_.data(); }

    int node(const char* path)
    {
        const int off = fdt_path_offset(fdt(), path);
        EXPECT_GE(off, 0) << path;
        return off;
    }
    // Adds `name` under `parent_path` and returns its offset.
    int add(const char* parent_path, const char* name)
    {
        const int off = fdt_add_subnode(fdt(), node(parent_path), name);
        EXPECT_GE(off, 0) << parent_path << "/" << name << ": " << fdt_strerror(off);
        return off;
    }
    void set(const char* path, const char* prop, const void* v, int len)
    {
        EXPECT_EQ(fdt_setprop(fdt(), node(path), prop, v, len), 0) << path << " " << prop;
    }
    void set_string(const char* path, const char* prop, const char* v)
    {
        set(path, prop, v, static_cast<int>(std::strlen(v) + 1));
    }
    // A NUL-separated list: {"multiboot,kernel", "multiboot,module"}.
    void set_strings(const char* path, const char* prop, std::initializer_list<const char*> list)
    {
        std::string bytes;
        for (const char* s : list) bytes.append(s, std::strlen(s) + 1);
        set(path, prop, bytes.data(), static_cast<int>(bytes.size()));
    }
    void set_cells(const char* path, const char* prop, std::initializer_list<std::uint32_t> cells)
    {
        std::vector<fdt32_t> be;
        for (auto c : cells) be.push_back(cpu_to_fdt32(c));
        set(path, prop, be.data(), static_cast<int>(be.size() * 4));
    }
    void set_empty(const char* path, const char* prop) { set(path, prop, nullptr, 0); }
    void remove(const char* path, const char* prop)
    {
        EXPECT_EQ(fdt_delprop(fdt(), node(path), prop), 0) << path << " " << prop;
    }
    void pack() { EXPECT_EQ(fdt_pack(fdt()), 0); }

private:
    std::vector<char> buf_;
};

namespace detail {

inline std::string node_path(const void* fdt, int node)
{
    char path[256];
    return fdt_get_path(fdt, node, path, sizeof path) == 0 ? path : "?";
}

inline std::string hex(const void* data, int len)
{
    std::ostringstream s;
    const auto* b = static_cast<const unsigned char*>(data);
    for (int i = 0; i < len; ++i) {
        char h[4];
        std::snprintf(h, sizeof h, "%02x", b[i]);
        s << h << ((i % 4 == 3 && i + 1 < len) ? " " : "");
    }
    return s.str();
}

} // namespace detail

// Same nodes in the same order, each with the same properties (names, values,
// order). `skip` lists "/path:property" pairs left out of the comparison.
inline ::testing::AssertionResult same_tree(const void* got, const void* want,
                                            std::initializer_list<const char*> skip = {})
{
    auto skipped = [&](const std::string& path, const char* prop) {
        for (const char* s : skip)
            if (path + ":" + prop == s) return true;
        return false;
    };
    auto props = [&](const void* fdt, int node, const std::string& path) {
        std::vector<std::pair<std::string, std::string>> out;
        int off;
        fdt_for_each_property_offset(off, fdt, node) {
            const char* name = nullptr;
            int len = 0;
            const void* v = fdt_getprop_by_offset(fdt, off, &name, &len);
            if (!skipped(path, name)) out.emplace_back(name, detail::hex(v, len));
        }
        return out;
    };

    if (fdt_num_mem_rsv(got) != fdt_num_mem_rsv(want))
        return ::testing::AssertionFailure() << "memreserve count " << fdt_num_mem_rsv(got) << " vs "
                                             << fdt_num_mem_rsv(want);
    // fdt_next_node leaves the root with depth -1; that is the end of the walk.
    int dg = 0, dw = 0;
    int g = 0, w = 0;
    while (g >= 0 && w >= 0 && dg >= 0 && dw >= 0) {
        const std::string pg = detail::node_path(got, g), pw = detail::node_path(want, w);
        if (pg != pw || dg != dw)
            return ::testing::AssertionFailure() << "node " << pg << " where the reference has " << pw;
        const auto a = props(got, g, pg), b = props(want, w, pw);
        for (std::size_t i = 0; i < a.size() || i < b.size(); ++i) {
            if (i >= a.size())
                return ::testing::AssertionFailure() << pg << ": missing property " << b[i].first;
            if (i >= b.size())
                return ::testing::AssertionFailure() << pg << ": extra property " << a[i].first;
            if (a[i] != b[i])
                return ::testing::AssertionFailure() << pg << ": property " << a[i].first << " = <" << a[i].second
                                                     << "> where the reference has " << b[i].first << " = <"
                                                     << b[i].second << ">";
        }
        g = fdt_next_node(got, g, &dg);
        w = fdt_next_node(want, w, &dw);
    }
    const bool more_got = g >= 0 && dg >= 0, more_want = w >= 0 && dw >= 0;
    if (more_got || more_want)
        return ::testing::AssertionFailure() << (more_got ? "extra node " + detail::node_path(got, g)
                                                        : "missing node " + detail::node_path(want, w));
    return ::testing::AssertionSuccess();
}

} // namespace keel::test
