#include "sdk_fake_hypervisor.hpp"

#include "evtchn/event_channel_op.hpp"
#include "gnttab/hypercall.hpp"
#include "xen/guest_memory.hpp"
#include "xen/version_info.hpp"

#include <keel/guest/cpu.hpp>
#include <keel/guest/hypercall.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace keel::sdk_test {

namespace {

constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kPhysPages = 16384;  // 64 MiB of sparse memfd

FakeHypervisor* g_instance = nullptr;
thread_local FakeHypervisor::Current t_current;

constexpr long xen_err(Errno e) { return -static_cast<long>(e); }

[[noreturn]] void die(const char* what)
{
    std::fprintf(stderr, "sdk fake hypervisor: %s\n", what);
    std::abort();
}

// Guest handles are host pointers here (the guest's stage 1 is the host's).
// Null is the one address a test can pass on purpose that must fault.
class HostMemory final : public xen::GuestMemory {
public:
    Status read(IpAddr src, void* dst, std::size_t n) override
    {
        if (src.raw() == 0) return Err(Errno::XEN_EFAULT);
        std::memcpy(dst, reinterpret_cast<const void*>(src.raw()), n);
        return {};
    }
    Status write(IpAddr dst, const void* src, std::size_t n) override
    {
        if (dst.raw() == 0) return Err(Errno::XEN_EFAULT);
        std::memcpy(reinterpret_cast<void*>(dst.raw()), src, n);
        return {};
    }
};

class HostBuffer final : public gnttab::GuestBuffer {
public:
    bool read(std::uint64_t a, void* dst, std::size_t n) override
    {
        if (a == 0) return false;
        std::memcpy(dst, reinterpret_cast<const void*>(a), n);
        return true;
    }
    bool write(std::uint64_t a, const void* src, std::size_t n) override
    {
        if (a == 0) return false;
        std::memcpy(reinterpret_cast<void*>(a), src, n);
        return true;
    }
};

} // namespace

// --- the cores' hosts ---

class FakeHypervisor::EventHostImpl final : public evtchn::EventHost {
public:
    explicit EventHostImpl(FakeHypervisor& hv) : hv_(hv) {}
    evtchn::EventDomain* lookup(DomainId id) override
    {
        Domain* d = hv_.find(id.raw());
        return d ? d->events.get() : nullptr;
    }
    bool is_privileged(DomainId id) override
    {
        Domain* d = hv_.find(id.raw());
        return d && d->spec.privileged;
    }
    void upcall(DomainId id, unsigned vcpu) override { hv_.raise(id.raw(), vcpu); }
    void wake_pollers(DomainId) override { hv_.kick(); }

private:
    FakeHypervisor& hv_;
};

class FakeHypervisor::GrantHostImpl final : public gnttab::GrantHost {
public:
    explicit GrantHostImpl(FakeHypervisor& hv) : hv_(hv) {}
    gnttab::GrantDomain* lookup(DomainId id) override
    {
        Domain* d = hv_.find(id.raw());
        return d ? d->grants.get() : nullptr;
    }
    Result<gnttab::HostPage> alloc_page() override
    {
        std::lock_guard<std::mutex> g(hv_.mem_mu_);
        const std::uint64_t p = hv_.alloc_page();
        return gnttab::HostPage{PhysAddr(p * kPage), hv_.page_ptr(p)};
    }
    void free_page(gnttab::HostPage page) override
    {
        std::lock_guard<std::mutex> g(hv_.mem_mu_);
        hv_.free_page(page.pa.raw() / kPage);
    }
    bool ram_page(DomainId owner, std::uint64_t gfn, bool writable, gnttab::HostPage& out) override
    {
        Domain* d = hv_.find(owner.raw());
        if (d == nullptr) return false;
        std::lock_guard<std::mutex> g(hv_.mem_mu_);
        auto it = d->s2.find(gfn);
        if (it == d->s2.end() || it->second.kind != Kind::Ram || (writable && !it->second.writable)) return false;
        out = gnttab::HostPage{PhysAddr(it->second.page * kPage), hv_.page_ptr(it->second.page)};
        return true;
    }
    bool map_foreign(DomainId mapper, IpAddr at, gnttab::HostPage page, bool readonly) override
    {
        Domain* d = hv_.find(mapper.raw());
        if (d == nullptr || !at.aligned(kPage)) return false;
        std::lock_guard<std::mutex> g(hv_.mem_mu_);
        const std::uint64_t gfn = at.raw() / kPage;
        if (d->s2.count(gfn) != 0) return false;  // holes only, as Keel
        return hv_.s2_map(*d, gfn, page.pa.raw() / kPage, !readonly, Kind::Foreign);
    }
    bool unmap_foreign(DomainId mapper, IpAddr at, gnttab::HostPage page) override
    {
        Domain* d = hv_.find(mapper.raw());
        if (d == nullptr) return false;
        std::lock_guard<std::mutex> g(hv_.mem_mu_);
        auto it = d->s2.find(at.raw() / kPage);
        if (it == d->s2.end() || it->second.kind != Kind::Foreign || it->second.page * kPage != page.pa.raw())
            return false;
        return hv_.s2_unmap(*d, at.raw() / kPage);
    }
    bool may_grant(DomainId, DomainId) override { return true; }
    bool may_control(DomainId caller, DomainId target) override
    {
        Domain* c = hv_.find(caller.raw());
        return caller == target || (c && c->spec.privileged);
    }
    void grants_drained(DomainId) override {}

private:
    FakeHypervisor& hv_;
};

// --- set-up ---

FakeHypervisor::FakeHypervisor()
{
    if (g_instance != nullptr) die("two FakeHypervisors at once");
    fd_ = memfd_create("keel-sdk-fake-phys", 0);
    if (fd_ < 0 || ftruncate(fd_, static_cast<off_t>(kPhysPages * kPage)) != 0) die("memfd");
    void* p = mmap(nullptr, kPhysPages * kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (p == MAP_FAILED) die("mmap phys");
    phys_ = static_cast<unsigned char*>(p);
    phys_pages_ = kPhysPages;
    event_host_ = std::make_unique<EventHostImpl>(*this);
    grant_host_ = std::make_unique<GrantHostImpl>(*this);
    channels_ = std::make_unique<evtchn::EventChannels>(*event_host_);
    g_instance = this;
}

FakeHypervisor::~FakeHypervisor()
{
    for (auto& [id, d] : domains_) channels_->close_all_for_dead_domain(*d->events);
    for (auto& [id, d] : domains_) munmap(d->window, d->window_size);
    munmap(phys_, phys_pages_ * kPage);
    close(fd_);
    g_instance = nullptr;
}

void FakeHypervisor::add_domain(const DomainSpec& spec)
{
    if (spec.vcpus == 0 || spec.vcpus > kMaxVcpus || domains_.count(spec.id)) die("bad domain spec");
    auto d = std::make_unique<Domain>();
    d->spec = spec;
    d->window_size = (kRamBaseGfn - kHoleBaseGfn + spec.ram_pages) * kPage;
    void* w = mmap(nullptr, d->window_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (w == MAP_FAILED) die("mmap window");
    d->window = static_cast<unsigned char*>(w);
    {
        std::lock_guard<std::mutex> g(mem_mu_);
        for (unsigned i = 0; i < spec.ram_pages; ++i) s2_map(*d, kRamBaseGfn + i, alloc_page(), true, Kind::Ram);
        d->shared_page = alloc_page();
    }
    if (!d->events->init(DomainId(spec.id), static_cast<evtchn::SharedInfo*>(page_ptr(d->shared_page)), spec.vcpus)
             .ok())
        die("event domain init");
    // The event PPI, as Keel and Xen report it to an Arm guest
    // (HVM_PARAM_CALLBACK_TYPE_PPI, 2, is only defined for Arm builds).
    d->hvm[HVM_PARAM_CALLBACK_IRQ] = std::uint64_t{2} << 56 | 31;
    Domain& ref = *d;
    domains_[spec.id] = std::move(d);
    if (!ref.grants->activate(*grant_host_, DomainId(spec.id), spec.max_grant_frames).ok()) die("grant table");
}

FakeHypervisor::Domain* FakeHypervisor::find(std::uint16_t id)
{
    auto it = domains_.find(id);
    return it == domains_.end() ? nullptr : it->second.get();
}

FakeHypervisor::Domain& FakeHypervisor::dom(std::uint16_t id)
{
    Domain* d = find(id);
    if (d == nullptr) die("no such domain");
    return *d;
}

guest::GuestFrame FakeHypervisor::ram_frame(std::uint16_t id, unsigned index)
{
    Domain& d = dom(id);
    if (index >= d.spec.ram_pages) die("ram_frame index");
    const std::uint64_t gfn = kRamBaseGfn + index;
    return guest::GuestFrame{guest::Gfn(gfn), d.window + (gfn - kHoleBaseGfn) * kPage};
}

guest::GuestFrame FakeHypervisor::hole_frame(std::uint16_t id, unsigned index)
{
    Domain& d = dom(id);
    if (index >= kHoleFrames) die("hole_frame index");
    const std::uint64_t gfn = kHoleBaseGfn + index;
    return guest::GuestFrame{guest::Gfn(gfn), d.window + (gfn - kHoleBaseGfn) * kPage};
}

bool FakeHypervisor::mapped(std::uint16_t id, std::uint64_t gfn, bool* writable)
{
    Domain& d = dom(id);
    std::lock_guard<std::mutex> g(mem_mu_);
    auto it = d.s2.find(gfn);
    if (it == d.s2.end()) return false;
    if (writable) *writable = it->second.writable;
    return true;
}

// --- memory ---

void* FakeHypervisor::page_ptr(std::uint64_t page) const { return phys_ + page * kPage; }

std::uint64_t FakeHypervisor::alloc_page()
{
    std::uint64_t p;
    if (!free_pages_.empty()) {
        p = free_pages_.back();
        free_pages_.pop_back();
    } else {
        if (next_page_ >= phys_pages_) die("out of fake physical memory");
        p = next_page_++;
    }
    std::memset(page_ptr(p), 0, kPage);
    return p;
}

void FakeHypervisor::free_page(std::uint64_t page) { free_pages_.push_back(page); }

bool FakeHypervisor::in_window(const Domain& d, std::uint64_t gfn) const
{
    return gfn >= kHoleBaseGfn && gfn < kRamBaseGfn + d.spec.ram_pages;
}

bool FakeHypervisor::s2_map(Domain& d, std::uint64_t gfn, std::uint64_t page, bool writable, Kind kind)
{
    if (!in_window(d, gfn)) return false;
    void* va = d.window + (gfn - kHoleBaseGfn) * kPage;
    const int prot = PROT_READ | (writable ? PROT_WRITE : 0);
    if (mmap(va, kPage, prot, MAP_SHARED | MAP_FIXED, fd_, static_cast<off_t>(page * kPage)) == MAP_FAILED)
        die("mmap page");
    d.s2[gfn] = S2Entry{page, writable, kind};
    return true;
}

bool FakeHypervisor::s2_unmap(Domain& d, std::uint64_t gfn)
{
    auto it = d.s2.find(gfn);
    if (it == d.s2.end()) return false;
    void* va = d.window + (gfn - kHoleBaseGfn) * kPage;
    if (mmap(va, kPage, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED)
        die("unmap page");
    d.s2.erase(it);
    return true;
}

// --- who is calling ---

FakeHypervisor::As::As(FakeHypervisor& hv, std::uint16_t dom, unsigned vcpu) : saved_(t_current)
{
    if (hv.find(dom) == nullptr || vcpu >= hv.dom(dom).spec.vcpus) die("As: no such domain or vCPU");
    t_current = Current{&hv, dom, vcpu};
}

FakeHypervisor::As::~As() { t_current = saved_; }

// --- interrupts and sleeping ---

FakeHypervisor::Current FakeHypervisor::current() { return t_current; }

bool FakeHypervisor::raise_virq(std::uint16_t id, unsigned virq, unsigned vcpu)
{
    return channels_->raise_virq(DomainId(id), virq, vcpu);
}

void FakeHypervisor::set_irq_handler(std::uint16_t id, IrqHandler handler, void* context)
{
    Domain& d = dom(id);
    d.irq = handler;
    d.irq_context = context;
}

bool FakeHypervisor::irq_line(std::uint16_t id, unsigned vcpu) { return dom(id).vcpus[vcpu].line.load(); }

void FakeHypervisor::set_block_hook(void (*hook)(void*), void* context)
{
    block_hook_ = hook;
    block_hook_context_ = context;
}

void FakeHypervisor::raise(std::uint16_t id, unsigned vcpu)
{
    Domain* d = find(id);
    if (d == nullptr || vcpu >= d->spec.vcpus) return;
    {
        std::lock_guard<std::mutex> g(mu_);
        d->vcpus[vcpu].line.store(true);
        ++wake_seq_;
    }
    cv_.notify_all();
}

void FakeHypervisor::kick()
{
    {
        std::lock_guard<std::mutex> g(mu_);
        ++wake_seq_;
    }
    cv_.notify_all();
}

template <typename Ready>
void FakeHypervisor::sleep_until(Ready ready, std::uint64_t deadline_ns)
{
    ++sleeps_;
    if (block_hook_ != nullptr) block_hook_(block_hook_context_);
    std::unique_lock<std::mutex> lk(mu_);
    const auto limit = std::chrono::steady_clock::now() + sleep_limit_;
    auto until = limit;
    bool safety = true;
    if (deadline_ns != 0) {
        const auto deadline = epoch_ + std::chrono::nanoseconds(deadline_ns);
        if (deadline < limit) {
            until = deadline;
            safety = false;
        }
    }
    while (!ready()) {
        if (cv_.wait_until(lk, until) == std::cv_status::timeout) {
            // A sleep that lasts the whole safety limit is a wake-up lost
            // somewhere, whatever the state is now.
            if (safety) ++sleep_timeouts_;
            return;
        }
    }
}

unsigned FakeHypervisor::take(Domain& d, unsigned vcpu)
{
    VcpuState& v = d.vcpus[vcpu];
    unsigned n = 0;
    if (d.irq == nullptr) return 0;
    while (!v.masked && v.line.exchange(false)) {
        // As on exception entry: the handler runs with interrupts masked.
        v.masked = true;
        {
            As as(*this, d.spec.id, vcpu);
            d.irq(d.irq_context, vcpu);
        }
        v.masked = false;
        ++n;
    }
    return n;
}

unsigned FakeHypervisor::deliver(unsigned limit)
{
    unsigned total = 0;
    for (;;) {
        unsigned round = 0;
        for (auto& [id, d] : domains_)
            for (unsigned v = 0; v < d->spec.vcpus; ++v) round += take(*d, v);
        total += round;
        if (round == 0 || total >= limit) return total;
    }
}

std::uint64_t FakeHypervisor::irq_save()
{
    const Current c = t_current;
    VcpuState& v = dom(c.dom).vcpus[c.vcpu];
    const bool was = v.masked;
    v.masked = true;
    return was;
}

void FakeHypervisor::irq_restore(std::uint64_t masked)
{
    const Current c = t_current;
    Domain& d = dom(c.dom);
    d.vcpus[c.vcpu].masked = masked != 0;
    // Unmasking takes an interrupt that is already pending, as the CPU would.
    take(d, c.vcpu);
}

void FakeHypervisor::wait_for_interrupt()
{
    const Current c = t_current;
    VcpuState& v = dom(c.dom).vcpus[c.vcpu];
    // WFI wakes on a pending interrupt whether or not it is masked.
    sleep_until([&] { return v.line.load(); }, 0);
}

std::uint64_t FakeHypervisor::now_ns() const
{
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - epoch_).count());
}

// --- hypercalls ---

long FakeHypervisor::hypercall(std::uint64_t nr, const std::uint64_t (&a)[5])
{
    ++calls_[nr % 64];
    const Current c = t_current;
    Domain& d = dom(c.dom);
    // An interrupt raised before the HVC is taken before it, unless masked:
    // this is where a guest's check-then-sleep race would bite.
    take(d, c.vcpu);
    HostMemory mem;
    long r;
    switch (nr) {
    case __HYPERVISOR_xen_version: {
        xen::VersionCaller caller{d.spec.privileged, {}};
        r = xen::xen_version(static_cast<unsigned>(a[0]), IpAddr(a[1]), caller, mem);
        break;
    }
    case __HYPERVISOR_console_io: r = console_io(d, a[0], a[1], a[2]); break;
    case __HYPERVISOR_memory_op: r = memory_op(d, a[0], a[1]); break;
    case __HYPERVISOR_event_channel_op:
        ++evtchn_calls_[a[0] % 32];
        r = evtchn::event_channel_op(*channels_, DomainId(c.dom), static_cast<unsigned>(a[0]), IpAddr(a[1]), mem);
        break;
    case __HYPERVISOR_grant_table_op: r = grant_table_op(d, a[0], a[1], a[2]); break;
    case __HYPERVISOR_sched_op:
        ++sched_calls_[a[0] % 16];
        r = sched_op(d, c.vcpu, a[0], a[1]);
        break;
    case __HYPERVISOR_vcpu_op: r = vcpu_op(d, a[0], a[1], a[2]); break;
    case __HYPERVISOR_hvm_op: r = hvm_op(d, a[0], a[1]); break;
    default: r = xen_err(Errno::XEN_ENOSYS); break;
    }
    // Back in the guest: a raised line is taken now, unless masked there.
    take(d, c.vcpu);
    return r;
}

long FakeHypervisor::console_io(Domain& d, std::uint64_t cmd, std::uint64_t count, std::uint64_t arg)
{
    switch (cmd) {
    case CONSOLEIO_write:
        if (arg == 0) return xen_err(Errno::XEN_EFAULT);
        {
            std::lock_guard<std::mutex> g(mem_mu_);
            d.console.append(reinterpret_cast<const char*>(arg), count);
        }
        return 0;
    case CONSOLEIO_read: return 0;
    default: return xen_err(Errno::XEN_ENOSYS);
    }
}

long FakeHypervisor::memory_op(Domain& d, std::uint64_t cmd, std::uint64_t arg)
{
    HostMemory mem;
    switch (cmd) {
    case XENMEM_add_to_physmap: {
        xen_add_to_physmap_t x;
        if (Status s = mem.read_obj(IpAddr(arg), x); !s) return s.as_xen_ret();
        if (x.domid != DOMID_SELF && x.domid != d.spec.id) return xen_err(Errno::XEN_ESRCH);
        if (x.space == XENMAPSPACE_shared_info) {
            if (x.idx != 0) return xen_err(Errno::XEN_EINVAL);
            std::lock_guard<std::mutex> g(mem_mu_);
            auto it = d.s2.find(x.gpfn);
            if (!in_window(d, x.gpfn) || (it != d.s2.end() && it->second.kind != Kind::Ram))
                return xen_err(Errno::XEN_EINVAL);
            // Xen and Keel move shared_info: the old place becomes a hole.
            if (d.shared_gfn != ~0ull) s2_unmap(d, d.shared_gfn);
            s2_map(d, x.gpfn, d.shared_page, true, Kind::SharedInfo);
            d.shared_gfn = x.gpfn;
            return 0;
        }
        if (x.space == XENMAPSPACE_grant_table) {
            if (x.idx & XENMAPIDX_grant_table_status) return xen_err(Errno::XEN_EINVAL);
            auto page = d.grants->map_frame(*grant_host_, static_cast<unsigned>(x.idx), x.gpfn);
            if (!page) return xen_err(page.error());
            bool placed;
            {
                std::lock_guard<std::mutex> g(mem_mu_);
                auto it = d.s2.find(x.gpfn);
                placed = in_window(d, x.gpfn) && (it == d.s2.end() || it->second.kind == Kind::Ram) &&
                         s2_map(d, x.gpfn, page->pa.raw() / kPage, true, Kind::GrantFrame);
            }
            if (!placed) {
                d.grants->unmap_frame_gfn(x.gpfn);
                return xen_err(Errno::XEN_EINVAL);
            }
            return 0;
        }
        return xen_err(Errno::XEN_ENOSYS);
    }
    case XENMEM_remove_from_physmap: {
        xen_remove_from_physmap_t x;
        if (Status s = mem.read_obj(IpAddr(arg), x); !s) return s.as_xen_ret();
        if (x.domid != DOMID_SELF && x.domid != d.spec.id) return xen_err(Errno::XEN_ESRCH);
        Kind kind;
        {
            std::lock_guard<std::mutex> g(mem_mu_);
            auto it = d.s2.find(x.gpfn);
            if (it == d.s2.end() || it->second.kind == Kind::Foreign) return xen_err(Errno::XEN_ENOENT);
            kind = it->second.kind;
            s2_unmap(d, x.gpfn);
            if (kind == Kind::SharedInfo) d.shared_gfn = ~0ull;
        }
        if (kind == Kind::GrantFrame) d.grants->unmap_frame_gfn(x.gpfn);
        return 0;
    }
    default: return xen_err(Errno::XEN_ENOSYS);
    }
}

long FakeHypervisor::grant_table_op(Domain& d, std::uint64_t cmd, std::uint64_t arg, std::uint64_t count)
{
    HostBuffer buf;
    std::uint64_t uop = arg;
    auto n = static_cast<std::uint32_t>(count);
    for (;;) {
        gnttab::Continuation cont;
        const long r = gnttab::grant_table_op(*grant_host_, *d.grants, buf, static_cast<std::uint32_t>(cmd), uop, n,
                                              cont);
        if (!cont.needed) return r;
        // Keel re-enters the guest's HVC with the rest; here we just go on.
        uop = cont.uop;
        n = cont.count;
    }
}

long FakeHypervisor::sched_op(Domain& d, unsigned vcpu, std::uint64_t cmd, std::uint64_t arg)
{
    HostMemory mem;
    switch (cmd) {
    case SCHEDOP_yield: return 0;
    case SCHEDOP_block:
        sleep_until([&] { return d.vcpus[vcpu].line.load() || d.events->upcall_pending(vcpu); }, 0);
        return 0;
    case SCHEDOP_poll: {
        // Keel's checks, in Keel's order (hc_sched.cpp).
        sched_poll_t p;
        if (Status s = mem.read_obj(IpAddr(arg), p); !s) return s.as_xen_ret();
        if (p.nr_ports > 128) return xen_err(Errno::XEN_EINVAL);
        std::vector<evtchn_port_t> ports(p.nr_ports);
        const evtchn_port_t valid = d.events->valid_ports();
        for (unsigned i = 0; i < p.nr_ports; ++i) {
            if (Status s = mem.read_obj(IpAddr(reinterpret_cast<std::uint64_t>(p.ports.p) + i * sizeof(evtchn_port_t)),
                                        ports[i]);
                !s)
                return s.as_xen_ret();
            if (ports[i] >= valid) return xen_err(Errno::XEN_EINVAL);
            if (d.events->port_pending(ports[i])) return 0;
        }
        if (p.timeout != 0 && p.timeout <= now_ns()) return 0;
        sleep_until(
            [&] {
                for (evtchn_port_t port : ports)
                    if (d.events->port_pending(port)) return true;
                return false;
            },
            p.timeout);
        return 0;
    }
    case SCHEDOP_shutdown: {
        sched_shutdown_t s;
        if (Status st = mem.read_obj(IpAddr(arg), s); !st) return st.as_xen_ret();
        if (s.reason > SHUTDOWN_MAX) return xen_err(Errno::XEN_EINVAL);
        ++d.shutdowns;
        return 0;
    }
    default: return xen_err(Errno::XEN_ENOSYS);
    }
}

long FakeHypervisor::vcpu_op(Domain& d, std::uint64_t cmd, std::uint64_t vcpu, std::uint64_t arg)
{
    if (vcpu >= d.spec.vcpus) return xen_err(Errno::XEN_ENOENT);
    if (cmd != VCPUOP_register_vcpu_info) return xen_err(Errno::XEN_EINVAL);
    HostMemory mem;
    vcpu_register_vcpu_info_t info;
    if (Status s = mem.read_obj(IpAddr(arg), info); !s) return s.as_xen_ret();
    if (info.offset > kPage - sizeof(evtchn::VcpuInfo)) return xen_err(Errno::XEN_ENXIO);
    evtchn::VcpuInfo* at;
    {
        std::lock_guard<std::mutex> g(mem_mu_);
        auto it = d.s2.find(info.mfn);
        if (it == d.s2.end() || it->second.kind != Kind::Ram || !it->second.writable) return xen_err(Errno::XEN_EINVAL);
        at = reinterpret_cast<evtchn::VcpuInfo*>(static_cast<unsigned char*>(page_ptr(it->second.page)) + info.offset);
    }
    return channels_->register_vcpu_info(DomainId(d.spec.id), static_cast<unsigned>(vcpu), at).as_xen_ret();
}

long FakeHypervisor::hvm_op(Domain& d, std::uint64_t cmd, std::uint64_t arg)
{
    // As Keel (hc_hvm.cpp): a guest reads its own parameters; setting is the toolstack's.
    if (cmd != HVMOP_get_param && cmd != HVMOP_set_param) return xen_err(Errno::XEN_ENOSYS);
    HostMemory mem;
    xen_hvm_param_t p;
    if (Status s = mem.read_obj(IpAddr(arg), p); !s) return s.as_xen_ret();
    if (p.domid != DOMID_SELF && p.domid != d.spec.id) return xen_err(Errno::XEN_ESRCH);
    if (p.index >= HVM_NR_PARAMS) return xen_err(Errno::XEN_EINVAL);
    if (cmd == HVMOP_set_param) return xen_err(Errno::XEN_EPERM);
    p.value = d.hvm[p.index];
    return mem.write_obj(IpAddr(arg), p).as_xen_ret();
}

// --- views for tests ---

evtchn::EventDomain& FakeHypervisor::event_domain(std::uint16_t id) { return *dom(id).events; }
gnttab::GrantDomain& FakeHypervisor::grant_domain(std::uint16_t id) { return *dom(id).grants; }
guest::SharedInfo& FakeHypervisor::shared_info(std::uint16_t id)
{
    return *static_cast<guest::SharedInfo*>(page_ptr(dom(id).shared_page));
}
std::string FakeHypervisor::console(std::uint16_t id)
{
    std::lock_guard<std::mutex> g(mem_mu_);
    return dom(id).console;
}
void FakeHypervisor::set_hvm_param(std::uint16_t id, unsigned index, std::uint64_t value) { dom(id).hvm[index] = value; }
unsigned FakeHypervisor::shutdowns(std::uint16_t id) { return dom(id).shutdowns; }

} // namespace keel::sdk_test

// --- the SDK's host seams ---

namespace keel::guest {

long raw_hypercall(std::uint64_t number, std::uint64_t a0, std::uint64_t a1, std::uint64_t a2, std::uint64_t a3,
                   std::uint64_t a4)
{
    const sdk_test::FakeHypervisor::Current c = sdk_test::t_current;
    if (c.hv == nullptr) sdk_test::die("hypercall from a thread that is no domain (use FakeHypervisor::As)");
    const std::uint64_t a[5] = {a0, a1, a2, a3, a4};
    return c.hv->hypercall(number, a);
}

namespace cpu {

// Outside any domain (plain host code) there is nothing to mask.
IrqState irq_save()
{
    const auto c = sdk_test::t_current;
    return IrqState{c.hv ? c.hv->irq_save() : 0};
}

void irq_restore(IrqState s)
{
    const auto c = sdk_test::t_current;
    if (c.hv) c.hv->irq_restore(s.bits);
}

void wait_for_interrupt()
{
    const auto c = sdk_test::t_current;
    if (c.hv) c.hv->wait_for_interrupt();
}

} // namespace cpu
} // namespace keel::guest
