#include <cstring>
#include <initializer_list>
#include <keel/guest/xenstore/store.hpp>
#include <new>

#include "slice.hpp"

namespace keel::guest::xenstore {

namespace {

constexpr std::size_t kChunkData = 60;

constexpr std::uint32_t chunks_for(std::size_t len)
{
    return static_cast<std::uint32_t>((len + kChunkData - 1) / kChunkData);
}

constexpr std::size_t align8(std::size_t n) { return (n + 7) & ~std::size_t{7}; }

template <typename T>
T* carve(std::byte*& p, std::size_t n)
{
    T* t = reinterpret_cast<T*>(p);
    for (std::size_t i = 0; i < n; ++i) new (&t[i]) T();
    p += align8(sizeof(T) * n);
    return t;
}

bool valid_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '/' || c == '_' || c == '@';
}

// xenstored's rules: absolute, allowed characters only, no empty component,
// no trailing '/' except for the root itself.
bool valid_path(std::string_view abs)
{
    if (abs.empty() || abs.size() > kAbsPathMax || abs[0] != '/') return false;
    for (std::size_t i = 0; i < abs.size(); ++i) {
        if (!valid_char(abs[i])) return false;
        if (abs[i] == '/' && i + 1 < abs.size() && abs[i + 1] == '/') return false;
    }
    return abs.size() == 1 || abs.back() != '/';
}

bool valid_special(std::string_view s)
{
    if (s.size() < 2 || s.size() > kAbsPathMax || s[0] != '@') return false;
    for (char c : s)
        if (!valid_char(c) || c == '/') return false;
    return true;
}

// The event path `child` is inside `parent` (or is it).
bool is_child(std::string_view child, std::string_view parent)
{
    if (parent == "/") return !child.empty() && child[0] == '/';
    return slice(child, 0, parent.size()) == parent &&
           (child.size() == parent.size() || child[parent.size()] == '/');
}

// The components of an absolute path, left to right.
class Components {
public:
    explicit Components(std::string_view abs) : abs_(abs), pos_(1) {}
    bool next(std::string_view* out)
    {
        if (pos_ >= abs_.size()) return false;
        std::size_t end = abs_.find('/', pos_);
        if (end == std::string_view::npos) end = abs_.size();
        *out = slice(abs_, pos_, end - pos_);
        pos_ = end + 1;
        return true;
    }

private:
    std::string_view abs_;
    std::size_t pos_;
};

std::string_view parent_of(std::string_view abs)
{
    const std::size_t slash = abs.rfind('/');
    return slash == 0 ? std::string_view("/") : slice(abs, 0, slash);
}

std::string_view last_component(std::string_view abs) { return slice(abs, abs.rfind('/') + 1); }

} // namespace

struct Store::Chunk {
    std::uint32_t next = kNil;
    char data[kChunkData];
};

struct Store::Node {
    std::uint32_t refs = 0;  // 0: free
    std::uint32_t link = kNil;  // free list, or the list of nodes being released
    Blob name;
    Blob value;
    Blob children;  // node indices, std::uint32_t each, in creation order
    std::uint16_t perm_domain[kMaxPermsPerNode] = {};
    std::uint8_t perm_access[kMaxPermsPerNode] = {};
    std::uint8_t perm_count = 0;
};

struct Store::Conn {
    bool used = false;
    std::uint16_t generation = 0;
    DomainId domain;
    StoreOutput out;
    std::uint32_t watches = 0;
    std::uint32_t transactions = 0;
    std::uint32_t watch_bytes = 0;  // charged to the domain's byte quota
};

struct Store::WatchRec {
    std::uint32_t conn = kNil;  // kNil: free
    Blob path;                  // canonical (absolute) or "@special"
    Blob token;
    bool relative = false;      // report event paths relative to the domain's home
    bool dropped = false;       // an event was refused: fire with our own path later
};

struct Store::Tx {
    std::uint32_t conn = kNil;  // kNil: free
    std::uint32_t id = 0;
    std::uint32_t root = kNil;  // the snapshot, with this transaction's changes
    std::uint64_t start_generation = 0;
    Blob log;  // the events to fire on commit
    bool dirty = false;
};

// ---------------------------------------------------------------------------
// Arena

std::size_t Store::arena_bytes(const StoreConfig& c)
{
    return align8(sizeof(Chunk) * c.max_chunks) + align8(sizeof(Node) * c.max_nodes) +
           align8(sizeof(Conn) * c.max_connections) + align8(sizeof(WatchRec) * c.max_watches) +
           align8(sizeof(Tx) * c.max_transactions) + align8(sizeof(Frame) * kMaxDepth);
}

Store::Store(std::span<std::byte> arena, const StoreConfig& config) : config_(config)
{
    if (config_.max_perms == 0 || config_.max_perms > kMaxPermsPerNode) config_.max_perms = kMaxPermsPerNode;
    if (config_.max_value > kPayloadMax) config_.max_value = kPayloadMax;
    if (config_.max_nodes == 0 || config_.max_chunks == 0 || config_.max_nodes >= kNil ||
        config_.max_connections > 0xffff ||
        config_.max_chunks >= kNil || arena.size() < arena_bytes(config_) ||
        reinterpret_cast<std::uintptr_t>(arena.data()) % 8 != 0)
        return;

    std::byte* p = arena.data();
    chunks_ = carve<Chunk>(p, config_.max_chunks);
    nodes_ = carve<Node>(p, config_.max_nodes);
    conns_ = carve<Conn>(p, config_.max_connections);
    watches_ = carve<WatchRec>(p, config_.max_watches);
    txs_ = carve<Tx>(p, config_.max_transactions);
    stack_ = carve<Frame>(p, kMaxDepth);

    for (std::uint32_t i = config_.max_chunks; i-- > 0;) {
        chunks_[i].next = free_chunk_;
        free_chunk_ = i;
    }
    for (std::uint32_t i = config_.max_nodes; i-- > 0;) {
        nodes_[i].link = free_node_;
        free_node_ = i;
    }
    PermSet root_perms;
    root_perms.count = 1;
    root_perms.entries[0] = Permission{DomainId(0), Access::none};
    auto root = node_new("", root_perms);
    if (!root) return;
    root_ = *root;
    ok_ = true;
}

// ---------------------------------------------------------------------------
// Blobs

Result<Store::Blob> Store::blob_from(std::string_view bytes)
{
    Blob b;
    KEEL_TRY(blob_resize(b, bytes.size()));
    blob_write(b, 0, bytes.data(), bytes.size());
    return b;
}

void Store::blob_free(Blob& b) { (void)blob_resize(b, 0); }  // shrinking cannot fail

Status Store::blob_resize(Blob& b, std::size_t len)
{
    const std::uint32_t have = chunks_for(b.len);
    const std::uint32_t want = chunks_for(len);
    std::uint32_t* link = &b.head;
    for (std::uint32_t i = 0; i < have && i < want; ++i) link = &chunks_[*link].next;
    if (want > have) {
        if (want - have > chunks_free()) return Err(Errno::XEN_ENOMEM);
        for (std::uint32_t i = have; i < want; ++i) {
            const std::uint32_t c = free_chunk_;
            free_chunk_ = chunks_[c].next;
            chunks_[c].next = kNil;
            *link = c;
            link = &chunks_[c].next;
            ++chunks_used_;
        }
    } else if (want < have) {
        std::uint32_t c = *link;
        *link = kNil;
        while (c != kNil) {
            const std::uint32_t next = chunks_[c].next;
            chunks_[c].next = free_chunk_;
            free_chunk_ = c;
            --chunks_used_;
            c = next;
        }
    }
    b.len = static_cast<std::uint32_t>(len);
    return {};
}

void Store::blob_write(Blob b, std::size_t off, const void* src, std::size_t n)
{
    std::uint32_t c = b.head;
    for (std::size_t i = 0; i < off / kChunkData; ++i) c = chunks_[c].next;
    std::size_t o = off % kChunkData;
    const char* s = static_cast<const char*>(src);
    while (n) {
        const std::size_t take = n < kChunkData - o ? n : kChunkData - o;
        std::memcpy(chunks_[c].data + o, s, take);
        s += take;
        n -= take;
        o = 0;
        c = chunks_[c].next;
    }
}

void Store::blob_read(Blob b, std::size_t off, void* dst, std::size_t n) const
{
    std::uint32_t c = b.head;
    for (std::size_t i = 0; i < off / kChunkData; ++i) c = chunks_[c].next;
    std::size_t o = off % kChunkData;
    char* d = static_cast<char*>(dst);
    while (n) {
        const std::size_t take = n < kChunkData - o ? n : kChunkData - o;
        std::memcpy(d, chunks_[c].data + o, take);
        d += take;
        n -= take;
        o = 0;
        c = chunks_[c].next;
    }
}

bool Store::blob_equals(Blob b, std::string_view s) const
{
    if (b.len != s.size()) return false;
    std::uint32_t c = b.head;
    for (std::size_t off = 0; off < s.size(); off += kChunkData, c = chunks_[c].next) {
        const std::size_t n = s.size() - off < kChunkData ? s.size() - off : kChunkData;
        if (std::memcmp(chunks_[c].data, s.data() + off, n) != 0) return false;
    }
    return true;
}

void Store::blob_copy(Blob src, Blob& dst)
{
    (void)blob_resize(dst, src.len);  // the caller checked chunks_free()
    for (std::uint32_t s = src.head, d = dst.head; s != kNil; s = chunks_[s].next, d = chunks_[d].next)
        std::memcpy(chunks_[d].data, chunks_[s].data, kChunkData);
}

// ---------------------------------------------------------------------------
// Nodes

Result<std::uint32_t> Store::node_new(std::string_view name, const PermSet& perms)
{
    if (free_node_ == kNil || chunks_for(name.size()) > chunks_free()) return Err(Errno::XEN_ENOMEM);
    const std::uint32_t n = free_node_;
    free_node_ = nodes_[n].link;
    ++nodes_used_;
    nodes_[n] = Node{};
    nodes_[n].refs = 1;
    nodes_[n].name = *blob_from(name);
    set_perms_of(n, perms);
    return n;
}

Result<std::uint32_t> Store::node_clone(std::uint32_t src)
{
    const std::uint32_t need = chunks_for(nodes_[src].name.len) + chunks_for(nodes_[src].value.len) +
                               chunks_for(nodes_[src].children.len);
    if (free_node_ == kNil || need > chunks_free()) return Err(Errno::XEN_ENOMEM);
    const std::uint32_t n = free_node_;
    free_node_ = nodes_[n].link;
    ++nodes_used_;
    Node& d = nodes_[n];
    const Node& s = nodes_[src];
    d = s;
    d.refs = 1;
    d.link = kNil;
    d.name = d.value = d.children = Blob{};
    blob_copy(s.name, d.name);
    blob_copy(s.value, d.value);
    blob_copy(s.children, d.children);
    // The copy is one more parent of each child.
    for (std::uint32_t i = 0, count = child_count(n); i < count; ++i) ++nodes_[child_at(n, i)].refs;
    return n;
}

void Store::node_release(std::uint32_t n)
{
    if (--nodes_[n].refs != 0) return;
    // A work list threaded through `link` instead of recursion: trees can be
    // ~1500 levels deep.
    nodes_[n].link = kNil;
    std::uint32_t work = n;
    while (work != kNil) {
        const std::uint32_t x = work;
        work = nodes_[x].link;
        for (std::uint32_t i = 0, count = child_count(x); i < count; ++i) {
            const std::uint32_t c = child_at(x, i);
            if (--nodes_[c].refs == 0) {
                nodes_[c].link = work;
                work = c;
            }
        }
        blob_free(nodes_[x].name);
        blob_free(nodes_[x].value);
        blob_free(nodes_[x].children);
        nodes_[x].link = free_node_;
        free_node_ = x;
        --nodes_used_;
    }
}

std::uint32_t Store::child_count(std::uint32_t n) const { return nodes_[n].children.len / 4; }

std::uint32_t Store::child_at(std::uint32_t n, std::uint32_t i) const
{
    std::uint32_t c;
    blob_read(nodes_[n].children, std::size_t{i} * 4, &c, 4);
    return c;
}

bool Store::find_child(std::uint32_t n, std::string_view name, std::uint32_t* pos) const
{
    for (std::uint32_t i = 0, count = child_count(n); i < count; ++i) {
        if (blob_equals(nodes_[child_at(n, i)].name, name)) {
            *pos = i;
            return true;
        }
    }
    return false;
}

Result<std::uint32_t> Store::unique_child(std::uint32_t parent, std::uint32_t pos)
{
    const std::uint32_t c = child_at(parent, pos);
    if (nodes_[c].refs == 1) return c;  // the parent is ours alone, so is it
    auto copy = node_clone(c);
    if (!copy) return Err(copy.error());
    const std::uint32_t nc = *copy;
    blob_write(nodes_[parent].children, std::size_t{pos} * 4, &nc, 4);
    node_release(c);
    return nc;
}

Status Store::add_child(std::uint32_t parent, std::uint32_t child)
{
    const std::size_t len = nodes_[parent].children.len;
    KEEL_TRY(blob_resize(nodes_[parent].children, len + 4));
    blob_write(nodes_[parent].children, len, &child, 4);
    return {};
}

void Store::remove_child(std::uint32_t parent, std::uint32_t pos)
{
    const std::uint32_t count = child_count(parent);
    for (std::uint32_t i = pos; i + 1 < count; ++i) {
        const std::uint32_t c = child_at(parent, i + 1);
        blob_write(nodes_[parent].children, std::size_t{i} * 4, &c, 4);
    }
    (void)blob_resize(nodes_[parent].children, std::size_t{count - 1} * 4);
}

Store::PermSet Store::perms_of(std::uint32_t n) const
{
    PermSet p;
    p.count = nodes_[n].perm_count;
    for (unsigned i = 0; i < p.count; ++i)
        p.entries[i] = Permission{DomainId(nodes_[n].perm_domain[i]),
                                  static_cast<Access>(nodes_[n].perm_access[i])};
    return p;
}

void Store::set_perms_of(std::uint32_t n, const PermSet& p)
{
    nodes_[n].perm_count = p.count;
    for (unsigned i = 0; i < p.count; ++i) {
        nodes_[n].perm_domain[i] = p.entries[i].domain.raw();
        nodes_[n].perm_access[i] = static_cast<std::uint8_t>(p.entries[i].access);
    }
}

// ---------------------------------------------------------------------------
// Paths, permissions, views

std::size_t Store::home_prefix(DomainId d, char* out) const
{
    static constexpr std::string_view kBase = "/local/domain/";
    std::memcpy(out, kBase.data(), kBase.size());
    std::size_t n = kBase.size();
    n += format_decimal(d.raw(), std::span<char>(out + n, 10));
    out[n++] = '/';
    return n;
}

Result<std::string_view> Store::canonical(const Conn& c, std::string_view path, char* buf) const
{
    if (path.empty()) return Err(Errno::XEN_EINVAL);
    std::string_view abs = path;
    if (path[0] != '/') {
        const std::size_t n = home_prefix(c.domain, buf);
        if (path.size() > kAbsPathMax - n) return Err(Errno::XEN_EINVAL);
        std::memcpy(buf + n, path.data(), path.size());
        abs = std::string_view(buf, n + path.size());
    }
    if (!valid_path(abs)) return Err(Errno::XEN_EINVAL);
    return abs;
}

std::uint32_t Store::lookup(std::uint32_t root, std::string_view abs, bool* exact) const
{
    std::uint32_t n = root;
    Components parts(abs);
    std::string_view part;
    while (parts.next(&part)) {
        std::uint32_t pos;
        if (!find_child(n, part, &pos)) {
            *exact = false;
            return n;
        }
        n = child_at(n, pos);
    }
    *exact = true;
    return n;
}

unsigned Store::access(DomainId d, const PermSet& p)
{
    if (privileged(d) || (p.count && p.entries[0].domain == d)) return kRead | kWrite | kOwner;
    for (unsigned i = 1; i < p.count; ++i)
        if (p.entries[i].domain == d) return static_cast<unsigned>(p.entries[i].access);
    return p.count ? static_cast<unsigned>(p.entries[0].access) : 0;
}

Store::Conn* Store::conn(ConnId c)
{
    // Index in the low half, the slot's generation in the high half: a ConnId
    // kept after its connection went cannot reach the slot's next owner.
    const std::uint32_t i = c.raw() & 0xffff;
    if (!ok_ || i >= config_.max_connections || !conns_[i].used || conns_[i].generation != c.raw() >> 16)
        return nullptr;
    return &conns_[i];
}

Store::Conn* Store::conn_of(DomainId d)
{
    for (std::uint32_t i = 0; ok_ && i < config_.max_connections; ++i)
        if (conns_[i].used && conns_[i].domain == d) return &conns_[i];
    return nullptr;
}

Store::Tx* Store::tx_of(std::uint32_t conn_index, TxId tx)
{
    for (std::uint32_t i = 0; i < config_.max_transactions; ++i)
        if (txs_[i].conn == conn_index && txs_[i].id == tx.raw()) return &txs_[i];
    return nullptr;
}

Result<std::uint32_t*> Store::view(Conn& c, TxId tx)
{
    if (tx == kNoTransaction) return &root_;
    Tx* t = tx_of(static_cast<std::uint32_t>(&c - conns_), tx);
    if (!t) return Err(Errno::XEN_ENOENT);
    return &t->root;
}

Result<std::uint32_t> Store::get_node(DomainId d, std::uint32_t root, std::string_view abs,
                                      unsigned need) const
{
    bool exact;
    const std::uint32_t n = lookup(root, abs, &exact);
    const unsigned have = access(d, perms_of(n));
    if (exact) {
        if ((have & need) != need) return Err(Errno::XEN_EACCES);
        return n;
    }
    // n is the nearest existing ancestor: "no such node" only to those it
    // would let in, so a denial reveals nothing about what exists below.
    return Err((have & need) ? Errno::XEN_ENOENT : Errno::XEN_EACCES);
}

Store::Usage Store::usage_in(std::uint32_t root, DomainId d)
{
    Usage u;
    auto count = [&](std::uint32_t n) {
        if (nodes_[n].perm_count && nodes_[n].perm_domain[0] == d.raw()) {
            ++u.nodes;
            u.bytes += nodes_[n].name.len + nodes_[n].value.len;
        }
    };
    count(root);
    std::uint32_t sp = 0;
    stack_[sp++] = Frame{root, 0};
    while (sp) {
        Frame& f = stack_[sp - 1];
        if (f.next_child < child_count(f.node) && sp < kMaxDepth) {
            const std::uint32_t c = child_at(f.node, f.next_child++);
            count(c);
            stack_[sp++] = Frame{c, 0};
        } else {
            --sp;
        }
    }
    return u;
}

Store::Usage Store::usage(DomainId domain) { return ok_ ? usage_in(root_, domain) : Usage{}; }

// ---------------------------------------------------------------------------
// Changes

Status Store::note_change(Conn& c, TxId tx, const Change& change)
{
    if (tx != kNoTransaction) {
        // Logged, to fire if and when the transaction commits:
        // [recursive][n before][n after][3 bytes per permission][u16 length][path]
        Tx* t = tx_of(static_cast<std::uint32_t>(&c - conns_), tx);
        std::uint8_t head[3 + 3 * 2 * kMaxPermsPerNode + 2];
        std::size_t n = 0;
        head[n++] = change.recursive;
        head[n++] = change.before.count;
        head[n++] = change.after.count;
        for (const PermSet* p : {&change.before, &change.after}) {
            for (unsigned i = 0; i < p->count; ++i) {
                const std::uint16_t dom = p->entries[i].domain.raw();
                std::memcpy(head + n, &dom, 2);
                head[n + 2] = static_cast<std::uint8_t>(p->entries[i].access);
                n += 3;
            }
        }
        const std::uint16_t len = static_cast<std::uint16_t>(change.path.size());
        std::memcpy(head + n, &len, 2);
        n += 2;
        const std::size_t at = t->log.len;
        // The log is the one thing a transaction can grow without creating
        // nodes (rewrite one node forever): charge it to the byte quota.
        if (!privileged(c.domain) && at + n + len > config_.quota_bytes) return Err(Errno::XEN_ENOSPC);
        KEEL_TRY(blob_resize(t->log, at + n + len));
        blob_write(t->log, at, head, n);
        blob_write(t->log, at + n, change.path.data(), len);
        t->dirty = true;
        return {};
    }
    ++generation_;
    pending_ = Pending::change;
    pending_recursive_ = change.recursive;
    pending_before_ = change.before;
    pending_after_ = change.after;
    pending_len_ = change.path.size();
    std::memcpy(pending_path_, change.path.data(), change.path.size());
    return {};
}

Status Store::finish_change(Conn& c, TxId tx, std::uint32_t* root, std::uint32_t new_root,
                            const Usage* before, const Change& change)
{
    if (before && !privileged(c.domain)) {
        // Judged on the finished tree: what the domain owns once this is in.
        const Usage after = usage_in(new_root, c.domain);
        const bool nodes = after.nodes > before->nodes && after.nodes > config_.quota_nodes;
        const bool bytes =
            after.bytes > before->bytes && after.bytes + c.watch_bytes > config_.quota_bytes;
        if (nodes || bytes) {
            node_release(new_root);
            return Err(Errno::XEN_ENOSPC);
        }
    }
    const Status noted = note_change(c, tx, change);
    if (!noted) {
        node_release(new_root);
        return noted;
    }
    node_release(*root);
    *root = new_root;
    return {};
}

Result<std::size_t> Store::op_read(Conn& c, TxId tx, std::string_view path, std::span<char> out)
{
    auto root = view(c, tx);
    if (!root) return Err(root.error());
    auto abs = canonical(c, path, path_);
    if (!abs) return Err(abs.error());
    auto n = get_node(c.domain, **root, *abs, kRead);
    if (!n) return Err(n.error());
    const Blob v = nodes_[*n].value;
    if (v.len > out.size()) return Err(Errno::XEN_ERANGE);
    blob_read(v, 0, out.data(), v.len);
    return std::size_t{v.len};
}

// WRITE (value != nullptr) and MKDIR.
Status Store::op_set(Conn& c, TxId tx, std::string_view path, const std::string_view* value)
{
    auto root = view(c, tx);
    if (!root) return Err(root.error());
    auto abs = canonical(c, path, path_);
    if (!abs) return Err(abs.error());
    if (value && value->size() > config_.max_value) return Err(Errno::XEN_ENOSPC);
    auto existing = get_node(c.domain, **root, *abs, kWrite);
    if (existing && !value) return {};  // MKDIR of something that is there
    if (!existing && existing.error() != Errno::XEN_ENOENT) return Err(existing.error());

    const Usage before = privileged(c.domain) ? Usage{} : usage_in(**root, c.domain);
    auto copy = node_clone(**root);
    if (!copy) return Err(copy.error());
    const std::uint32_t new_root = *copy;
    std::uint32_t cur = new_root;
    Errno failed = Errno::OK;
    Components parts(*abs);
    std::string_view part;
    while (failed == Errno::OK && parts.next(&part)) {
        std::uint32_t pos;
        if (find_child(cur, part, &pos)) {
            auto u = unique_child(cur, pos);
            if (!u) failed = u.error();
            else cur = *u;
            continue;
        }
        // New nodes inherit the parent's permissions; an unprivileged
        // creator owns what it creates.
        PermSet perms = perms_of(cur);
        if (!privileged(c.domain)) perms.entries[0].domain = c.domain;
        auto child = node_new(part, perms);
        if (!child) {
            failed = child.error();
            break;
        }
        const Status added = add_child(cur, *child);
        if (!added) {
            node_release(*child);
            failed = added.error();
            break;
        }
        cur = *child;
    }
    if (failed == Errno::OK && value) {
        const Status sized = blob_resize(nodes_[cur].value, value->size());
        if (sized) blob_write(nodes_[cur].value, 0, value->data(), value->size());
        else failed = sized.error();
    }
    if (failed != Errno::OK) {
        node_release(new_root);
        return Err(failed);
    }
    const PermSet perms = perms_of(cur);
    return finish_change(c, tx, *root, new_root, &before, Change{*abs, false, perms, perms});
}

Status Store::op_rm(Conn& c, TxId tx, std::string_view path)
{
    auto root = view(c, tx);
    if (!root) return Err(root.error());
    auto abs = canonical(c, path, path_);
    if (!abs) return Err(abs.error());
    if (*abs == "/") return Err(Errno::XEN_EINVAL);
    auto n = get_node(c.domain, **root, *abs, kWrite);
    if (!n) {
        if (n.error() != Errno::XEN_ENOENT) return Err(n.error());
        // Not there is fine; its parent not being there either is not.
        bool exact;
        lookup(**root, parent_of(*abs), &exact);
        if (exact) return {};
        return Err(Errno::XEN_ENOENT);
    }
    const PermSet perms = perms_of(*n);
    const Change change{*abs, true, perms, perms};
    const std::string_view parent_path = parent_of(*abs);
    const std::string_view name = last_component(*abs);

    // Nothing else sees the path: change it in place, which needs no memory,
    // so a full store can still be cleaned up.
    bool shared = nodes_[**root].refs != 1;
    {
        std::uint32_t cur = **root;
        Components parts(parent_path);
        std::string_view part;
        while (!shared && parts.next(&part)) {
            std::uint32_t pos;
            find_child(cur, part, &pos);
            cur = child_at(cur, pos);
            shared = nodes_[cur].refs != 1;
        }
    }
    if (!shared) {
        KEEL_TRY(note_change(c, tx, change));
        bool exact;
        const std::uint32_t parent = lookup(**root, parent_path, &exact);
        std::uint32_t pos;
        find_child(parent, name, &pos);
        const std::uint32_t child = child_at(parent, pos);
        remove_child(parent, pos);
        node_release(child);
        return {};
    }

    auto copy = node_clone(**root);
    if (!copy) return Err(copy.error());
    const std::uint32_t new_root = *copy;
    std::uint32_t cur = new_root;
    Components parts(parent_path);
    std::string_view part;
    while (parts.next(&part)) {
        std::uint32_t pos;
        find_child(cur, part, &pos);
        auto u = unique_child(cur, pos);
        if (!u) {
            node_release(new_root);
            return Err(u.error());
        }
        cur = *u;
    }
    std::uint32_t pos;
    find_child(cur, name, &pos);
    const std::uint32_t child = child_at(cur, pos);
    remove_child(cur, pos);
    node_release(child);
    return finish_change(c, tx, *root, new_root, nullptr, change);
}

Result<std::size_t> Store::op_directory(Conn& c, TxId tx, std::string_view path, std::span<char> out)
{
    auto root = view(c, tx);
    if (!root) return Err(root.error());
    auto abs = canonical(c, path, path_);
    if (!abs) return Err(abs.error());
    auto n = get_node(c.domain, **root, *abs, kRead);
    if (!n) return Err(n.error());
    std::size_t len = 0;
    for (std::uint32_t i = 0, count = child_count(*n); i < count; ++i) {
        const Blob name = nodes_[child_at(*n, i)].name;
        if (name.len + 1 > out.size() - len) return Err(Errno::XEN_E2BIG);
        blob_read(name, 0, out.data() + len, name.len);
        out[len + name.len] = '\0';
        len += name.len + 1;
    }
    return len;
}

Result<Store::PermSet> Store::op_get_perms(Conn& c, TxId tx, std::string_view path)
{
    auto root = view(c, tx);
    if (!root) return Err(root.error());
    auto abs = canonical(c, path, path_);
    if (!abs) return Err(abs.error());
    auto n = get_node(c.domain, **root, *abs, kRead);
    if (!n) return Err(n.error());
    return perms_of(*n);
}

Status Store::op_set_perms(Conn& c, TxId tx, std::string_view path, std::span<const Permission> perms)
{
    if (perms.empty()) return Err(Errno::XEN_EINVAL);
    if (perms.size() > config_.max_perms) return Err(Errno::XEN_ENOSPC);
    auto root = view(c, tx);
    if (!root) return Err(root.error());
    auto abs = canonical(c, path, path_);
    if (!abs) return Err(abs.error());
    auto n = get_node(c.domain, **root, *abs, kWrite | kOwner);
    if (!n) return Err(n.error());
    const PermSet before = perms_of(*n);
    // An unprivileged owner may share its node, not give it away.
    if (!privileged(c.domain) && perms[0].domain != before.entries[0].domain)
        return Err(Errno::XEN_EPERM);
    PermSet after;
    after.count = static_cast<std::uint8_t>(perms.size());
    for (std::size_t i = 0; i < perms.size(); ++i) after.entries[i] = perms[i];

    auto copy = node_clone(**root);
    if (!copy) return Err(copy.error());
    const std::uint32_t new_root = *copy;
    std::uint32_t cur = new_root;
    Components parts(*abs);
    std::string_view part;
    while (parts.next(&part)) {
        std::uint32_t pos;
        find_child(cur, part, &pos);
        auto u = unique_child(cur, pos);
        if (!u) {
            node_release(new_root);
            return Err(u.error());
        }
        cur = *u;
    }
    set_perms_of(cur, after);
    // The owner is unchanged for an unprivileged caller: nothing to charge.
    return finish_change(c, tx, *root, new_root, nullptr, Change{*abs, false, before, after});
}

// ---------------------------------------------------------------------------
// Watches and events

Status Store::op_watch(Conn& c, std::string_view path, std::string_view token)
{
    const bool special = !path.empty() && path[0] == '@';
    std::string_view abs = path;
    if (special) {
        if (!valid_special(path)) return Err(Errno::XEN_EINVAL);
    } else {
        auto a = canonical(c, path, path_);
        if (!a) return Err(a.error());
        abs = *a;
    }
    // An event ("<path>|<token>|") must fit in one message.
    if (token.size() > kPayloadMax - kAbsPathMax - 2 || token.find('\0') != std::string_view::npos)
        return Err(Errno::XEN_EINVAL);
    const std::uint32_t ci = static_cast<std::uint32_t>(&c - conns_);
    for (std::uint32_t i = 0; i < config_.max_watches; ++i) {
        const WatchRec& w = watches_[i];
        if (w.conn == ci && blob_equals(w.path, abs) && blob_equals(w.token, token))
            return Err(Errno::XEN_EEXIST);
    }
    const std::uint32_t bytes = static_cast<std::uint32_t>(abs.size() + token.size());
    if (!privileged(c.domain)) {
        if (c.watches >= config_.quota_watches) return Err(Errno::XEN_E2BIG);
        if (usage_in(root_, c.domain).bytes + c.watch_bytes + bytes > config_.quota_bytes)
            return Err(Errno::XEN_ENOSPC);
    }
    std::uint32_t slot = 0;
    while (slot < config_.max_watches && watches_[slot].conn != kNil) ++slot;
    if (slot == config_.max_watches || chunks_for(abs.size()) + chunks_for(token.size()) > chunks_free())
        return Err(Errno::XEN_ENOMEM);
    WatchRec& w = watches_[slot];
    w.conn = ci;
    w.path = *blob_from(abs);
    w.token = *blob_from(token);
    w.relative = !special && path[0] != '/';
    w.dropped = false;
    ++c.watches;
    c.watch_bytes += bytes;
    // Every new watch fires once, after the reply.
    pending_ = Pending::first_event;
    pending_watch_ = slot;
    return {};
}

Status Store::op_unwatch(Conn& c, std::string_view path, std::string_view token)
{
    std::string_view abs = path;
    if (path.empty() || path[0] != '@') {
        auto a = canonical(c, path, path_);
        if (!a) return Err(a.error());
        abs = *a;
    }
    const std::uint32_t ci = static_cast<std::uint32_t>(&c - conns_);
    for (std::uint32_t i = 0; i < config_.max_watches; ++i) {
        WatchRec& w = watches_[i];
        if (w.conn != ci || !blob_equals(w.path, abs) || !blob_equals(w.token, token)) continue;
        c.watch_bytes -= w.path.len + w.token.len;
        --c.watches;
        blob_free(w.path);
        blob_free(w.token);
        w.conn = kNil;
        return {};
    }
    return Err(Errno::XEN_ENOENT);
}

void Store::send_event(WatchRec& w, std::string_view event_path)
{
    if (w.dropped) return;  // it fires with its own path once there is room
    Conn& c = conns_[w.conn];
    std::string_view reported = event_path;
    if (w.relative) {
        char prefix[24];
        const std::size_t n = home_prefix(c.domain, prefix);
        if (event_path.size() > n && slice(event_path, 0, n) == std::string_view(prefix, n))
            reported = slice(event_path, n);
    }
    // reported <= XENSTORE_ABS_PATH_MAX and the token was bounded so that
    // both fit in one payload.
    std::size_t len = 0;
    char* payload = msg_ + kHeaderSize;
    std::memcpy(payload, reported.data(), reported.size());
    len += reported.size();
    payload[len++] = '\0';
    blob_read(w.token, 0, payload + len, w.token.len);
    len += w.token.len;
    payload[len++] = '\0';
    encode_header(Header{XS_WATCH_EVENT, 0, 0, static_cast<std::uint32_t>(len)},
                  std::span<char, kHeaderSize>(msg_, kHeaderSize));
    if (!c.out.deliver || !c.out.deliver(c.out.ctx, std::span<const char>(msg_, kHeaderSize + len)))
        w.dropped = true;
}

void Store::fire(const Change& change)
{
    for (std::uint32_t i = 0; i < config_.max_watches; ++i) {
        WatchRec& w = watches_[i];
        if (w.conn == kNil) continue;
        blob_read(w.path, 0, path2_, w.path.len);
        const std::string_view wpath(path2_, w.path.len);
        if (wpath[0] == '@') continue;
        std::string_view event_path;
        if (is_child(change.path, wpath)) {
            event_path = change.path;
        } else if (change.recursive && is_child(wpath, change.path)) {
            event_path = wpath;  // the subtree it watched went away
        } else {
            continue;
        }
        const DomainId d = conns_[w.conn].domain;
        if (!(access(d, change.before) & kRead) && !(access(d, change.after) & kRead)) continue;
        send_event(w, event_path);
    }
}

void Store::fire_special(std::string_view special)
{
    if (!ok_) return;
    for (std::uint32_t i = 0; i < config_.max_watches; ++i) {
        WatchRec& w = watches_[i];
        if (w.conn != kNil && blob_equals(w.path, special)) send_event(w, special);
    }
}

void Store::retry_dropped_events(ConnId c)
{
    Conn* k = conn(c);
    if (!k) return;
    const std::uint32_t ci = static_cast<std::uint32_t>(k - conns_);
    for (std::uint32_t i = 0; i < config_.max_watches; ++i) {
        WatchRec& w = watches_[i];
        if (w.conn != ci || !w.dropped) continue;
        blob_read(w.path, 0, path2_, w.path.len);
        w.dropped = false;
        send_event(w, std::string_view(path2_, w.path.len));
        if (w.dropped) return;  // still no room
    }
}

void Store::flush_pending()
{
    const Pending p = pending_;
    pending_ = Pending::none;
    switch (p) {
    case Pending::none: break;
    case Pending::change:
        fire(Change{std::string_view(pending_path_, pending_len_), pending_recursive_, pending_before_,
                    pending_after_});
        break;
    case Pending::first_event: {
        WatchRec& w = watches_[pending_watch_];
        if (w.conn == kNil) break;
        blob_read(w.path, 0, path2_, w.path.len);
        send_event(w, std::string_view(path2_, w.path.len));
        break;
    }
    case Pending::log: {
        std::size_t off = 0;
        while (off < pending_log_.len) {
            std::uint8_t head[3];
            blob_read(pending_log_, off, head, 3);
            off += 3;
            Change change{{}, head[0] != 0, {}, {}};
            change.before.count = head[1];
            change.after.count = head[2];
            for (PermSet* ps : {&change.before, &change.after}) {
                for (unsigned i = 0; i < ps->count; ++i) {
                    std::uint8_t e[3];
                    blob_read(pending_log_, off, e, 3);
                    off += 3;
                    std::uint16_t dom;
                    std::memcpy(&dom, e, 2);
                    ps->entries[i] = Permission{DomainId(dom), static_cast<Access>(e[2])};
                }
            }
            std::uint16_t len;
            blob_read(pending_log_, off, &len, 2);
            off += 2;
            blob_read(pending_log_, off, pending_path_, len);
            off += len;
            change.path = std::string_view(pending_path_, len);
            fire(change);
        }
        blob_free(pending_log_);
        break;
    }
    }
}

// ---------------------------------------------------------------------------
// Transactions

Result<TxId> Store::op_transaction_start(Conn& c)
{
    if (!privileged(c.domain) && c.transactions >= config_.quota_transactions)
        return Err(Errno::XEN_ENOSPC);
    Tx* t = nullptr;
    for (std::uint32_t i = 0; i < config_.max_transactions && !t; ++i)
        if (txs_[i].conn == kNil) t = &txs_[i];
    if (!t) return Err(Errno::XEN_ENOMEM);
    std::uint32_t id;
    bool used;
    do {
        id = ++last_tx_id_;
        used = id == 0;
        for (std::uint32_t i = 0; i < config_.max_transactions && !used; ++i)
            used = txs_[i].conn != kNil && txs_[i].id == id;
    } while (used);
    *t = Tx{};
    t->conn = static_cast<std::uint32_t>(&c - conns_);
    t->id = id;
    // The snapshot: one more reference to the live root, nothing copied.
    t->root = root_;
    ++nodes_[root_].refs;
    t->start_generation = generation_;
    ++c.transactions;
    return TxId(id);
}

void Store::free_tx(Tx& t)
{
    if (t.root != kNil) node_release(t.root);
    blob_free(t.log);
    --conns_[t.conn].transactions;
    t = Tx{};
}

Status Store::op_transaction_end(Conn& c, TxId tx, bool commit)
{
    Tx* t = tx_of(static_cast<std::uint32_t>(&c - conns_), tx);
    if (!t) return Err(Errno::XEN_ENOENT);
    if (!commit) {
        free_tx(*t);
        return {};
    }
    // Anything committed since the snapshot (even elsewhere in the tree)
    // means the transaction ran on stale data: the caller retries.
    if (t->start_generation != generation_) {
        free_tx(*t);
        return Err(Errno::XEN_EAGAIN);
    }
    if (t->dirty) {
        // Nothing changed since the snapshot, so the transaction's tree is
        // exactly the live tree plus its changes.
        node_release(root_);
        root_ = t->root;
        t->root = kNil;
        ++generation_;
        pending_ = Pending::log;
        pending_log_ = t->log;
        t->log = Blob{};
    }
    free_tx(*t);
    return {};
}

void Store::drop_watches(std::uint32_t ci)
{
    for (std::uint32_t i = 0; i < config_.max_watches; ++i) {
        WatchRec& w = watches_[i];
        if (w.conn != ci) continue;
        blob_free(w.path);
        blob_free(w.token);
        w.conn = kNil;
    }
    conns_[ci].watches = 0;
    conns_[ci].watch_bytes = 0;
}

void Store::drop_transactions(std::uint32_t ci)
{
    for (std::uint32_t i = 0; i < config_.max_transactions; ++i)
        if (txs_[i].conn == ci) free_tx(txs_[i]);
}

// ---------------------------------------------------------------------------
// Connections

Result<ConnId> Store::connect(DomainId domain, StoreOutput output)
{
    if (!ok_) return Err(Errno::XEN_ENOMEM);
    if (conn_of(domain)) return Err(Errno::XEN_EEXIST);
    for (std::uint32_t i = 0; i < config_.max_connections; ++i) {
        if (conns_[i].used) continue;
        const std::uint16_t generation = static_cast<std::uint16_t>(conns_[i].generation + 1);
        conns_[i] = Conn{};
        conns_[i].used = true;
        conns_[i].generation = generation;
        conns_[i].domain = domain;
        conns_[i].out = output;
        return ConnId(std::uint32_t{generation} << 16 | i);
    }
    return Err(Errno::XEN_ENOMEM);
}

void Store::disconnect(ConnId c)
{
    Conn* k = conn(c);
    if (!k) return;
    const std::uint32_t ci = static_cast<std::uint32_t>(k - conns_);
    drop_watches(ci);
    drop_transactions(ci);
    const std::uint16_t generation = k->generation;
    *k = Conn{};
    k->generation = generation;
}

bool Store::connected(DomainId domain) const
{
    for (std::uint32_t i = 0; ok_ && i < config_.max_connections; ++i)
        if (conns_[i].used && conns_[i].domain == domain) return true;
    return false;
}

void Store::release_domain(DomainId domain)
{
    fire_special("@releaseDomain");
    if (Conn* c = conn_of(domain))
        disconnect(ConnId(std::uint32_t{c->generation} << 16 | static_cast<std::uint32_t>(c - conns_)));
}

void Store::reset_watches(ConnId c)
{
    Conn* k = conn(c);
    if (!k) return;
    drop_watches(static_cast<std::uint32_t>(k - conns_));
    drop_transactions(static_cast<std::uint32_t>(k - conns_));
}

// ---------------------------------------------------------------------------
// The typed API

Result<std::size_t> Store::read(ConnId c, TxId tx, std::string_view path, std::span<char> out)
{
    Conn* k = conn(c);
    if (!k) return Err(Errno::XEN_EINVAL);
    return op_read(*k, tx, path, out);
}

Status Store::write(ConnId c, TxId tx, std::string_view path, std::string_view value)
{
    Conn* k = conn(c);
    if (!k) return Err(Errno::XEN_EINVAL);
    const Status s = op_set(*k, tx, path, &value);
    flush_pending();
    return s;
}

Status Store::mkdir(ConnId c, TxId tx, std::string_view path)
{
    Conn* k = conn(c);
    if (!k) return Err(Errno::XEN_EINVAL);
    const Status s = op_set(*k, tx, path, nullptr);
    flush_pending();
    return s;
}

Status Store::rm(ConnId c, TxId tx, std::string_view path)
{
    Conn* k = conn(c);
    if (!k) return Err(Errno::XEN_EINVAL);
    const Status s = op_rm(*k, tx, path);
    flush_pending();
    return s;
}

Result<std::size_t> Store::directory(ConnId c, TxId tx, std::string_view path, std::span<char> out)
{
    Conn* k = conn(c);
    if (!k) return Err(Errno::XEN_EINVAL);
    return op_directory(*k, tx, path, out);
}

Result<std::size_t> Store::get_perms(ConnId c, TxId tx, std::string_view path, std::span<Permission> out)
{
    Conn* k = conn(c);
    if (!k) return Err(Errno::XEN_EINVAL);
    auto p = op_get_perms(*k, tx, path);
    if (!p) return Err(p.error());
    if (p->count > out.size()) return Err(Errno::XEN_ERANGE);
    for (unsigned i = 0; i < p->count; ++i) out[i] = p->entries[i];
    return std::size_t{p->count};
}

Status Store::set_perms(ConnId c, TxId tx, std::string_view path, std::span<const Permission> perms)
{
    Conn* k = conn(c);
    if (!k) return Err(Errno::XEN_EINVAL);
    const Status s = op_set_perms(*k, tx, path, perms);
    flush_pending();
    return s;
}

Status Store::watch(ConnId c, std::string_view path, std::string_view token)
{
    Conn* k = conn(c);
    if (!k) return Err(Errno::XEN_EINVAL);
    const Status s = op_watch(*k, path, token);
    flush_pending();
    return s;
}

Status Store::unwatch(ConnId c, std::string_view path, std::string_view token)
{
    Conn* k = conn(c);
    if (!k) return Err(Errno::XEN_EINVAL);
    return op_unwatch(*k, path, token);
}

Result<TxId> Store::transaction_start(ConnId c)
{
    Conn* k = conn(c);
    if (!k) return Err(Errno::XEN_EINVAL);
    return op_transaction_start(*k);
}

Status Store::transaction_end(ConnId c, TxId tx, bool commit)
{
    Conn* k = conn(c);
    if (!k) return Err(Errno::XEN_EINVAL);
    const Status s = op_transaction_end(*k, tx, commit);
    flush_pending();
    return s;
}

// ---------------------------------------------------------------------------
// The wire

void Store::reply(Conn& c, const Header& h, std::size_t len)
{
    encode_header(Header{h.type, h.req_id, h.tx_id, static_cast<std::uint32_t>(len)},
                  std::span<char, kHeaderSize>(msg_, kHeaderSize));
    if (c.out.deliver) c.out.deliver(c.out.ctx, std::span<const char>(msg_, kHeaderSize + len));
}

void Store::reply_text(Conn& c, const Header& h, std::string_view text)
{
    std::memcpy(msg_ + kHeaderSize, text.data(), text.size());
    reply(c, h, text.size());
}

void Store::reply_error(Conn& c, const Header& h, Errno e)
{
    const std::string_view name = error_to_wire(e);
    std::memcpy(msg_ + kHeaderSize, name.data(), name.size());
    msg_[kHeaderSize + name.size()] = '\0';
    Header eh = h;
    eh.type = XS_ERROR;
    reply(c, eh, name.size() + 1);
}

void Store::handle(ConnId c, const Header& header, std::span<const char> payload)
{
    Conn* k = conn(c);
    if (!k) return;
    pending_ = Pending::none;
    handle_request(*k, header, payload);
    flush_pending();
}

void Store::handle_request(Conn& c, const Header& h, std::span<const char> payload)
{
    static constexpr std::string_view kOk("OK", 3);  // with its nul
    const TxId tx(h.tx_id);
    ArgReader args(payload);
    const std::span<char> out(msg_ + kHeaderSize, kPayloadMax);

    auto done = [&](const Status& s) {
        if (s) reply_text(c, h, kOk);
        else reply_error(c, h, s.error());
    };

    switch (h.type) {
    case XS_READ: {
        auto path = args.next();
        if (!path) return reply_error(c, h, path.error());
        auto n = op_read(c, tx, *path, out);
        if (!n) return reply_error(c, h, n.error());
        return reply(c, h, *n);
    }
    case XS_WRITE: {
        auto path = args.next();
        if (!path) return reply_error(c, h, path.error());
        const std::string_view value = args.rest();
        return done(op_set(c, tx, *path, &value));
    }
    case XS_MKDIR:
    case XS_RM: {
        auto path = args.next();
        if (!path) return reply_error(c, h, path.error());
        return done(h.type == XS_MKDIR ? op_set(c, tx, *path, nullptr) : op_rm(c, tx, *path));
    }
    case XS_DIRECTORY: {
        auto path = args.next();
        if (!path) return reply_error(c, h, path.error());
        auto n = op_directory(c, tx, *path, out);
        if (!n) return reply_error(c, h, n.error());
        return reply(c, h, *n);
    }
    case XS_GET_PERMS: {
        auto path = args.next();
        if (!path) return reply_error(c, h, path.error());
        auto p = op_get_perms(c, tx, *path);
        if (!p) return reply_error(c, h, p.error());
        std::size_t len = 0;
        for (unsigned i = 0; i < p->count; ++i) {
            len += format_permission(p->entries[i], out.subspan(len).first<kPermissionTextMax>());
            out[len++] = '\0';
        }
        return reply(c, h, len);
    }
    case XS_SET_PERMS: {
        auto path = args.next();
        if (!path) return reply_error(c, h, path.error());
        Permission perms[kMaxPermsPerNode];
        std::size_t count = 0;
        while (!args.empty()) {
            auto text = args.next();
            if (!text) return reply_error(c, h, Errno::XEN_EINVAL);
            auto p = parse_permission(*text);
            if (!p) return reply_error(c, h, Errno::XEN_EINVAL);
            if (count == kMaxPermsPerNode) return reply_error(c, h, Errno::XEN_ENOSPC);
            perms[count++] = *p;
        }
        return done(op_set_perms(c, tx, *path, std::span<const Permission>(perms, count)));
    }
    case XS_WATCH:
    case XS_UNWATCH: {
        auto path = args.next();
        if (!path) return reply_error(c, h, path.error());
        auto token = args.next();
        if (!token) return reply_error(c, h, token.error());
        // tx_id is ignored: watches are not transactional.
        return done(h.type == XS_WATCH ? op_watch(c, *path, *token) : op_unwatch(c, *path, *token));
    }
    case XS_TRANSACTION_START: {
        if (h.tx_id != 0) return reply_error(c, h, Errno::XEN_EINVAL);
        auto id = op_transaction_start(c);
        if (!id) return reply_error(c, h, id.error());
        std::size_t len = format_decimal(id->raw(), out);
        out[len++] = '\0';
        return reply(c, h, len);
    }
    case XS_TRANSACTION_END: {
        auto arg = args.next();
        if (!arg || (*arg != "T" && *arg != "F")) return reply_error(c, h, Errno::XEN_EINVAL);
        return done(op_transaction_end(c, tx, *arg == "T"));
    }
    case XS_GET_DOMAIN_PATH:
    case XS_IS_DOMAIN_INTRODUCED: {
        auto arg = args.next();
        if (!arg) return reply_error(c, h, arg.error());
        auto dom = parse_decimal(*arg);
        if (!dom || *dom > 0xffff) return reply_error(c, h, Errno::XEN_EINVAL);
        const DomainId d(static_cast<std::uint16_t>(*dom));
        if (h.type == XS_IS_DOMAIN_INTRODUCED)
            return reply_text(c, h, connected(d) ? std::string_view("T", 2) : std::string_view("F", 2));
        std::size_t len = home_prefix(d, out.data());
        out[len - 1] = '\0';  // no trailing '/'
        return reply(c, h, len);
    }
    case XS_RESET_WATCHES: {
        const std::uint32_t ci = static_cast<std::uint32_t>(&c - conns_);
        drop_watches(ci);
        drop_transactions(ci);
        return reply_text(c, h, kOk);
    }
    case XS_CONTROL:
    case XS_INTRODUCE:
    case XS_RELEASE:
    case XS_RESUME:
    case XS_SET_TARGET:
    case XS_DIRECTORY_PART:
        return reply_error(c, h, Errno::XEN_ENOSYS);
    default:
        return reply_error(c, h, Errno::XEN_EINVAL);
    }
}

} // namespace keel::guest::xenstore
