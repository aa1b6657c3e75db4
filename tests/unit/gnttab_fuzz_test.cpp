// Hostile sequences: random grant operations from three domains, guests that
// rewrite their entries at random, and a granter racing a mapper on two threads.
// After every step: pins match the maptrack, the busy flags match the pins, every
// foreign mapping is a page its granter granted, and no copy wrote anywhere but
// its destination.
#include "gnttab_test_support.hpp"

#include <atomic>
#include <random>
#include <thread>

using namespace keel;
using namespace keel::gnttab;
using namespace keel::gnttab::test;

namespace {

constexpr std::uint16_t kDoms[] = {1, 2, 3};
constexpr unsigned kRefs = 12;        // a few refs, so operations collide
constexpr unsigned kRamPages = 6;
constexpr unsigned kIpaSlots = 6;     // a few mapping addresses, so they collide too

class Fuzzer {
public:
    explicit Fuzzer(unsigned seed) : rng_(seed)
    {
        for (std::uint16_t d : kDoms) {
            host_.add_domain(d, kRamPages);
            for (unsigned p = 0; p < kRamPages; ++p)
                for (unsigned i = 0; i < kPageSize; ++i) host_.ram(d, p)[i] = static_cast<std::uint8_t>(rng_());
        }
    }

    // `death_at`: the step at which one domain dies (never, by default).
    void run(unsigned steps, unsigned death_at = ~0u)
    {
        for (unsigned i = 0; i < steps && !::testing::Test::HasFatalFailure(); ++i) {
            if (i == death_at) kill_one();
            switch (pick(9)) {
            case 0: case 1: guest_grant(); break;
            case 2: guest_end_access(); break;
            case 3: hostile_write(); break;
            case 4: case 5: do_map(); break;
            case 6: do_unmap(); break;
            case 7: case 8: do_copy(); break;
            }
            destroy_drained();
            check_invariants();
        }
    }

    // Every domain dies, mappers and granters interleaved; nothing may leak.
    void kill_all()
    {
        for (std::uint16_t d : kDoms)
            if (!dead_.count(d))
                release_domain(host_, host_.gt(d), pick(2) ? ForeignMappings::Keep : ForeignMappings::Revoke);
        for (std::uint16_t d : kDoms) revoke_foreign_mappings(host_, host_.gt(d));
        for (std::uint16_t d : kDoms)
            if (host_.gt(d).state() != GrantDomain::State::Unused) {
                EXPECT_TRUE(host_.gt(d).destroy(host_).ok()) << "d" << d;
            }
        EXPECT_EQ(host_.live_pages(), 0u);
    }

    unsigned okay_maps = 0, okay_unmaps = 0, okay_copies = 0, deaths = 0;
    unsigned orphans_seen = 0, zombie_maps_seen = 0;  // after a death: revoked / kept mappings

private:
    unsigned pick(unsigned n) { return static_cast<unsigned>(rng_() % n); }
    // Any domain, dead ones included: what a request may name.
    std::uint16_t any_dom() { return kDoms[pick(3)]; }
    // A domain that still runs: only these make requests or write their tables.
    std::uint16_t live_dom()
    {
        for (;;) {
            const std::uint16_t d = any_dom();
            if (!dead_.count(d)) return d;
        }
    }

    // One domain (never the last one standing) dies, keeping or revoking others' mappings.
    void kill_one()
    {
        const std::uint16_t d = live_dom();
        dead_.insert(d);
        const ReleaseSummary s =
            release_domain(host_, host_.gt(d), pick(2) ? ForeignMappings::Keep : ForeignMappings::Revoke);
        handles_.erase(d);
        if (s.drained()) {
            EXPECT_TRUE(host_.gt(d).destroy(host_).ok());
        }
        ++deaths;
    }
    void destroy_drained()
    {
        for (std::uint16_t d : host_.drained) EXPECT_TRUE(host_.gt(d).destroy(host_).ok()) << "d" << d;
        host_.drained.clear();
    }
    // The guest-visible entry of a domain whose table still exists.
    grant_entry_v1_t* entry_of(std::uint16_t d, grant_ref_t r)
    {
        return dead_.count(d) ? nullptr : host_.entry(d, r);
    }
    std::uint16_t some_domid()
    {
        switch (pick(8)) {
        case 0: return static_cast<std::uint16_t>(rng_());
        case 1: return DOMID_SELF;
        default: return any_dom();
        }
    }
    grant_ref_t some_ref() { return pick(16) == 0 ? static_cast<grant_ref_t>(rng_()) : pick(kRefs); }
    std::uint64_t some_gfn()
    {
        switch (pick(10)) {
        case 0: return rng_();
        case 1: return kGrantWindowGfn;
        default: return host_.gfn(pick(kRamPages));
        }
    }
    std::uint64_t ipa_slot(unsigned i) const { return kForeignBaseIpa + i * kPageSize; }
    std::uint64_t some_ipa()
    {
        switch (pick(10)) {
        case 0: return rng_();
        case 1: return host_.gfn(0) * kPageSize;  // its own RAM
        default: return ipa_slot(pick(kIpaSlots)) + (pick(4) == 0 ? pick(kPageSize) : 0);
        }
    }
    bool& tainted(std::uint16_t d, grant_ref_t r) { return tainted_[d][r]; }

    // A well-behaved guest rewrites only entries the hypervisor does not hold.
    void guest_grant()
    {
        const std::uint16_t g = live_dom();
        const grant_ref_t r = pick(kRefs);
        if (host_.flags(g, r) & (GTF_reading | GTF_writing)) return;
        host_.grant(g, r, pick(4) ? any_dom() : some_domid(), pick(8) ? host_.gfn(pick(kRamPages)) : some_gfn(),
                    pick(3) == 0);
        // A hostile write may have hidden a pin; the entry stays suspect until it is free.
        const GrantDomain::PinInfo pin = host_.gt(g).pins(r);
        if (pin.read_pins + pin.write_pins == 0) tainted(g, r) = false;
    }
    void guest_end_access()
    {
        const std::uint16_t g = live_dom();
        const grant_ref_t r = pick(kRefs);
        if (host_.end_access(g, r) && !tainted(g, r)) {
            // Revoked means no one holds it: the protocol's whole promise.
            EXPECT_EQ(host_.gt(g).pins(r).read_pins + host_.gt(g).pins(r).write_pins, 0) << "d" << g << " ref " << r;
        }
    }
    // A hostile guest writes anything, anywhere in its table, busy or not.
    void hostile_write()
    {
        const std::uint16_t g = live_dom();
        const grant_ref_t r = pick(kRefs);
        auto* words = reinterpret_cast<std::uint32_t*>(host_.entry(g, r));
        const std::uint32_t v = static_cast<std::uint32_t>(rng_());
        if (pick(2)) __atomic_store_n(&words[0], v, __ATOMIC_RELAXED);
        else __atomic_store_n(&words[1], pick(2) ? v : static_cast<std::uint32_t>(some_gfn()), __ATOMIC_RELAXED);
        tainted(g, r) = true;
    }

    void do_map()
    {
        std::uint16_t m = live_dom();
        gnttab_map_grant_ref_t op = map_op(some_domid(), some_ref(), some_ipa(), pick(2));
        if (pick(3) != 0) {
            // Mostly, a mapper maps something granted to it.
            op.dom = any_dom();
            op.ref = pick(kRefs);
            const grant_entry_v1_t* e = entry_of(op.dom, op.ref);
            if (e && e->domid >= 1 && e->domid <= 3 && !dead_.count(e->domid)) m = e->domid;
        }
        if (pick(10) == 0) op.flags = static_cast<std::uint32_t>(rng_());
        bool was_pinned = false;
        if (op.dom != DOMID_SELF && host_.lookup(DomainId(op.dom)) && op.ref < kRefs) {
            const GrantDomain::PinInfo pin = host_.gt(op.dom).pins(op.ref);
            was_pinned = pin.read_pins + pin.write_pins != 0;
        }
        grant_entry_v1_t before{};
        if (op.ref < kRefs && host_.lookup(DomainId(op.dom)) && entry_of(op.dom, op.ref))
            before = *entry_of(op.dom, op.ref);
        const auto ram = snapshot();
        map_grant_ref(host_, host_.gt(m), op);
        EXPECT_TRUE(snapshot() == ram) << "map wrote memory";
        if (op.status != GNTST_okay) return;
        ++okay_maps;
        handles_[m].push_back({op.handle, op.host_addr & ~(kPageSize - 1)});
        // A first pin happened only because the entry (as the guest last wrote it) allowed it.
        if (!was_pinned && !tainted(op.dom, op.ref)) {
            EXPECT_EQ(before.flags & GTF_type_mask, GTF_permit_access);
            EXPECT_EQ(before.domid, m);
            if (!(op.flags & GNTMAP_readonly)) {
                EXPECT_FALSE(before.flags & GTF_readonly);
            }
            EXPECT_EQ(host_.foreign(m, op.host_addr & ~(kPageSize - 1)),
                      host_.ram(op.dom, static_cast<unsigned>(before.frame - kRamBaseGfn)));
        }
    }

    void do_unmap()
    {
        const std::uint16_t m = live_dom();
        auto& hs = handles_[m];
        gnttab_unmap_grant_ref_t op{};
        std::size_t idx = hs.size();
        if (!hs.empty() && pick(4) != 0) {
            idx = pick(static_cast<unsigned>(hs.size()));
            op.handle = hs[idx].first;
            op.host_addr = pick(6) == 0 ? some_ipa() : hs[idx].second;
        } else {
            op.handle = pick(2) ? pick(300) : static_cast<grant_handle_t>(rng_());
            op.host_addr = some_ipa();
        }
        if (pick(8) == 0) op.dev_bus_addr = rng_();
        const auto ram = snapshot();
        unmap_grant_ref(host_, host_.gt(m), op);
        EXPECT_TRUE(snapshot() == ram) << "unmap wrote memory";
        if (op.status == GNTST_okay && idx < hs.size() && op.host_addr != 0) {
            ++okay_unmaps;
            hs.erase(hs.begin() + static_cast<long>(idx));
        }
    }

    void do_copy()
    {
        const std::uint16_t c = live_dom();
        gnttab_copy_t op{};
        op.flags = static_cast<std::uint16_t>(pick(4));
        for (auto* p : {&op.source, &op.dest}) {
            const bool gref = p == &op.source ? (op.flags & GNTCOPY_source_gref) : (op.flags & GNTCOPY_dest_gref);
            if (gref) p->u.ref = some_ref();
            else p->u.gmfn = some_gfn();
            p->domid = gref ? some_domid() : (pick(6) == 0 ? some_domid() : DOMID_SELF);
            p->offset = static_cast<std::uint16_t>(pick(5) == 0 ? rng_() : pick(kPageSize));
        }
        op.len = static_cast<std::uint16_t>(pick(5) == 0 ? rng_() : pick(kPageSize / 2));
        // Mostly, each grant end is one granted to the caller.
        for (auto* p : {&op.source, &op.dest}) {
            const bool gref = p == &op.source ? (op.flags & GNTCOPY_source_gref) : (op.flags & GNTCOPY_dest_gref);
            if (!gref || pick(4) == 0) continue;
            const std::uint16_t g = any_dom();
            if (dead_.count(g)) continue;
            for (grant_ref_t r = pick(kRefs), n = 0; n < kRefs; ++n, r = (r + 1) % kRefs)
                if (host_.entry(g, r)->domid == c) {
                    p->domid = g;
                    p->u.ref = r;
                    break;
                }
        }
        // Where each side would be in host memory if the copy is allowed.
        const auto ram = snapshot();
        copy(host_, host_.gt(c), op);
        auto after = snapshot();
        if (op.status != GNTST_okay) {
            EXPECT_TRUE(after == ram) << "failed copy wrote memory";
            return;
        }
        ++okay_copies;
        ASSERT_LE(op.source.offset + op.len, kPageSize);
        ASSERT_LE(op.dest.offset + op.len, kPageSize);
        const std::uint8_t* dst = resolve(c, op.dest, op.flags & GNTCOPY_dest_gref);
        ASSERT_NE(dst, nullptr) << "copy wrote to a page the caller may not write";
        // Only the destination range changed, and it now holds the source bytes.
        const std::size_t at = offset_in_snapshot(dst) + op.dest.offset;
        for (std::size_t i = 0; i < ram.size(); ++i)
            if (i < at || i >= at + op.len) {
                ASSERT_EQ(after[i], ram[i]) << "byte " << i << " outside the copy";
            }
        const std::uint8_t* src = resolve(c, op.source, op.flags & GNTCOPY_source_gref);
        ASSERT_NE(src, nullptr) << "copy read a page the caller may not read";
        const std::size_t from = offset_in_snapshot(src) + op.source.offset;
        for (std::size_t i = 0; i < op.len; ++i) ASSERT_EQ(after[at + i], ram[from + i]);
    }

    // The page a successful copy end must have used: the caller's own frame; for a
    // grant held by a mapping, that mapping's page; otherwise the frame the entry
    // names (copies hold no pin afterwards, and the entry is unchanged since).
    const std::uint8_t* resolve(std::uint16_t caller, const gnttab_copy::gnttab_copy_ptr& p, bool gref)
    {
        if (!gref) {
            if (p.domid != DOMID_SELF || p.u.gmfn < kRamBaseGfn || p.u.gmfn >= kRamBaseGfn + kRamPages) return nullptr;
            return host_.ram(caller, static_cast<unsigned>(p.u.gmfn - kRamBaseGfn));
        }
        const std::uint16_t g = p.domid == DOMID_SELF ? caller : p.domid;
        if (p.u.ref >= kRefs) return nullptr;
        const GrantDomain::PinInfo pin = host_.gt(g).pins(p.u.ref);
        if (pin.read_pins + pin.write_pins != 0) {
            // Held by a mapping: the copy used that mapping's page.
            EXPECT_EQ(pin.domid, caller);
            for (std::uint16_t m : kDoms)
                for (grant_handle_t h = 0; h < host_.gt(m).handle_limit(); ++h) {
                    GrantDomain::Mapping mp;
                    if (host_.gt(m).mapping(h, mp) && mp.granter == g && mp.ref == p.u.ref)
                        return host_.foreign(m, mp.at.raw());
                }
            return nullptr;
        }
        const grant_entry_v1_t e = *host_.entry(g, p.u.ref);
        if (!tainted(g, p.u.ref)) {
            EXPECT_EQ(e.flags & GTF_type_mask, GTF_permit_access);
            EXPECT_EQ(e.domid, caller);
        }
        if (e.frame < kRamBaseGfn || e.frame >= kRamBaseGfn + kRamPages) return nullptr;
        return host_.ram(g, e.frame - kRamBaseGfn);
    }

    std::vector<std::uint8_t> snapshot()
    {
        std::vector<std::uint8_t> all;
        all.reserve(3 * kRamPages * kPageSize);
        for (std::uint16_t d : kDoms)
            for (unsigned p = 0; p < kRamPages; ++p) all.insert(all.end(), host_.ram(d, p), host_.ram(d, p) + kPageSize);
        return all;
    }
    std::size_t offset_in_snapshot(const std::uint8_t* page)
    {
        std::size_t off = 0;
        for (std::uint16_t d : kDoms)
            for (unsigned p = 0; p < kRamPages; ++p, off += kPageSize)
                if (host_.ram(d, p) == page) return off;
        ADD_FAILURE() << "not a RAM page";
        return 0;
    }

    void check_invariants()
    {
        // Count the live mappings per (granter, ref) from every mapper's maptrack.
        std::map<std::pair<std::uint16_t, grant_ref_t>, std::pair<unsigned, unsigned>> expect;  // ro, rw
        std::map<std::pair<std::uint16_t, grant_ref_t>, std::uint16_t> holder;
        for (std::uint16_t m : kDoms) {
            GrantDomain& md = host_.gt(m);
            std::size_t mapped = 0, orphans = 0;
            for (grant_handle_t h = 0; h < md.handle_limit(); ++h) {
                GrantDomain::Mapping mp;
                if (!md.mapping(h, mp)) continue;
                if (mp.orphaned) {
                    // Revoked: nothing pinned, nothing left in the mapper's stage-2.
                    EXPECT_TRUE(dead_.count(mp.granter));
                    EXPECT_EQ(host_.foreign(m, mp.at.raw()), nullptr);
                    ++orphans;
                    ++orphans_seen;
                    continue;
                }
                ++mapped;
                if (dead_.count(mp.granter)) ++zombie_maps_seen;
                auto& c = expect[{mp.granter, mp.ref}];
                (mp.readonly ? c.first : c.second)++;
                holder[{mp.granter, mp.ref}] = m;
                // The mapper's stage-2 holds exactly the granter's pinned page there.
                const std::uint8_t* seen = host_.foreign(m, mp.at.raw());
                ASSERT_NE(seen, nullptr);
                bool is_granter_ram = false;
                for (unsigned p = 0; p < kRamPages; ++p) is_granter_ram |= host_.ram(mp.granter, p) == seen;
                EXPECT_TRUE(is_granter_ram) << "a mapping of something that is not the granter's RAM";
                EXPECT_EQ(host_.dom(m).foreign.at(mp.at.raw()).readonly, mp.readonly);
            }
            EXPECT_EQ(host_.dom(m).foreign.size(), mapped) << "stage-2 and maptrack of d" << m << " disagree";
            EXPECT_EQ(md.live_handles(), mapped + orphans);
        }
        for (std::uint16_t g : kDoms) {
            unsigned pinned = 0;
            for (grant_ref_t r = 0; r < kRefs; ++r) {
                const GrantDomain::PinInfo pin = host_.gt(g).pins(r);
                const auto it = expect.find({g, r});
                const unsigned ro = it == expect.end() ? 0 : it->second.first;
                const unsigned rw = it == expect.end() ? 0 : it->second.second;
                ASSERT_EQ(pin.read_pins, ro) << "d" << g << " ref " << r;
                ASSERT_EQ(pin.write_pins, rw) << "d" << g << " ref " << r;
                if (ro + rw) {
                    ++pinned;
                    const std::uint16_t want = holder[{g, r}];
                    EXPECT_EQ(pin.domid, want);
                }
                if (tainted(g, r) || dead_.count(g)) continue;
                const std::uint16_t f = host_.flags(g, r);
                EXPECT_EQ((f & GTF_reading) != 0, ro + rw != 0) << "d" << g << " ref " << r;
                EXPECT_EQ((f & GTF_writing) != 0, rw != 0) << "d" << g << " ref " << r;
            }
            EXPECT_EQ(host_.gt(g).pinned_entries(), pinned);
        }
    }

    FakeHost host_;
    std::mt19937_64 rng_;
    std::map<std::uint16_t, std::map<grant_ref_t, bool>> tainted_;
    std::map<std::uint16_t, std::vector<std::pair<grant_handle_t, std::uint64_t>>> handles_;
    std::set<std::uint16_t> dead_;
};

} // namespace

TEST(GnttabFuzz, RandomOperationsKeepEveryInvariant)
{
    unsigned maps = 0, unmaps = 0, copies = 0;
    for (unsigned seed = 1; seed <= 6; ++seed) {
        Fuzzer f(seed);
        f.run(1500);
        if (HasFatalFailure()) FAIL() << "seed " << seed;
        f.kill_all();
        maps += f.okay_maps;
        unmaps += f.okay_unmaps;
        copies += f.okay_copies;
    }
    // The fuzz must reach the success paths, not only the error ones.
    EXPECT_GT(maps, 200u);
    EXPECT_GT(unmaps, 50u);
    EXPECT_GT(copies, 100u);
}

TEST(GnttabFuzz, RandomOperationsAcrossADomainDeath)
{
    unsigned orphans = 0, zombies = 0;
    for (unsigned seed = 100; seed < 108; ++seed) {
        Fuzzer f(seed);
        f.run(1200, 600);
        if (HasFatalFailure()) FAIL() << "seed " << seed;
        EXPECT_EQ(f.deaths, 1u);
        f.kill_all();
        orphans += f.orphans_seen;
        zombies += f.zombie_maps_seen;
    }
    // Both fates of a dead granter's mappings were exercised.
    EXPECT_GT(orphans, 0u);
    EXPECT_GT(zombies, 0u);
}

// A granter revokes, regrants and scribbles on its entry from one thread while a
// backend maps, unmaps and copies on another. Whenever the granter's revoke
// succeeds, nobody may hold the grant; at the end nothing is left pinned or mapped.
TEST(GnttabFuzz, GranterRacingMapperNeverLosesAPin)
{
    FakeHost host;
    GrantDomain& d1 = host.add_domain(1);
    GrantDomain& d2 = host.add_domain(2);
    constexpr grant_ref_t kRef = 5;
    std::atomic<bool> stop{false};
    std::atomic<unsigned> revokes{0}, maps{0}, copies{0}, violations{0};

    // host.foreign()/std::map is touched only by the mapper thread (through map_foreign).
    std::thread granter([&] {
        std::mt19937 rng(7);
        auto* words = reinterpret_cast<std::uint32_t*>(host.entry(1, kRef));
        while (!stop.load()) {
            host.grant(1, kRef, 2, host.gfn(rng() % 4), rng() % 4 == 0);
            // Leave the grant up a little while, so the backend gets to use it.
            for (unsigned k = 0, n = rng() % 4000; k < n; ++k) asm volatile("" ::: "memory");
            for (unsigned spin = 0; spin < 50; ++spin) {
                if (rng() % 8 == 0) {
                    // Toggle GTF_readonly or the domid behind the hypervisor's back.
                    std::uint32_t cur = __atomic_load_n(&words[0], __ATOMIC_RELAXED);
                    std::uint32_t next = cur ^ (rng() % 2 ? GTF_readonly : (3u << 16));
                    __atomic_compare_exchange_n(&words[0], &cur, next, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
                }
                if (host.end_access(1, kRef)) {
                    const GrantDomain::PinInfo p = d1.pins(kRef);
                    if (p.read_pins + p.write_pins != 0) ++violations;
                    ++revokes;
                    break;
                }
            }
            // A guest that gave up on revoking waits for the backend, as Linux does.
            while (!host.end_access(1, kRef) && !stop.load()) std::this_thread::yield();
        }
    });
    std::thread mapper([&] {
        // However this thread ends (a failed ASSERT returns early), the granter stops.
        struct StopOnExit {
            std::atomic<bool>& stop;
            ~StopOnExit() { stop.store(true); }
        } stop_on_exit{stop};
        std::mt19937 rng(11);
        std::vector<grant_handle_t> held;
        // Run until both sides have done real work (threads start at their own pace).
        for (unsigned i = 0; i < 2000000 && (i < 6000 || maps.load() < 200 || revokes.load() < 50); ++i) {
            if (held.size() < 3 && rng() % 2) {
                gnttab_map_grant_ref_t op = map_op(1, kRef, kForeignBaseIpa + held.size() * kPageSize, rng() % 2);
                // Only map into the slot the vector position names; skip if taken.
                if (host.dom(2).foreign.count(op.host_addr)) continue;
                map_grant_ref(host, d2, op);
                if (op.status == GNTST_okay) {
                    held.push_back(op.handle);
                    ++maps;
                }
            } else if (!held.empty()) {
                GrantDomain::Mapping m;
                ASSERT_TRUE(d2.mapping(held.back(), m));
                gnttab_unmap_grant_ref_t op = unmap_op(held.back(), m.at.raw());
                unmap_grant_ref(host, d2, op);
                ASSERT_EQ(op.status, GNTST_okay);
                held.pop_back();
            } else {
                gnttab_copy_t op = copy_gref_to_gfn(1, kRef, 0, host.gfn(0), 0, 64);
                copy(host, d2, op);
                if (op.status == GNTST_okay) ++copies;
            }
        }
        for (grant_handle_t h : held) {
            GrantDomain::Mapping m;
            ASSERT_TRUE(d2.mapping(h, m));
            gnttab_unmap_grant_ref_t op = unmap_op(h, m.at.raw());
            unmap_grant_ref(host, d2, op);
            EXPECT_EQ(op.status, GNTST_okay);
        }
    });
    mapper.join();
    granter.join();

    EXPECT_EQ(violations.load(), 0u) << "a revoke succeeded while the grant was held";
    EXPECT_GE(revokes.load(), 50u);
    EXPECT_GE(maps.load(), 200u);
    EXPECT_EQ(d1.pinned_entries(), 0u);
    EXPECT_EQ(d2.live_handles(), 0u);
    EXPECT_TRUE(host.dom(2).foreign.empty());
    EXPECT_EQ(host.flags(1, kRef) & (GTF_reading | GTF_writing), 0);
}
