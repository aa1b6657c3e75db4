// A fake hypervisor for grant-table tests: a few domains whose RAM is host
// memory (the host pointer stands in for the physical address), a stage-2 of
// foreign mappings per domain, page accounting for leak checks, and the guest
// side of the v1 protocol (grant, end access) written the way a guest would.
#pragma once

#include "gnttab/abi.hpp"
#include "gnttab/grant_domain.hpp"
#include "gnttab/ops.hpp"
#include "gnttab/release.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <vector>

namespace keel::gnttab::test {

inline constexpr std::uint64_t kRamBaseGfn = 0x40000;     // IPA 0x40000000
inline constexpr std::uint64_t kGrantWindowGfn = 0x38000;  // IPA 0x38000000, 16 MiB
inline constexpr std::uint64_t kGrantWindowPages = 4096;
inline constexpr std::uint64_t kForeignBaseIpa = 0x80000000;  // where tests map grants

class FakeHost final : public GrantHost {
public:
    struct Foreign {
        HostPage page;
        bool readonly;
    };
    struct Dom {
        std::unique_ptr<GrantDomain> gt = std::make_unique<GrantDomain>();
        std::vector<std::uint8_t*> ram;
        std::map<std::uint64_t, Foreign> foreign;  // IPA -> mapped foreign page
        std::map<unsigned, HostPage> frames;       // grant frames the guest mapped, by index
    };

    ~FakeHost()
    {
        for (auto& [id, d] : doms_)
            for (auto* p : d.ram) std::free(p);
        for (void* p : live_pages_) std::free(p);
    }

    // A domain with `ram_pages` pages of RAM at kRamBaseGfn and its grant table
    // frame 0 mapped at the start of the grant window, as Linux does at boot.
    GrantDomain& add_domain(std::uint16_t id, unsigned ram_pages = 8, unsigned max_frames = kMaxGrantFrames)
    {
        Dom& d = doms_[id];
        for (unsigned i = 0; i < ram_pages; ++i) {
            auto* p = static_cast<std::uint8_t*>(std::aligned_alloc(kPageSize, kPageSize));
            std::memset(p, 0, kPageSize);
            d.ram.push_back(p);
        }
        EXPECT_TRUE(d.gt->activate(*this, DomainId(id), max_frames).ok());
        map_frame(id, 0);
        return *d.gt;
    }
    void map_frame(std::uint16_t id, unsigned idx)
    {
        Dom& d = doms_.at(id);
        Result<HostPage> p = d.gt->map_frame(*this, idx, kGrantWindowGfn + idx);
        ASSERT_TRUE(p.ok()) << "map_frame " << idx;
        d.frames[idx] = *p;
    }

    GrantDomain& gt(std::uint16_t id) { return *doms_.at(id).gt; }
    Dom& dom(std::uint16_t id) { return doms_.at(id); }
    std::uint8_t* ram(std::uint16_t id, unsigned page) { return doms_.at(id).ram.at(page); }
    std::uint64_t gfn(unsigned page) const { return kRamBaseGfn + page; }
    // The caller's view through its stage-2 of a foreign mapping (nullptr: nothing there).
    std::uint8_t* foreign(std::uint16_t id, std::uint64_t ipa)
    {
        auto& f = doms_.at(id).foreign;
        auto it = f.find(ipa);
        return it == f.end() ? nullptr : static_cast<std::uint8_t*>(it->second.page.ptr);
    }

    // --- The guest side of a v1 table, as the SDK writes it. ---
    grant_entry_v1_t* entry(std::uint16_t id, grant_ref_t ref)
    {
        Dom& d = doms_.at(id);
        auto it = d.frames.find(ref / kEntriesPerFrame);
        if (it == d.frames.end()) return nullptr;
        return static_cast<grant_entry_v1_t*>(it->second.ptr) + ref % kEntriesPerFrame;
    }
    std::uint16_t flags(std::uint16_t id, grant_ref_t ref)
    {
        return __atomic_load_n(&entry(id, ref)->flags, __ATOMIC_ACQUIRE);
    }
    // Frame and domid first, then the flags that make the entry valid.
    void grant(std::uint16_t granter, grant_ref_t ref, std::uint16_t to, std::uint64_t gfn, bool readonly = false)
    {
        grant_entry_v1_t* e = entry(granter, ref);
        __atomic_store_n(&e->frame, static_cast<std::uint32_t>(gfn), __ATOMIC_RELAXED);
        __atomic_store_n(&e->domid, to, __ATOMIC_RELAXED);
        __atomic_store_n(&e->flags, static_cast<std::uint16_t>(GTF_permit_access | (readonly ? GTF_readonly : 0)),
                         __ATOMIC_RELEASE);
    }
    // The guest's end_foreign_access: succeeds only if the hypervisor holds no pin.
    bool end_access(std::uint16_t granter, grant_ref_t ref)
    {
        std::uint16_t* f = &entry(granter, ref)->flags;
        std::uint16_t cur = __atomic_load_n(f, __ATOMIC_ACQUIRE);
        do {
            if (cur & (GTF_reading | GTF_writing)) return false;  // busy
        } while (!__atomic_compare_exchange_n(f, &cur, std::uint16_t{0}, false, __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE));
        return true;
    }

    // --- GrantHost ---
    GrantDomain* lookup(DomainId id) override
    {
        auto it = doms_.find(id.raw());
        return it == doms_.end() ? nullptr : it->second.gt.get();
    }
    Result<HostPage> alloc_page() override
    {
        if (fail_allocs_after_ == 0) return Err(Errno::XEN_ENOMEM);
        if (fail_allocs_after_ > 0) --fail_allocs_after_;
        void* p = std::aligned_alloc(kPageSize, kPageSize);
        std::memset(p, 0, kPageSize);
        live_pages_.insert(p);
        return HostPage{PhysAddr(reinterpret_cast<std::uint64_t>(p)), p};
    }
    void free_page(HostPage page) override
    {
        if (page.pa.raw() != reinterpret_cast<std::uint64_t>(page.ptr) || live_pages_.erase(page.ptr) != 1)
            std::abort();  // double free, or a page that never came from here
        std::free(page.ptr);
    }
    bool ram_page(DomainId owner, std::uint64_t gfn, bool, HostPage& out) override
    {
        auto it = doms_.find(owner.raw());
        if (it == doms_.end() || gfn < kRamBaseGfn || gfn - kRamBaseGfn >= it->second.ram.size()) return false;
        std::uint8_t* p = it->second.ram[gfn - kRamBaseGfn];
        out = HostPage{PhysAddr(reinterpret_cast<std::uint64_t>(p)), p};
        return true;
    }
    bool map_foreign(DomainId mapper, IpAddr at, HostPage page, bool readonly) override
    {
        ++map_calls;
        if (fail_map_foreign) return false;
        Dom& d = doms_.at(mapper.raw());
        const std::uint64_t gfn = at.raw() / kPageSize;
        if (!at.aligned(kPageSize)) std::abort();
        // Only holes: not RAM, not the grant window, not an existing mapping.
        if (gfn >= kRamBaseGfn && gfn - kRamBaseGfn < d.ram.size()) return false;
        if (gfn >= kGrantWindowGfn && gfn < kGrantWindowGfn + kGrantWindowPages) return false;
        if (d.foreign.count(at.raw())) return false;
        d.foreign[at.raw()] = Foreign{page, readonly};
        return true;
    }
    bool unmap_foreign(DomainId mapper, IpAddr at, HostPage page) override
    {
        ++unmap_calls;
        Dom& d = doms_.at(mapper.raw());
        auto it = d.foreign.find(at.raw());
        if (it == d.foreign.end() || it->second.page.ptr != page.ptr) return false;
        d.foreign.erase(it);
        return true;
    }
    bool may_grant(DomainId from, DomainId to) override
    {
        return !denied_pairs.count({from.raw(), to.raw()});
    }
    bool may_control(DomainId caller, DomainId target) override
    {
        return caller.raw() == 0 || caller == target;
    }
    void grants_drained(DomainId dom) override { drained.push_back(dom.raw()); }

    std::size_t live_pages() const { return live_pages_.size(); }
    void fail_allocs_after(int n) { fail_allocs_after_ = n; }

    // Kills a domain the way the arch glue will: release, then destroy if drained.
    ReleaseSummary kill(std::uint16_t id, ForeignMappings foreign = ForeignMappings::Keep)
    {
        ReleaseSummary s = release_domain(*this, gt(id), foreign);
        if (s.drained()) {
            EXPECT_TRUE(gt(id).destroy(*this).ok());
        }
        return s;
    }

    std::set<std::pair<std::uint16_t, std::uint16_t>> denied_pairs;
    bool fail_map_foreign = false;
    std::vector<std::uint16_t> drained;
    unsigned map_calls = 0, unmap_calls = 0;

private:
    std::map<std::uint16_t, Dom> doms_;
    std::set<void*> live_pages_;
    int fail_allocs_after_ = -1;
};

// Record builders, so each test reads as the guest's call.
inline gnttab_map_grant_ref_t map_op(std::uint16_t dom, grant_ref_t ref, std::uint64_t ipa, bool readonly = false)
{
    gnttab_map_grant_ref_t op{};
    op.host_addr = ipa;
    op.flags = GNTMAP_host_map | (readonly ? GNTMAP_readonly : 0);
    op.ref = ref;
    op.dom = dom;
    op.status = 99;  // so a test notices an untouched status
    op.handle = 0xdeadbeef;
    return op;
}
inline gnttab_unmap_grant_ref_t unmap_op(grant_handle_t handle, std::uint64_t ipa)
{
    gnttab_unmap_grant_ref_t op{};
    op.host_addr = ipa;
    op.handle = handle;
    op.status = 99;
    return op;
}
inline gnttab_copy_t copy_gref_to_gfn(std::uint16_t src_dom, grant_ref_t ref, std::uint16_t src_off,
                                     std::uint64_t dst_gfn, std::uint16_t dst_off, std::uint16_t len)
{
    gnttab_copy_t op{};
    op.source.u.ref = ref;
    op.source.domid = src_dom;
    op.source.offset = src_off;
    op.dest.u.gmfn = dst_gfn;
    op.dest.domid = DOMID_SELF;
    op.dest.offset = dst_off;
    op.len = len;
    op.flags = GNTCOPY_source_gref;
    op.status = 99;
    return op;
}
inline gnttab_copy_t copy_gfn_to_gref(std::uint64_t src_gfn, std::uint16_t src_off, std::uint16_t dst_dom,
                                     grant_ref_t ref, std::uint16_t dst_off, std::uint16_t len)
{
    gnttab_copy_t op{};
    op.source.u.gmfn = src_gfn;
    op.source.domid = DOMID_SELF;
    op.source.offset = src_off;
    op.dest.u.ref = ref;
    op.dest.domid = dst_dom;
    op.dest.offset = dst_off;
    op.len = len;
    op.flags = GNTCOPY_dest_gref;
    op.status = 99;
    return op;
}

} // namespace keel::gnttab::test
