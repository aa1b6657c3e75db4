// The xenstore database and its request logic, as xenstored keeps it
// (docs/misc/xenstore.txt), in fixed memory: arch-neutral, no heap, no
// exceptions, so the same code runs in host tests and in Keel's control
// domain. A StoreConnection (server.hpp) puts it behind a domain's ring.
//
// What it does:
//  - A tree of nodes, each with a value and permissions. WRITE and MKDIR
//    create missing parents; RM removes a whole subtree; DIRECTORY lists
//    children in creation order. Paths are checked as xenstored does
//    (characters, no "//", no trailing '/', at most XENSTORE_ABS_PATH_MAX);
//    relative paths are taken from /local/domain/<caller>.
//  - Permissions: the first entry is the owner (full access) and the access
//    of every domain not listed; later entries give one domain's access;
//    dom0 may do anything. A missing node answers EACCES rather than ENOENT
//    when the nearest existing ancestor denies the same access, so that
//    denial reveals nothing. Creating needs write access to the nearest
//    existing ancestor; new nodes inherit their parent's permissions, and an
//    unprivileged creator becomes the owner. SET_PERMS needs ownership, and
//    an unprivileged owner cannot give the node away (EPERM).
//  - Watches: an event on a path fires every watch on it or an ancestor;
//    removing a subtree also fires the watches inside it (with the watch's
//    own path, as xenstored). A new watch fires once straight away. Events
//    go only to domains that may read the node (before or after the change).
//    Relative watches get relative paths. @introduceDomain and
//    @releaseDomain are accepted and fired by fire_special().
//  - Transactions: a snapshot of the whole tree, taken in O(1) (nodes are
//    shared copy-on-write between the live tree and every snapshot). Commit
//    fails with EAGAIN if anything was committed since the snapshot (the
//    rule docs/misc/xenstore.txt states); otherwise the snapshot, with the
//    transaction's changes, becomes the live tree and its events fire.
//  - Limits, so a hostile domain cannot exhaust it: per unprivileged domain,
//    the nodes it owns and their bytes, its watches, its transactions (and
//    each one's pending events); a value size; permissions per node.
//  - Atomic operations: every mutation is built on a copy of the path it
//    touches and only then swapped in, so an operation that runs out of
//    anything changes nothing (RM of an unshared path works in place and
//    needs no memory, so a full store can always be cleaned up).
//
// What it does not do (yet): DIRECTORY_PART, SET_TARGET, RESUME, CONTROL,
// INTRODUCE/RELEASE over the wire (the daemon around it maps pages and calls
// connect()/release_domain()), per-node conflict detection, quotas that
// charge a transaction's private copies of shared parents.
//
// Errors: ENOENT, EACCES, EINVAL (bad path or request), EEXIST (duplicate
// watch), EPERM, EAGAIN (commit conflict), ENOSPC (a domain's node, memory,
// transaction or value-size limit), E2BIG (watch limit, reply too long),
// ENOMEM (the store's own pools), ENOSYS (requests it does not implement):
// all names in xs_wire.h's xsd_errors table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <keel/guest/types.hpp>
#include <keel/guest/xenstore/wire.hpp>
#include <span>
#include <string_view>

namespace keel::guest::xenstore {

struct StoreConfig {
    // Pools, shared by everyone. Size them for the domains served: a domain
    // can hold at most quota_nodes nodes and quota_bytes bytes of names,
    // values and watch paths in the live tree.
    std::uint32_t max_nodes = 4096;
    std::uint32_t max_chunks = 16384;  // 60 usable bytes each
    std::uint32_t max_connections = 32;  // at most 65535
    std::uint32_t max_watches = 512;
    std::uint32_t max_transactions = 64;
    // Per unprivileged domain.
    std::uint32_t quota_nodes = 1000;
    std::uint32_t quota_bytes = 64 * 1024;
    std::uint32_t quota_watches = 128;
    std::uint32_t quota_transactions = 10;
    // Per node.
    std::uint32_t max_value = 2048;
    std::uint32_t max_perms = 5;  // at most kMaxPermsPerNode
};

inline constexpr std::uint32_t kMaxPermsPerNode = 8;

// A connection; stale ids (of a connection since dropped) are refused.
struct ConnIdTag;
using ConnId = Strong<ConnIdTag, std::uint32_t>;

// Where a connection's outgoing messages go (whole messages: header and
// payload). Returns false if it cannot take the message now; the store then
// remembers which watches lost an event and fires them again (with their own
// path) from retry_dropped_events(). Replies must always be taken: check for
// kMessageMax bytes of room before handing the store a request.
struct StoreOutput {
    bool (*deliver)(void* ctx, std::span<const char> message) = nullptr;
    void* ctx = nullptr;
};

// Not thread-safe, not reentrant: one caller at a time, and outputs must not
// call back into the store.
class Store {
public:
    // Bytes of arena the tables need for `config` (8-byte aligned).
    static std::size_t arena_bytes(const StoreConfig& config);

    // `arena` must hold arena_bytes(config) bytes, 8-byte aligned, and
    // outlive the store. The tree starts as "/" owned by dom0 ("n0").
    Store(std::span<std::byte> arena, const StoreConfig& config = {});
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;
    // False if the arena was too small (or the config impossible); then
    // connect() fails with ENOMEM and there is nothing to call.
    bool ok() const { return ok_; }

    // One connection per domain; EEXIST if the domain has one, ENOMEM if
    // the table is full.
    Result<ConnId> connect(DomainId domain, StoreOutput output);
    // Drops the connection's watches and transactions (not its nodes).
    void disconnect(ConnId conn);
    bool connected(DomainId domain) const;

    // One request message from `conn`. The reply goes to its output, then
    // the events the request caused (including a new watch's first one).
    void handle(ConnId conn, const Header& header, std::span<const char> payload);
    // Fires, with their own paths, watches whose events the output refused.
    void retry_dropped_events(ConnId conn);

    // @introduceDomain / @releaseDomain (any '@' path): fires the watches
    // registered on exactly that path.
    void fire_special(std::string_view special);
    // What xenstored does when a domain goes: @releaseDomain, then the
    // domain's connection is dropped (its StoreConnection should go too;
    // until then its ConnId is stale and refused).
    void release_domain(DomainId domain);

    // --- The requests, typed (the same checks as over the wire) -------------
    // Each fires the events it causes before returning. A stale or unknown
    // ConnId is EINVAL; a buffer too small for the answer is ERANGE.
    Result<std::size_t> read(ConnId c, TxId tx, std::string_view path, std::span<char> out);
    Status write(ConnId c, TxId tx, std::string_view path, std::string_view value);
    Status mkdir(ConnId c, TxId tx, std::string_view path);
    Status rm(ConnId c, TxId tx, std::string_view path);
    // The children's names, each followed by a nul, into `out`; the length.
    Result<std::size_t> directory(ConnId c, TxId tx, std::string_view path, std::span<char> out);
    // How many entries went into `out` (ERANGE if it is too small).
    Result<std::size_t> get_perms(ConnId c, TxId tx, std::string_view path,
                                  std::span<Permission> out);
    Status set_perms(ConnId c, TxId tx, std::string_view path, std::span<const Permission> perms);
    Status watch(ConnId c, std::string_view path, std::string_view token);
    Status unwatch(ConnId c, std::string_view path, std::string_view token);
    Result<TxId> transaction_start(ConnId c);
    Status transaction_end(ConnId c, TxId tx, bool commit);
    // Drops every watch and transaction of the connection.
    void reset_watches(ConnId c);

    // --- Introspection, for tests and accounting ---------------------------
    std::uint32_t nodes_in_use() const { return nodes_used_; }
    std::uint32_t chunks_in_use() const { return chunks_used_; }
    struct Usage {
        std::uint32_t nodes = 0;
        std::uint32_t bytes = 0;
    };
    // What `domain` owns in the live tree.
    Usage usage(DomainId domain);

private:
    static constexpr std::uint32_t kNil = 0xffffffffu;
    // Deepest possible tree: every node lies on a valid path ("/a/b/...").
    static constexpr std::uint32_t kMaxDepth = kAbsPathMax / 2 + 2;

    struct Blob {
        std::uint32_t head = kNil;
        std::uint32_t len = 0;
    };
    struct Chunk;
    struct Node;
    struct Conn;
    struct WatchRec;
    struct Tx;
    struct PermSet {
        std::uint8_t count = 0;
        Permission entries[kMaxPermsPerNode];
    };
    struct Frame {
        std::uint32_t node;
        std::uint32_t next_child;
    };
    enum AccessBits : unsigned { kRead = 1, kWrite = 2, kOwner = 4 };
    // One change to the tree, as watches see it.
    struct Change {
        std::string_view path;
        bool recursive;  // a subtree went: watches inside it fire too
        PermSet before;
        PermSet after;
    };

    // Chunks: the bytes behind names, values, child lists, watch paths,
    // tokens and transaction event logs. A blob is never shared, so it may
    // be changed in place by whoever owns it.
    Result<Blob> blob_from(std::string_view bytes);
    void blob_free(Blob& b);
    Status blob_resize(Blob& b, std::size_t len);
    void blob_write(Blob b, std::size_t off, const void* src, std::size_t n);
    void blob_read(Blob b, std::size_t off, void* dst, std::size_t n) const;
    bool blob_equals(Blob b, std::string_view s) const;
    void blob_copy(Blob src, Blob& dst);
    std::uint32_t chunks_free() const { return config_.max_chunks - chunks_used_; }

    // Nodes are reference-counted: one may be shared by the live tree and
    // any number of transaction snapshots. A node is changed in place only
    // when it and all its ancestors have one reference.
    Result<std::uint32_t> node_new(std::string_view name, const PermSet& perms);
    Result<std::uint32_t> node_clone(std::uint32_t src);
    void node_release(std::uint32_t n);
    std::uint32_t child_count(std::uint32_t n) const;
    std::uint32_t child_at(std::uint32_t n, std::uint32_t i) const;
    bool find_child(std::uint32_t n, std::string_view name, std::uint32_t* pos) const;
    Result<std::uint32_t> unique_child(std::uint32_t parent, std::uint32_t pos);
    Status add_child(std::uint32_t parent, std::uint32_t child);
    void remove_child(std::uint32_t parent, std::uint32_t pos);
    PermSet perms_of(std::uint32_t n) const;
    void set_perms_of(std::uint32_t n, const PermSet& p);

    // Paths.
    Result<std::string_view> canonical(const Conn& c, std::string_view path, char* buf) const;
    std::size_t home_prefix(DomainId d, char* out) const;
    std::uint32_t lookup(std::uint32_t root, std::string_view abs, bool* exact) const;

    Conn* conn(ConnId c);
    Conn* conn_of(DomainId d);
    static bool privileged(DomainId d) { return d.raw() == 0; }
    static unsigned access(DomainId d, const PermSet& p);
    Result<std::uint32_t*> view(Conn& c, TxId tx);
    Tx* tx_of(std::uint32_t conn_index, TxId tx);
    Result<std::uint32_t> get_node(DomainId d, std::uint32_t root, std::string_view abs,
                                   unsigned need) const;
    Usage usage_in(std::uint32_t root, DomainId d);

    // The requests; events are left in pending_ (handle() replies first).
    Result<std::size_t> op_read(Conn& c, TxId tx, std::string_view path, std::span<char> out);
    Status op_set(Conn& c, TxId tx, std::string_view path, const std::string_view* value);
    Status op_rm(Conn& c, TxId tx, std::string_view path);
    Result<std::size_t> op_directory(Conn& c, TxId tx, std::string_view path, std::span<char> out);
    Result<PermSet> op_get_perms(Conn& c, TxId tx, std::string_view path);
    Status op_set_perms(Conn& c, TxId tx, std::string_view path, std::span<const Permission> perms);
    Status op_watch(Conn& c, std::string_view path, std::string_view token);
    Status op_unwatch(Conn& c, std::string_view path, std::string_view token);
    Result<TxId> op_transaction_start(Conn& c);
    Status op_transaction_end(Conn& c, TxId tx, bool commit);
    // Swaps a finished copy in: checks the caller's limits against it (if
    // `before` is given: what the caller owned before), logs or notes the
    // change. On failure the copy is dropped and nothing changed.
    Status finish_change(Conn& c, TxId tx, std::uint32_t* root, std::uint32_t new_root,
                         const Usage* before, const Change& change);
    Status note_change(Conn& c, TxId tx, const Change& change);
    void flush_pending();

    // Watches and events.
    void fire(const Change& change);
    void send_event(WatchRec& w, std::string_view event_path);
    void drop_watches(std::uint32_t conn_index);
    void drop_transactions(std::uint32_t conn_index);
    void free_tx(Tx& t);

    void handle_request(Conn& c, const Header& h, std::span<const char> payload);
    void reply(Conn& c, const Header& h, std::size_t len);  // payload at msg_ + kHeaderSize
    void reply_text(Conn& c, const Header& h, std::string_view text);
    void reply_error(Conn& c, const Header& h, Errno e);

    StoreConfig config_;
    bool ok_ = false;
    Chunk* chunks_ = nullptr;
    Node* nodes_ = nullptr;
    Conn* conns_ = nullptr;
    WatchRec* watches_ = nullptr;
    Tx* txs_ = nullptr;
    Frame* stack_ = nullptr;  // depth-first walks without recursion
    std::uint32_t free_chunk_ = kNil, free_node_ = kNil;
    std::uint32_t chunks_used_ = 0, nodes_used_ = 0;
    std::uint32_t root_ = kNil;     // the live tree
    std::uint64_t generation_ = 0;  // bumped by every change to the live tree
    std::uint32_t last_tx_id_ = 0;

    // Events the current request caused, fired after its reply.
    enum class Pending : std::uint8_t { none, change, first_event, log };
    Pending pending_ = Pending::none;
    bool pending_recursive_ = false;
    PermSet pending_before_, pending_after_;
    std::uint32_t pending_watch_ = 0;
    Blob pending_log_;
    std::size_t pending_len_ = 0;
    char pending_path_[kAbsPathMax + 1];

    // Scratch: a canonical path, a watch's path, an outgoing message.
    char path_[kAbsPathMax + 1];
    char path2_[kAbsPathMax + 1];
    char msg_[kMessageMax];
};

} // namespace keel::guest::xenstore
