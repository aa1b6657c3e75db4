// The store on its own: tree semantics, permissions, watches, transactions,
// limits, and hostile requests over handle(). Outputs are recorded.
#include "sdk_xenstore_test_support.hpp"

#include <algorithm>
#include <string>
#include <vector>

using namespace keel;
using namespace keel::guest;
using namespace keel::guest::xenstore;
using namespace keel::guest::xenstore::test;

namespace {

struct XenstoreStoreTest : ::testing::Test {
    explicit XenstoreStoreTest(const StoreConfig& config = {}) : box(config) {}

    StoreBox box;
    Store& s = *box;
    Recorder out0, out1, out2;
    ConnId d0 = connect(0, out0);
    ConnId d1 = connect(1, out1);
    ConnId d2 = connect(2, out2);

    ConnId connect(std::uint16_t dom, Recorder& r)
    {
        auto c = s.connect(DomainId(dom), r.output());
        EXPECT_TRUE(c.ok());
        return c.ok() ? *c : ConnId(0);
    }

    // As a toolstack: /local/domain/<d> owned by d.
    void home(std::uint16_t d)
    {
        const std::string path = "/local/domain/" + std::to_string(d);
        ASSERT_TRUE(s.mkdir(d0, kNoTransaction, path).ok());
        const Permission p[] = {{DomainId(d), Access::none}};
        ASSERT_TRUE(s.set_perms(d0, kNoTransaction, path, p).ok());
    }

    std::string read(ConnId c, std::string_view path, TxId tx = kNoTransaction)
    {
        char buf[kPayloadMax];
        auto n = s.read(c, tx, path, buf);
        if (!n) return std::string("<") + errno_name(n.error()) + ">";
        return std::string(buf, *n);
    }

    std::vector<std::string> dir(ConnId c, std::string_view path)
    {
        char buf[kPayloadMax];
        auto n = s.directory(c, kNoTransaction, path, buf);
        std::vector<std::string> names;
        if (!n) return {std::string("<") + errno_name(n.error()) + ">"};
        for (std::string_view name : StringList(std::span<const char>(buf, *n))) names.emplace_back(name);
        return names;
    }

    void clear_outputs()
    {
        out0.msgs.clear();
        out1.msgs.clear();
        out2.msgs.clear();
    }
};

using Strings = std::vector<std::string>;

} // namespace

TEST_F(XenstoreStoreTest, WriteCreatesParentsAndReadsBack)
{
    ASSERT_TRUE(s.write(d0, kNoTransaction, "/a/b/c", "hello").ok());
    EXPECT_EQ(read(d0, "/a/b/c"), "hello");
    EXPECT_EQ(read(d0, "/a/b"), "");
    EXPECT_EQ(read(d0, "/a"), "");
    EXPECT_EQ(dir(d0, "/"), Strings{"a"});
    ASSERT_TRUE(s.write(d0, kNoTransaction, "/a/b/c", std::string_view("bin\0ary", 7)).ok());
    EXPECT_EQ(read(d0, "/a/b/c"), std::string("bin\0ary", 7));
    ASSERT_TRUE(s.write(d0, kNoTransaction, "/a/b/c", "").ok());
    EXPECT_EQ(read(d0, "/a/b/c"), "");
    EXPECT_EQ(read(d0, "/a/x"), "<ENOENT>");
}

TEST_F(XenstoreStoreTest, MkdirKeepsExistingValues)
{
    ASSERT_TRUE(s.write(d0, kNoTransaction, "/a/b", "v").ok());
    ASSERT_TRUE(s.mkdir(d0, kNoTransaction, "/a/b").ok());
    EXPECT_EQ(read(d0, "/a/b"), "v");
    ASSERT_TRUE(s.mkdir(d0, kNoTransaction, "/a/b/c/d").ok());
    EXPECT_EQ(dir(d0, "/a/b/c"), Strings{"d"});
}

TEST_F(XenstoreStoreTest, DirectoryListsInCreationOrder)
{
    for (const char* n : {"zeta", "alpha", "mid"}) ASSERT_TRUE(s.mkdir(d0, kNoTransaction, std::string("/d/") + n).ok());
    EXPECT_EQ(dir(d0, "/d"), (Strings{"zeta", "alpha", "mid"}));
    EXPECT_EQ(dir(d0, "/d/zeta"), Strings{});
    EXPECT_EQ(dir(d0, "/nope"), Strings{"<ENOENT>"});
}

TEST_F(XenstoreStoreTest, RmIsRecursiveAndToleratesAMissingLeaf)
{
    ASSERT_TRUE(s.write(d0, kNoTransaction, "/a/b/c", "1").ok());
    ASSERT_TRUE(s.write(d0, kNoTransaction, "/a/b/d", "2").ok());
    ASSERT_TRUE(s.write(d0, kNoTransaction, "/a/e", "3").ok());
    ASSERT_TRUE(s.rm(d0, kNoTransaction, "/a/b").ok());
    EXPECT_EQ(dir(d0, "/a"), Strings{"e"});
    EXPECT_EQ(read(d0, "/a/b/c"), "<ENOENT>");
    EXPECT_TRUE(s.rm(d0, kNoTransaction, "/a/b").ok());          // gone, parent there: fine
    EXPECT_EQ(err(s.rm(d0, kNoTransaction, "/a/b/c")), XEN_ENOENT);  // parent gone too
    EXPECT_EQ(err(s.rm(d0, kNoTransaction, "/")), XEN_EINVAL);
    ASSERT_TRUE(s.rm(d0, kNoTransaction, "/a").ok());
    EXPECT_EQ(s.nodes_in_use(), 1u);   // just the root
    EXPECT_EQ(s.chunks_in_use(), 0u);  // nothing leaked
}

TEST_F(XenstoreStoreTest, PathsAreValidatedAsXenstoredDoes)
{
    for (const char* bad : {"", "//a", "/a//b", "/a/", "/a b", "/a\\b", "/a.b", "/é"})
        EXPECT_EQ(err(s.write(d0, kNoTransaction, bad, "x")), XEN_EINVAL) << bad;
    EXPECT_TRUE(s.write(d0, kNoTransaction, "/a-b_c@d/0", "x").ok());

    std::string longest = "/";
    while (longest.size() < kAbsPathMax) longest += 'x';
    EXPECT_TRUE(s.write(d0, kNoTransaction, longest, "x").ok());
    EXPECT_EQ(err(s.write(d0, kNoTransaction, longest + "x", "x")), XEN_EINVAL);
}

TEST_F(XenstoreStoreTest, RelativePathsAreUnderTheCallersHome)
{
    home(1);
    ASSERT_TRUE(s.write(d1, kNoTransaction, "device/vif/0/state", "1").ok());
    EXPECT_EQ(read(d0, "/local/domain/1/device/vif/0/state"), "1");
    EXPECT_EQ(read(d1, "device/vif/0/state"), "1");
    // dom0's relative paths are under /local/domain/0.
    ASSERT_TRUE(s.write(d0, kNoTransaction, "name", "Domain-0").ok());
    EXPECT_EQ(read(d0, "/local/domain/0/name"), "Domain-0");
}

TEST_F(XenstoreStoreTest, DomainsCannotTouchEachOthersNodes)
{
    home(1);
    home(2);
    ASSERT_TRUE(s.write(d2, kNoTransaction, "secret", "s").ok());
    EXPECT_EQ(read(d1, "/local/domain/2/secret"), "<EACCES>");
    EXPECT_EQ(err(s.write(d1, kNoTransaction, "/local/domain/2/secret", "x")), XEN_EACCES);
    EXPECT_EQ(err(s.write(d1, kNoTransaction, "/local/domain/2/new", "x")), XEN_EACCES);
    EXPECT_EQ(err(s.rm(d1, kNoTransaction, "/local/domain/2/secret")), XEN_EACCES);
    EXPECT_EQ(err(s.mkdir(d1, kNoTransaction, "/local/domain/2/x")), XEN_EACCES);
    EXPECT_EQ(dir(d1, "/local/domain/2"), Strings{"<EACCES>"});
    Permission p[4];
    EXPECT_EQ(err(s.get_perms(d1, kNoTransaction, "/local/domain/2/secret", p)), XEN_EACCES);
    // A node that isn't there looks the same as one that is: no probing.
    EXPECT_EQ(read(d1, "/local/domain/2/nothing"), "<EACCES>");
    EXPECT_EQ(read(d1, "/local/domain/1/nothing"), "<ENOENT>");
    // Nor can a domU write outside its home, e.g. at the top.
    EXPECT_EQ(err(s.write(d1, kNoTransaction, "/evil", "x")), XEN_EACCES);
    // Dom0 can do anything.
    EXPECT_EQ(read(d0, "/local/domain/2/secret"), "s");
    EXPECT_EQ(read(d2, "secret"), "s");
}

TEST_F(XenstoreStoreTest, NewNodesInheritPermissionsAndCreatorOwns)
{
    home(1);
    const Permission shared[] = {{DomainId(1), Access::none}, {DomainId(2), Access::read}};
    ASSERT_TRUE(s.set_perms(d1, kNoTransaction, "/local/domain/1", shared).ok());
    ASSERT_TRUE(s.write(d1, kNoTransaction, "a/b", "v").ok());
    Permission p[4];
    auto n = s.get_perms(d0, kNoTransaction, "/local/domain/1/a/b", p);
    ASSERT_TRUE(n.ok());
    ASSERT_EQ(*n, 2u);
    EXPECT_EQ(p[0], (Permission{DomainId(1), Access::none}));
    EXPECT_EQ(p[1], (Permission{DomainId(2), Access::read}));
    EXPECT_EQ(read(d2, "/local/domain/1/a/b"), "v");
    EXPECT_EQ(err(s.write(d2, kNoTransaction, "/local/domain/1/a/b", "x")), XEN_EACCES);

    // Dom0 creating under it: inherited as is (dom0 does not take ownership).
    ASSERT_TRUE(s.write(d0, kNoTransaction, "/local/domain/1/a/c", "v").ok());
    ASSERT_TRUE(s.get_perms(d0, kNoTransaction, "/local/domain/1/a/c", p).ok());
    EXPECT_EQ(p[0].domain, DomainId(1));
}

TEST_F(XenstoreStoreTest, SetPermsNeedsOwnershipAndCannotGiveNodesAway)
{
    home(1);
    home(2);
    ASSERT_TRUE(s.write(d1, kNoTransaction, "x", "v").ok());
    const Permission to2[] = {{DomainId(2), Access::none}};
    EXPECT_EQ(err(s.set_perms(d1, kNoTransaction, "x", to2)), XEN_EPERM);
    const Permission grant[] = {{DomainId(1), Access::none}, {DomainId(2), Access::both}};
    ASSERT_TRUE(s.set_perms(d1, kNoTransaction, "x", grant).ok());
    // Domain 2 may now read and write it, but not change its permissions.
    EXPECT_TRUE(s.write(d2, kNoTransaction, "/local/domain/1/x", "w2").ok());
    EXPECT_EQ(read(d2, "/local/domain/1/x"), "w2");
    EXPECT_EQ(err(s.set_perms(d2, kNoTransaction, "/local/domain/1/x", grant)), XEN_EACCES);
    // A default of "read" for everyone not listed.
    const Permission everyone[] = {{DomainId(1), Access::read}};
    ASSERT_TRUE(s.set_perms(d1, kNoTransaction, "x", everyone).ok());
    EXPECT_EQ(read(d2, "/local/domain/1/x"), "w2");
    EXPECT_EQ(err(s.write(d2, kNoTransaction, "/local/domain/1/x", "no")), XEN_EACCES);
    // Dom0 can hand it over.
    ASSERT_TRUE(s.set_perms(d0, kNoTransaction, "/local/domain/1/x", to2).ok());
    EXPECT_TRUE(s.write(d2, kNoTransaction, "/local/domain/1/x", "mine").ok());
    EXPECT_EQ(read(d1, "x"), "<EACCES>");
    EXPECT_EQ(err(s.set_perms(d1, kNoTransaction, "x", {})), XEN_EINVAL);
}

TEST_F(XenstoreStoreTest, WatchesFireOnTheNodeAndBelowWithTheFirstEventAtOnce)
{
    ASSERT_TRUE(s.watch(d0, "/a", "t").ok());
    EXPECT_EQ(out0.take_events(), Strings{"/a|t"});  // xenstored fires every new watch once
    ASSERT_TRUE(s.write(d0, kNoTransaction, "/a", "1").ok());
    ASSERT_TRUE(s.write(d0, kNoTransaction, "/a/b/c", "2").ok());
    ASSERT_TRUE(s.write(d0, kNoTransaction, "/ab", "3").ok());  // not below /a
    ASSERT_TRUE(s.write(d0, kNoTransaction, "/", "4").ok());    // above it
    EXPECT_EQ(out0.take_events(), (Strings{"/a|t", "/a/b/c|t"}));
    EXPECT_EQ(err(s.watch(d0, "/a", "t")), XEN_EEXIST);
    ASSERT_TRUE(s.watch(d0, "/a", "u").ok());
    out0.msgs.clear();
    ASSERT_TRUE(s.unwatch(d0, "/a", "t").ok());
    EXPECT_EQ(err(s.unwatch(d0, "/a", "t")), XEN_ENOENT);
    ASSERT_TRUE(s.mkdir(d0, kNoTransaction, "/a/new").ok());
    EXPECT_EQ(out0.take_events(), Strings{"/a/new|u"});
}

TEST_F(XenstoreStoreTest, RemovingASubtreeFiresWatchesInsideItWithTheirOwnPath)
{
    ASSERT_TRUE(s.write(d0, kNoTransaction, "/a/b/c", "1").ok());
    ASSERT_TRUE(s.watch(d0, "/a/b/c", "deep").ok());
    ASSERT_TRUE(s.watch(d0, "/a/b/c/never/created", "deeper").ok());
    ASSERT_TRUE(s.watch(d0, "/", "root").ok());
    out0.msgs.clear();
    ASSERT_TRUE(s.rm(d0, kNoTransaction, "/a/b").ok());
    auto ev = out0.take_events();
    std::sort(ev.begin(), ev.end());
    EXPECT_EQ(ev, (Strings{"/a/b/c/never/created|deeper", "/a/b/c|deep", "/a/b|root"}));
    // Removing what isn't there changes nothing and fires nothing.
    ASSERT_TRUE(s.rm(d0, kNoTransaction, "/a/b").ok());
    EXPECT_TRUE(out0.take_events().empty());
}

TEST_F(XenstoreStoreTest, WatchEventsRespectReadPermission)
{
    home(1);
    home(2);
    ASSERT_TRUE(s.watch(d1, "/local/domain/2", "spy").ok());
    ASSERT_TRUE(s.watch(d1, "/local/domain/1", "mine").ok());
    out1.msgs.clear();
    ASSERT_TRUE(s.write(d2, kNoTransaction, "secret", "s").ok());
    ASSERT_TRUE(s.write(d0, kNoTransaction, "/local/domain/1/x", "y").ok());
    EXPECT_EQ(out1.take_events(), Strings{"/local/domain/1/x|mine"});
    // Once domain 2 lets it read, it hears about the change.
    const Permission share[] = {{DomainId(2), Access::none}, {DomainId(1), Access::read}};
    ASSERT_TRUE(s.set_perms(d2, kNoTransaction, "secret", share).ok());
    EXPECT_EQ(out1.take_events(), Strings{"/local/domain/2/secret|spy"});
    // Revoking fires too (readable before the change).
    const Permission revoke[] = {{DomainId(2), Access::none}};
    ASSERT_TRUE(s.set_perms(d2, kNoTransaction, "secret", revoke).ok());
    EXPECT_EQ(out1.take_events(), Strings{"/local/domain/2/secret|spy"});
    ASSERT_TRUE(s.write(d2, kNoTransaction, "secret", "s2").ok());
    EXPECT_TRUE(out1.take_events().empty());
}

TEST_F(XenstoreStoreTest, RelativeWatchesReportRelativePaths)
{
    home(1);
    ASSERT_TRUE(s.watch(d1, "device", "rel").ok());
    ASSERT_TRUE(s.watch(d1, "/local/domain/1/device", "abs").ok());
    EXPECT_EQ(out1.take_events(), (Strings{"device|rel", "/local/domain/1/device|abs"}));
    ASSERT_TRUE(s.write(d0, kNoTransaction, "/local/domain/1/device/vif/0", "x").ok());
    auto ev = out1.take_events();
    std::sort(ev.begin(), ev.end());
    EXPECT_EQ(ev, (Strings{"/local/domain/1/device/vif/0|abs", "device/vif/0|rel"}));
    ASSERT_TRUE(s.unwatch(d1, "device", "rel").ok());  // found by its relative name
}

TEST_F(XenstoreStoreTest, SpecialWatchesAreAcceptedAndFired)
{
    ASSERT_TRUE(s.watch(d0, "@releaseDomain", "rel").ok());
    ASSERT_TRUE(s.watch(d0, "@introduceDomain", "intro").ok());
    EXPECT_EQ(out0.take_events(), (Strings{"@releaseDomain|rel", "@introduceDomain|intro"}));
    ASSERT_TRUE(s.write(d0, kNoTransaction, "/x", "1").ok());  // ordinary events don't reach them
    EXPECT_TRUE(out0.take_events().empty());
    s.fire_special("@introduceDomain");
    EXPECT_EQ(out0.take_events(), Strings{"@introduceDomain|intro"});
    ASSERT_TRUE(s.watch(d2, "/local", "w").ok());
    ASSERT_TRUE(s.transaction_start(d2).ok());
    s.release_domain(DomainId(2));
    EXPECT_EQ(out0.take_events(), Strings{"@releaseDomain|rel"});
    EXPECT_FALSE(s.connected(DomainId(2)));
    EXPECT_EQ(err(s.watch(d0, "@bad/slash", "t")), XEN_EINVAL);
    EXPECT_EQ(err(s.watch(d0, "@", "t")), XEN_EINVAL);
}

TEST_F(XenstoreStoreTest, TransactionsAreSnapshotsAndCommitOnlyWithoutInterveningWrites)
{
    ASSERT_TRUE(s.write(d0, kNoTransaction, "/v", "old").ok());
    const Permission readable[] = {{DomainId(0), Access::read}};
    ASSERT_TRUE(s.set_perms(d0, kNoTransaction, "/v", readable).ok());
    ASSERT_TRUE(s.watch(d0, "/v", "w").ok());
    auto tx = s.transaction_start(d1);
    ASSERT_TRUE(tx.ok());
    auto tx0 = s.transaction_start(d0);
    ASSERT_TRUE(tx0.ok());
    out0.msgs.clear();

    ASSERT_TRUE(s.write(d0, *tx0, "/v", "in-tx").ok());
    ASSERT_TRUE(s.write(d0, *tx0, "/v/child", "c").ok());
    EXPECT_EQ(read(d0, "/v", *tx0), "in-tx");
    EXPECT_EQ(read(d0, "/v"), "old");  // not visible outside
    EXPECT_TRUE(out0.take_events().empty());  // no events before commit

    ASSERT_TRUE(s.transaction_end(d0, *tx0, true).ok());
    EXPECT_EQ(read(d0, "/v"), "in-tx");
    EXPECT_EQ(read(d0, "/v/child"), "c");
    EXPECT_EQ(out0.take_events(), (Strings{"/v|w", "/v/child|w"}));

    // d1's snapshot still has the old tree, and its commit conflicts.
    EXPECT_EQ(read(d1, "/v", *tx), "old");
    EXPECT_EQ(err(s.transaction_end(d1, *tx, true)), XEN_EAGAIN);
    EXPECT_EQ(err(s.transaction_end(d1, *tx, true)), XEN_ENOENT);  // it is gone
}

TEST_F(XenstoreStoreTest, AbortedTransactionsLeaveNoTrace)
{
    ASSERT_TRUE(s.mkdir(d0, kNoTransaction, "/keep").ok());
    const auto nodes = s.nodes_in_use();
    const auto chunks = s.chunks_in_use();
    auto tx = s.transaction_start(d0);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(s.write(d0, *tx, "/keep/a/b", "x").ok());
    ASSERT_TRUE(s.rm(d0, *tx, "/keep").ok());
    ASSERT_TRUE(s.write(d0, *tx, "/other", "y").ok());
    ASSERT_TRUE(s.transaction_end(d0, *tx, false).ok());
    EXPECT_EQ(dir(d0, "/"), Strings{"keep"});
    EXPECT_EQ(s.nodes_in_use(), nodes);
    EXPECT_EQ(s.chunks_in_use(), chunks);
    // Other connections' ids are not ours; unknown ids are ENOENT.
    auto tx1 = s.transaction_start(d1);
    ASSERT_TRUE(tx1.ok());
    EXPECT_EQ(err(s.write(d0, *tx1, "/x", "1")), XEN_ENOENT);
    EXPECT_EQ(err(s.transaction_end(d0, *tx1, true)), XEN_ENOENT);
    EXPECT_EQ(read(d0, "/x", TxId(12345)), "<ENOENT>");
}

TEST_F(XenstoreStoreTest, ATransactionReadingOnlyStillConflicts)
{
    ASSERT_TRUE(s.write(d0, kNoTransaction, "/v", "1").ok());
    auto tx = s.transaction_start(d0);
    ASSERT_TRUE(tx.ok());
    EXPECT_EQ(read(d0, "/v", *tx), "1");
    ASSERT_TRUE(s.write(d0, kNoTransaction, "/elsewhere", "2").ok());
    EXPECT_EQ(err(s.transaction_end(d0, *tx, true)), XEN_EAGAIN);
    auto tx2 = s.transaction_start(d0);
    EXPECT_EQ(read(d0, "/v", *tx2), "1");
    EXPECT_TRUE(s.transaction_end(d0, *tx2, true).ok());
}

TEST_F(XenstoreStoreTest, DisconnectDropsWatchesAndTransactions)
{
    const auto nodes = s.nodes_in_use();
    ASSERT_TRUE(s.watch(d1, "/local", "t").ok());
    auto tx = s.transaction_start(d1);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(s.write(d0, kNoTransaction, "/zzz", "1").ok());  // the snapshot keeps the old root
    s.disconnect(d1);
    ASSERT_TRUE(s.rm(d0, kNoTransaction, "/zzz").ok());
    EXPECT_EQ(s.nodes_in_use(), nodes);
    EXPECT_EQ(s.chunks_in_use(), 0u);
    auto again = s.connect(DomainId(1), out1.output());
    EXPECT_TRUE(again.ok());
    EXPECT_EQ(err(s.connect(DomainId(1), out1.output())), XEN_EEXIST);
}

TEST_F(XenstoreStoreTest, StaleConnectionIdsAreRefused)
{
    s.release_domain(DomainId(1));
    auto again = s.connect(DomainId(1), out1.output());  // the same slot, reused
    ASSERT_TRUE(again.ok());
    EXPECT_NE(*again, d1);
    EXPECT_EQ(err(s.write(d1, kNoTransaction, "/x", "1")), XEN_EINVAL);
    s.disconnect(d1);  // must not drop the new connection
    EXPECT_TRUE(s.connected(DomainId(1)));
    EXPECT_TRUE(s.transaction_start(*again).ok());
}

TEST_F(XenstoreStoreTest, VeryDeepTreesAreCreatedAndFreedWithoutRecursion)
{
    std::string path;
    while (path.size() + 2 <= kAbsPathMax) path += "/a";
    ASSERT_TRUE(s.write(d0, kNoTransaction, path, "bottom").ok());
    EXPECT_EQ(read(d0, path), "bottom");
    EXPECT_EQ(s.nodes_in_use(), 1u + kAbsPathMax / 2);
    auto tx = s.transaction_start(d0);
    ASSERT_TRUE(s.write(d0, *tx, path, "tx").ok());  // copies the whole path
    ASSERT_TRUE(s.transaction_end(d0, *tx, true).ok());
    ASSERT_TRUE(s.rm(d0, kNoTransaction, "/a").ok());
    EXPECT_EQ(s.nodes_in_use(), 1u);
    EXPECT_EQ(s.chunks_in_use(), 0u);
}

// --- Limits -----------------------------------------------------------------

namespace {

StoreConfig small_quotas()
{
    StoreConfig c;
    c.quota_nodes = 5;
    c.quota_bytes = 256;
    c.quota_watches = 2;
    c.quota_transactions = 2;
    c.max_value = 64;
    c.max_perms = 3;
    return c;
}

struct XenstoreStoreQuotaTest : XenstoreStoreTest {
    XenstoreStoreQuotaTest() : XenstoreStoreTest(small_quotas()) { home(1); }
};

} // namespace

TEST_F(XenstoreStoreQuotaTest, NodeCountPerDomainIsLimited)
{
    // The home counts: it is owned by domain 1.
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(s.mkdir(d1, kNoTransaction, "n" + std::to_string(i)).ok()) << i;
    const auto nodes = s.nodes_in_use();
    EXPECT_EQ(err(s.mkdir(d1, kNoTransaction, "n4")), XEN_ENOSPC);
    EXPECT_EQ(err(s.write(d1, kNoTransaction, "n0/a/b", "x")), XEN_ENOSPC);
    EXPECT_EQ(s.nodes_in_use(), nodes);  // nothing half-done
    EXPECT_EQ(s.usage(DomainId(1)).nodes, 5u);
    // Freeing some lets it create again; dom0 is not limited.
    ASSERT_TRUE(s.rm(d1, kNoTransaction, "n3").ok());
    EXPECT_TRUE(s.mkdir(d1, kNoTransaction, "n4").ok());
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(s.mkdir(d0, kNoTransaction, "/d0/" + std::to_string(i)).ok());
    // Nor can a transaction get round it.
    auto tx = s.transaction_start(d1);
    ASSERT_TRUE(tx.ok());
    EXPECT_EQ(err(s.mkdir(d1, *tx, "n5")), XEN_ENOSPC);
    ASSERT_TRUE(s.transaction_end(d1, *tx, false).ok());
}

TEST_F(XenstoreStoreQuotaTest, ValueSizeAndBytesAreLimited)
{
    EXPECT_EQ(err(s.write(d1, kNoTransaction, "big", std::string(65, 'x'))), XEN_ENOSPC);
    ASSERT_TRUE(s.write(d1, kNoTransaction, "a", std::string(64, 'x')).ok());
    ASSERT_TRUE(s.write(d1, kNoTransaction, "b", std::string(64, 'x')).ok());
    ASSERT_TRUE(s.write(d1, kNoTransaction, "c", std::string(64, 'x')).ok());
    // 1+3 names + 192 value bytes + "1" so far; another 64 passes 256.
    EXPECT_EQ(err(s.write(d1, kNoTransaction, "d", std::string(64, 'x'))), XEN_ENOSPC);
    // Shrinking is always allowed.
    EXPECT_TRUE(s.write(d1, kNoTransaction, "a", "").ok());
    EXPECT_TRUE(s.write(d1, kNoTransaction, "d", std::string(60, 'x')).ok());
}

TEST_F(XenstoreStoreQuotaTest, WatchesTransactionsAndPermissionsAreLimited)
{
    ASSERT_TRUE(s.watch(d1, "w1", "t").ok());
    ASSERT_TRUE(s.watch(d1, "w2", "t").ok());
    EXPECT_EQ(err(s.watch(d1, "w3", "t")), XEN_E2BIG);
    ASSERT_TRUE(s.unwatch(d1, "w1", "t").ok());
    EXPECT_TRUE(s.watch(d1, "w3", "t").ok());
    EXPECT_EQ(err(s.watch(d1, "w4", std::string(2000, 't'))), XEN_EINVAL);  // could not fit an event

    ASSERT_TRUE(s.transaction_start(d1).ok());
    ASSERT_TRUE(s.transaction_start(d1).ok());
    EXPECT_EQ(err(s.transaction_start(d1)), XEN_ENOSPC);

    const Permission four[] = {{DomainId(1), Access::none},
                               {DomainId(2), Access::read},
                               {DomainId(3), Access::read},
                               {DomainId(4), Access::read}};
    EXPECT_EQ(err(s.set_perms(d1, kNoTransaction, "/local/domain/1", four)), XEN_ENOSPC);
    EXPECT_TRUE(s.set_perms(d1, kNoTransaction, "/local/domain/1", std::span(four).first(3)).ok());
}

TEST_F(XenstoreStoreQuotaTest, ATransactionCannotGrowWithoutBound)
{
    ASSERT_TRUE(s.write(d1, kNoTransaction, "x", "v").ok());
    auto tx = s.transaction_start(d1);
    ASSERT_TRUE(tx.ok());
    // Rewriting one node creates nothing, but each write is an event to
    // keep until commit.
    Errno e = Errno::OK;
    int writes = 0;
    while (writes < 1000 && e == Errno::OK) e = s.write(d1, *tx, "x", std::to_string(writes++)).error();
    EXPECT_EQ(e, XEN_ENOSPC);
    EXPECT_LT(writes, 1000);
    EXPECT_TRUE(s.transaction_end(d1, *tx, true).ok());  // what got in commits
    EXPECT_EQ(read(d1, "x"), std::to_string(writes - 2));
}

namespace {

StoreConfig tiny_pools()
{
    StoreConfig c;
    c.max_nodes = 8;
    c.max_chunks = 16;
    return c;
}

struct XenstoreStorePoolTest : XenstoreStoreTest {
    XenstoreStorePoolTest() : XenstoreStoreTest(tiny_pools()) {}
};

} // namespace

TEST_F(XenstoreStorePoolTest, RunningOutOfPoolsChangesNothingAndRmStillWorks)
{
    ASSERT_TRUE(s.write(d0, kNoTransaction, "/a/b/c", "v").ok());
    ASSERT_TRUE(s.write(d0, kNoTransaction, "/d", "v").ok());
    const auto nodes = s.nodes_in_use();
    const auto chunks = s.chunks_in_use();
    // Needs more nodes than are free (copies of the path included).
    EXPECT_EQ(err(s.write(d0, kNoTransaction, "/a/b/c/d/e/f/g", "v")), XEN_ENOMEM);
    EXPECT_EQ(s.nodes_in_use(), nodes);
    EXPECT_EQ(s.chunks_in_use(), chunks);
    EXPECT_EQ(dir(d0, "/a/b/c"), Strings{});
    EXPECT_EQ(err(s.write(d0, kNoTransaction, "/a", std::string(16 * 60, 'x'))), XEN_ENOMEM);
    EXPECT_EQ(read(d0, "/a"), "");
    // Fill the pool up completely; removing must still work.
    int made = 0;
    while (s.mkdir(d0, kNoTransaction, "/f" + std::to_string(made)).ok()) ++made;
    EXPECT_GT(made, 0);
    ASSERT_TRUE(s.rm(d0, kNoTransaction, "/a").ok());
    for (int i = 0; i < made; ++i) ASSERT_TRUE(s.rm(d0, kNoTransaction, "/f" + std::to_string(i)).ok());
    ASSERT_TRUE(s.rm(d0, kNoTransaction, "/d").ok());
    EXPECT_EQ(s.nodes_in_use(), 1u);
    EXPECT_EQ(s.chunks_in_use(), 0u);
}

TEST(XenstoreStoreArena, TooSmallAnArenaFailsCleanly)
{
    StoreConfig c;
    std::vector<std::uint64_t> words(Store::arena_bytes(c) / 8 - 1);
    Store s(std::as_writable_bytes(std::span<std::uint64_t>(words)), c);
    EXPECT_FALSE(s.ok());
    Recorder r;
    EXPECT_EQ(err(s.connect(DomainId(0), r.output())), XEN_ENOMEM);
    char buf[16];
    EXPECT_EQ(err(s.read(ConnId(0), kNoTransaction, "/", buf)), XEN_EINVAL);
}

// --- The wire ---------------------------------------------------------------

namespace {

struct XenstoreStoreWireTest : XenstoreStoreTest {
    // Sends one request as raw payload bytes and returns "<type>:<payload>"
    // of the reply (the first message out).
    std::string call(ConnId c, Recorder& r, std::uint32_t type, const std::string& payload,
                     std::uint32_t tx = 0)
    {
        r.msgs.clear();
        s.handle(c, Header{type, 77, tx, static_cast<std::uint32_t>(payload.size())},
                 std::span<const char>(payload.data(), payload.size()));
        if (r.msgs.empty()) return "<no reply>";
        const auto& m = r.msgs.front();
        EXPECT_EQ(m.h.req_id, 77u);
        EXPECT_EQ(m.h.tx_id, tx);
        if (m.h.type == XS_ERROR) return "ERROR:" + m.payload;
        EXPECT_EQ(m.h.type, type);
        return m.payload;
    }
};

std::string z(const char* s) { return std::string(s) + '\0'; }

} // namespace

TEST_F(XenstoreStoreWireTest, RequestsAndRepliesAsOnTheWire)
{
    EXPECT_EQ(call(d0, out0, XS_WRITE, z("/a/b") + "value"), z("OK"));
    EXPECT_EQ(call(d0, out0, XS_READ, z("/a/b")), "value");
    EXPECT_EQ(call(d0, out0, XS_MKDIR, z("/a/c")), z("OK"));
    EXPECT_EQ(call(d0, out0, XS_DIRECTORY, z("/a")), z("b") + z("c"));
    EXPECT_EQ(call(d0, out0, XS_SET_PERMS, z("/a/b") + z("n0") + z("r1") + z("b2")), z("OK"));
    EXPECT_EQ(call(d0, out0, XS_GET_PERMS, z("/a/b")), z("n0") + z("r1") + z("b2"));
    EXPECT_EQ(call(d0, out0, XS_RM, z("/a/c")), z("OK"));
    EXPECT_EQ(call(d0, out0, XS_GET_DOMAIN_PATH, z("7")), z("/local/domain/7"));
    EXPECT_EQ(call(d0, out0, XS_IS_DOMAIN_INTRODUCED, z("1")), z("T"));
    EXPECT_EQ(call(d0, out0, XS_IS_DOMAIN_INTRODUCED, z("9")), z("F"));
    EXPECT_EQ(call(d0, out0, XS_READ, z("/nope")), "ERROR:" + z("ENOENT"));
    EXPECT_EQ(call(d1, out1, XS_READ, z("/a/b")), "value");  // r1
    EXPECT_EQ(call(d1, out1, XS_READ, z("/a")), "ERROR:" + z("EACCES"));
    EXPECT_EQ(call(d0, out0, XS_INTRODUCE, z("1") + z("2") + z("3")), "ERROR:" + z("ENOSYS"));
}

TEST_F(XenstoreStoreWireTest, WatchReplyComesBeforeItsFirstEvent)
{
    s.handle(d0, Header{XS_WATCH, 5, 0, 0}, {});  // malformed: no args
    ASSERT_EQ(out0.msgs.size(), 1u);
    EXPECT_EQ(out0.msgs[0].h.type, XS_ERROR);
    call(d0, out0, XS_WATCH, z("/w") + z("tok"));
    ASSERT_EQ(out0.msgs.size(), 2u);
    EXPECT_EQ(out0.msgs[0].h.type, XS_WATCH);
    EXPECT_EQ(out0.msgs[1].h.type, XS_WATCH_EVENT);
    EXPECT_EQ(out0.msgs[1].h.req_id, 0u);
    EXPECT_EQ(out0.msgs[1].payload, z("/w") + z("tok"));
    // The reply to a write comes before the event it causes.
    call(d0, out0, XS_WRITE, z("/w/x") + "1");
    ASSERT_EQ(out0.msgs.size(), 2u);
    EXPECT_EQ(out0.msgs[0].h.type, XS_WRITE);
    EXPECT_EQ(out0.msgs[1].payload, z("/w/x") + z("tok"));
    EXPECT_EQ(call(d0, out0, XS_UNWATCH, z("/w") + z("tok")), z("OK"));
}

TEST_F(XenstoreStoreWireTest, TransactionsOverTheWire)
{
    const std::string id = call(d0, out0, XS_TRANSACTION_START, z(""));
    auto tx = parse_decimal(std::string_view(id.data(), id.size() - 1));
    ASSERT_TRUE(tx.ok());
    EXPECT_EQ(call(d0, out0, XS_WRITE, z("/t") + "1", *tx), z("OK"));
    EXPECT_EQ(call(d0, out0, XS_READ, z("/t")), "ERROR:" + z("ENOENT"));
    EXPECT_EQ(call(d0, out0, XS_TRANSACTION_END, z("X"), *tx), "ERROR:" + z("EINVAL"));
    EXPECT_EQ(call(d0, out0, XS_TRANSACTION_END, z("T"), *tx), z("OK"));
    EXPECT_EQ(call(d0, out0, XS_READ, z("/t")), "1");
    EXPECT_EQ(call(d0, out0, XS_TRANSACTION_START, z(""), 3), "ERROR:" + z("EINVAL"));
    EXPECT_EQ(call(d0, out0, XS_TRANSACTION_END, z("T"), 999), "ERROR:" + z("ENOENT"));
}

TEST_F(XenstoreStoreWireTest, HostileRequestsGetErrorsNotCrashes)
{
    const std::string cases[][2] = {
        {"", ""},                                   // no path at all
        {"/a/b", ""},                               // unterminated path
        {std::string(1, '\0'), ""},                 // empty path
        {std::string("/a\0", 3) + "r1", "set"},     // unterminated permission
        {z("/a") + z("q1"), "set"},                 // bad permission letter
        {z("/a") + z("r99999"), "set"},             // domid out of range
        {z("/a"), "set"},                           // no permissions
    };
    for (const auto& c : cases) {
        const std::uint32_t type = c[1] == "set" ? XS_SET_PERMS : XS_READ;
        const std::string r = call(d0, out0, type, c[0]);
        EXPECT_EQ(r.substr(0, 6), "ERROR:") << type << " " << c[0];
    }
    std::string many = z("/a");
    for (int i = 0; i < 20; ++i) many += z("r1");
    EXPECT_EQ(call(d0, out0, XS_SET_PERMS, many), "ERROR:" + z("ENOSPC"));
    for (std::uint32_t type : {std::uint32_t{XS_ERROR}, std::uint32_t{XS_WATCH_EVENT}, 999u, 0xffffu})
        EXPECT_EQ(call(d0, out0, type, z("/a")), "ERROR:" + z("EINVAL")) << type;
    EXPECT_EQ(call(d0, out0, XS_WATCH, z("/a")), "ERROR:" + z("EINVAL"));  // no token
    EXPECT_EQ(call(d0, out0, XS_GET_DOMAIN_PATH, z("65536")), "ERROR:" + z("EINVAL"));
    // A directory listing too long for one reply.
    for (int i = 0; i < 300; ++i)
        ASSERT_TRUE(s.mkdir(d0, kNoTransaction, "/big/" + std::string(20, 'n') + std::to_string(i)).ok());
    EXPECT_EQ(call(d0, out0, XS_DIRECTORY, z("/big")), "ERROR:" + z("E2BIG"));
}

TEST_F(XenstoreStoreWireTest, RefusedEventsAreRefiredWithTheWatchPath)
{
    call(d1, out1, XS_WATCH, z("/local/domain/1") + z("t"));
    home(1);
    out1.msgs.clear();
    out1.refuse = true;
    ASSERT_TRUE(s.write(d0, kNoTransaction, "/local/domain/1/a", "1").ok());
    ASSERT_TRUE(s.write(d0, kNoTransaction, "/local/domain/1/b", "2").ok());
    EXPECT_TRUE(out1.msgs.empty());
    out1.refuse = false;
    s.retry_dropped_events(d1);
    EXPECT_EQ(out1.take_events(), Strings{"/local/domain/1|t"});  // one, with the watch's path
    s.retry_dropped_events(d1);
    EXPECT_TRUE(out1.take_events().empty());
}
