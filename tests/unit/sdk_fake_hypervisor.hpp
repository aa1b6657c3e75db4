// An in-process hypervisor for the guest SDK's host tests. It defines the
// SDK's two host seams, keel::guest::raw_hypercall and keel::guest::cpu::*,
// and answers hypercalls with Keel's own arch-neutral cores: EVTCHNOP_* go to
// keel::evtchn::EventChannels, GNTTABOP_* to keel::gnttab, XENVER_* to
// keel::xen. So the SDK code under test is exactly what runs in a guest, and
// the hypervisor behaviour it meets is Keel's.
//
// Memory is modelled, not pretended. "Physical" pages come from one memfd; the
// hypervisor reaches every page through a mapping of the whole file. Each
// domain gets a window of host address space standing in for its IPA space
// (its stage 1 is "IPA + window base"), and its stage 2 is made of real
// mmap(MAP_FIXED) mappings of memfd pages into that window. So shared_info
// placed at a frame, a grant-table frame, or a peer's page mapped with
// GNTTABOP_map_grant_ref really appear at the guest's address (read-only
// mappings are PROT_READ), and vanish when unmapped.
//
// Several domains live in one process: each thread says which domain and vCPU
// it is with an `As` scope. Events raise a per-vCPU interrupt line (edge, as
// Keel's vGIC injects the event PPI). The line is taken, running the domain's
// registered interrupt handler on the calling thread, when that vCPU enters
// or returns from a hypercall or unmasks interrupts (cpu::irq_restore), or
// when a test calls deliver(). While a handler runs the vCPU's interrupts are masked.
// Blocking calls (SCHEDOP_poll, SCHEDOP_block, WFI) really block the thread
// until another thread's event arrives; a single-threaded test can instead
// install a block hook that makes the event happen. A sleep that would last
// longer than the safety limit ends (a spurious return, which the ABI allows)
// and is counted: tests assert there were none.
#pragma once

#include "evtchn/event_channels.hpp"
#include "evtchn/event_domain.hpp"
#include "gnttab/abi.hpp"
#include "gnttab/grant_domain.hpp"

#include <keel/guest/types.hpp>
#include <keel/guest/xen_abi.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace keel::sdk_test {

class FakeHypervisor {
public:
    // Each domain's IPA window: the hypervisor region (holes for shared_info,
    // grant frames and foreign mappings, 16 MiB at 0x38000000 as Keel and Xen
    // give a domU) and RAM at 0x40000000.
    static constexpr std::uint64_t kHoleBaseGfn = 0x38000;
    static constexpr std::uint64_t kHoleFrames = 4096;
    static constexpr std::uint64_t kRamBaseGfn = 0x40000;
    static constexpr unsigned kMaxVcpus = 4;

    struct DomainSpec {
        std::uint16_t id;
        unsigned vcpus = 1;
        unsigned ram_pages = 16;
        bool privileged = false;
        unsigned max_grant_frames = 4;
    };

    FakeHypervisor();  // at most one at a time: it is what raw_hypercall reaches
    ~FakeHypervisor();
    FakeHypervisor(const FakeHypervisor&) = delete;
    FakeHypervisor& operator=(const FakeHypervisor&) = delete;

    void add_domain(const DomainSpec& spec);

    // Frames of a domain, as the domain sees them.
    guest::GuestFrame ram_frame(std::uint16_t dom, unsigned index);
    guest::GuestFrame hole_frame(std::uint16_t dom, unsigned index);
    // Whether the domain's stage 2 maps `gfn`, and writable.
    bool mapped(std::uint16_t dom, std::uint64_t gfn, bool* writable = nullptr);

    // Who the calling thread is.
    struct Current {
        FakeHypervisor* hv = nullptr;
        std::uint16_t dom = 0;
        unsigned vcpu = 0;
    };
    // This thread acts as `dom`'s `vcpu` for the scope (scopes nest).
    class As {
    public:
        As(FakeHypervisor& hv, std::uint16_t dom, unsigned vcpu = 0);
        ~As();
        As(const As&) = delete;
        As& operator=(const As&) = delete;

    private:
        Current saved_;
    };

    // Who the calling thread is right now (in a handler: the vCPU it runs on).
    static Current current();
    // The hypervisor raises a VIRQ for the domain (as its timer would).
    bool raise_virq(std::uint16_t dom, unsigned virq, unsigned vcpu = 0);

    // The domain's event-interrupt handler (what the guest installs on the
    // event PPI), called as handler(context, vcpu).
    using IrqHandler = void (*)(void* context, unsigned vcpu);
    void set_irq_handler(std::uint16_t dom, IrqHandler handler, void* context);
    bool irq_line(std::uint16_t dom, unsigned vcpu);
    // Takes every raised line of every vCPU whose interrupts are not masked,
    // until none is left (handlers may raise more). Returns how many ran.
    unsigned deliver(unsigned limit = 1'000'000);

    // Called (on the blocking thread, no lock held) each time a vCPU is about
    // to sleep, so a single-threaded test can make the awaited event happen.
    void set_block_hook(void (*hook)(void* context), void* context);
    void set_sleep_limit(std::chrono::milliseconds limit) { sleep_limit_ = limit; }
    unsigned sleeps() const { return sleeps_.load(); }
    unsigned sleep_timeouts() const { return sleep_timeouts_.load(); }

    // Hypervisor-side views, for checks.
    evtchn::EventDomain& event_domain(std::uint16_t dom);
    gnttab::GrantDomain& grant_domain(std::uint16_t dom);
    guest::SharedInfo& shared_info(std::uint16_t dom);  // the hypervisor's mapping of the page
    std::string console(std::uint16_t dom);
    void set_hvm_param(std::uint16_t dom, unsigned index, std::uint64_t value);
    unsigned shutdowns(std::uint16_t dom);
    unsigned long hypercalls(unsigned number) const { return calls_[number % 64].load(); }
    unsigned long evtchn_ops(unsigned cmd) const { return evtchn_calls_[cmd % 32].load(); }
    unsigned long sched_ops(unsigned cmd) const { return sched_calls_[cmd % 16].load(); }
    std::uint64_t now_ns() const;

    // The seams (called from raw_hypercall and cpu::*).
    long hypercall(std::uint64_t nr, const std::uint64_t (&a)[5]);
    std::uint64_t irq_save();
    void irq_restore(std::uint64_t masked);
    void wait_for_interrupt();

private:
    struct Page {
        std::uint64_t index = 0;  // in the memfd
    };
    enum class Kind : std::uint8_t { Ram, SharedInfo, GrantFrame, Foreign };
    struct S2Entry {
        std::uint64_t page;
        bool writable;
        Kind kind;
    };
    struct VcpuState {
        std::atomic<bool> line{false};
        bool masked = false;  // touched only by the thread acting as this vCPU
    };
    struct Domain {
        DomainSpec spec;
        unsigned char* window = nullptr;  // va of IPA kHoleBaseGfn << 12
        std::size_t window_size = 0;
        std::uint64_t shared_page = 0;
        std::uint64_t shared_gfn = ~0ull;
        std::map<std::uint64_t, S2Entry> s2;
        std::unique_ptr<evtchn::EventDomain> events = std::make_unique<evtchn::EventDomain>();
        std::unique_ptr<gnttab::GrantDomain> grants = std::make_unique<gnttab::GrantDomain>();
        VcpuState vcpus[kMaxVcpus];
        IrqHandler irq = nullptr;
        void* irq_context = nullptr;
        std::string console;
        std::uint64_t hvm[HVM_NR_PARAMS] = {};
        unsigned shutdowns = 0;
    };
    class EventHostImpl;
    class GrantHostImpl;

    Domain& dom(std::uint16_t id);
    Domain* find(std::uint16_t id);
    void* page_ptr(std::uint64_t page) const;
    std::uint64_t alloc_page();
    void free_page(std::uint64_t page);
    // Stage 2 of `d` (mem_mu_ held).
    bool s2_map(Domain& d, std::uint64_t gfn, std::uint64_t page, bool writable, Kind kind);
    bool s2_unmap(Domain& d, std::uint64_t gfn);
    bool in_window(const Domain& d, std::uint64_t gfn) const;

    long memory_op(Domain& d, std::uint64_t cmd, std::uint64_t arg);
    long sched_op(Domain& d, unsigned vcpu, std::uint64_t cmd, std::uint64_t arg);
    long vcpu_op(Domain& d, std::uint64_t cmd, std::uint64_t vcpu, std::uint64_t arg);
    long hvm_op(Domain& d, std::uint64_t cmd, std::uint64_t arg);
    long console_io(Domain& d, std::uint64_t cmd, std::uint64_t count, std::uint64_t arg);
    long grant_table_op(Domain& d, std::uint64_t cmd, std::uint64_t arg, std::uint64_t count);

    // Sleeps until `ready()` (checked under mu_) or the deadline/safety limit.
    template <typename Ready>
    void sleep_until(Ready ready, std::uint64_t deadline_ns);
    void raise(std::uint16_t dom, unsigned vcpu);
    void kick();
    // Takes `vcpu`'s raised line on this thread if its interrupts are unmasked.
    unsigned take(Domain& d, unsigned vcpu);

    int fd_ = -1;
    unsigned char* phys_ = nullptr;
    std::uint64_t phys_pages_ = 0;
    std::uint64_t next_page_ = 1;  // page 0 is never handed out: PhysAddr 0 means "none"
    std::vector<std::uint64_t> free_pages_;

    std::unique_ptr<EventHostImpl> event_host_;
    std::unique_ptr<GrantHostImpl> grant_host_;
    std::unique_ptr<evtchn::EventChannels> channels_;
    std::map<std::uint16_t, std::unique_ptr<Domain>> domains_;

    std::mutex mem_mu_;  // page pool and every domain's stage 2 (a leaf lock)
    std::mutex mu_;      // sleepers
    std::condition_variable cv_;
    std::uint64_t wake_seq_ = 0;
    void (*block_hook_)(void*) = nullptr;
    void* block_hook_context_ = nullptr;
    std::chrono::milliseconds sleep_limit_{5000};
    std::atomic<unsigned> sleeps_{0};
    std::atomic<unsigned> sleep_timeouts_{0};
    std::chrono::steady_clock::time_point epoch_ = std::chrono::steady_clock::now();
    std::atomic<unsigned long> calls_[64] = {};
    std::atomic<unsigned long> evtchn_calls_[32] = {};
    std::atomic<unsigned long> sched_calls_[16] = {};
};

} // namespace keel::sdk_test
