// A domain: its memory and stage-2 table, its vCPUs, and the virtual devices
// Keel emulates for it (GIC distributor, SBSA UART). Domains live in a fixed
// table; nothing here is allocated from a heap.
#pragma once

#include "vcpu.hpp"

#include "evtchn/event_domain.hpp"
#include "gnttab/grant_domain.hpp"
#include "mm/stage2_table.hpp"
#include "vgic/vgic.hpp"
#include "vuart/vpl011.hpp"

#include <keel/spinlock.hpp>
#include <keel/strong.hpp>

#include <cstdint>

namespace keel::dt {
struct DomainSpec;
struct HostPlatform;
} // namespace keel::dt

namespace keel::arch {

inline constexpr unsigned kMaxDomains = 8;
inline constexpr unsigned kMaxVcpusPerDomain = 8;

// Where things sit in every domain's IPA space (Xen 4.17's guest layout).
namespace guest_layout {
inline constexpr IpAddr kGicd{0x03001000};
inline constexpr std::uint64_t kGicdSizeV3 = 0x10000, kGicdSizeV2 = 0x1000;
inline constexpr IpAddr kGicr{0x03020000};
inline constexpr std::uint64_t kGicrStride = 0x20000;
inline constexpr IpAddr kGicc{0x03002000};
inline constexpr std::uint64_t kGiccSize = 0x2000;
inline constexpr IpAddr kVpl011{0x22000000};
inline constexpr unsigned kVpl011Intid = 32;
inline constexpr unsigned kEventPpi = 31;
inline constexpr IpAddr kGrantTable{0x38000000};
inline constexpr std::uint64_t kGrantTableSize = 16ull << 20;  // the event-channel upcall, as Xen gives a domU
inline constexpr IpAddr kRam0{0x40000000};
inline constexpr std::uint64_t kRam0MaxSize = 3ull << 30;
} // namespace guest_layout

enum class DomainState : std::uint8_t { Free, Running, Dying, Dead };

// A page of another domain's RAM mapped into this domain's physmap by
// XENMEM_add_to_physmap_batch (XENMAPSPACE_gmfn_foreign): the control domain
// loading or inspecting a guest. Tracked so the owner's death can revoke it.
struct ForeignMap {
    std::uint64_t gfn = ~0ull;   // where in this domain; ~0 = unused slot
    std::uint16_t owner = 0;     // whose page it is
};
inline constexpr unsigned kMaxForeignMaps = 64;
inline constexpr unsigned kShutdownCodeInvalid = ~0u;

struct Domain final : vgic::Hooks, vuart::LineSink {
    DomainState state = DomainState::Free;
    std::uint16_t id = 0;
    std::uint16_t vmid = 0;
    bool privileged = false;
    char name[32] = {};
    unsigned nr_vcpus = 0;
    Vcpu vcpus[kMaxVcpusPerDomain];
    unsigned loaded = 0;  // vCPUs whose state is in some pCPU's hardware right now

    PhysAddr ram_pa;
    std::uint64_t ram_size = 0;
    mm::Stage2Table s2;
    std::uint64_t cntvoff = 0;

    vgic::Vgic vgic;
    bool has_vpl011 = false;
    vuart::Vpl011 vpl011;

    // Xen ABI state.
    evtchn::EventDomain events;           // event channels (2-level, on shared_info)
    gnttab::GrantDomain grants;           // grant table v1
    PhysAddr shared_info;                 // one hypervisor page, mapped by XENMEM_add_to_physmap
    std::uint64_t shared_info_gfn = ~0ull;
    vuart::LineAssembler console_io_line; // HYPERVISOR_console_io output
    struct ConsoleInput {                 // typed characters for CONSOLEIO_read (dom0)
        static constexpr unsigned kSize = 256;
        char buf[kSize] = {};
        unsigned head = 0, count = 0;
        Spinlock lock;
    } console_in;
    std::uint64_t hvm_params[64] = {};    // HVMOP_{get,set}_param (HVM_NR_PARAMS is 39 today)
    std::uint8_t handle[16] = {};         // xen_domain_handle_t
    std::uint64_t ballooned_pages = 0;    // RAM pages given back by decrease_reservation
    unsigned shutdown_code = kShutdownCodeInvalid;  // SCHEDOP_shutdown_code, else the first shutdown reason

    // Run-time control (XEN_DOMCTL_*). A domain created by the control domain
    // stays, shut down, until the control domain destroys it, as on Xen; a
    // boot-time domain has no toolstack to reap it and is released at shutdown.
    bool toolstack_managed = false;
    bool vcpus_created = true;            // XEN_DOMCTL_max_vcpus done (boot domains: always)
    bool aarch64 = true;                  // XEN_DOMCTL_set_address_size; Keel runs only 64-bit guests
    bool shut_down = false;               // toolstack-managed and shut down: vCPUs stopped, memory kept
    unsigned controller_pauses = 0;       // XEN_DOMCTL_pausedomain count (a new domain starts at 1)
    std::uint64_t max_pages = 0;          // populate_physmap limit (XEN_DOMCTL_max_mem)
    std::uint64_t paging_pool_bytes = 0;  // XEN_DOMCTL_set_paging_mempool_size (bookkeeping only)
    ForeignMap foreign[kMaxForeignMaps];
    // Serialises changes to `s2` made on behalf of this domain by hypercalls of any
    // domain (its own ballooning, the control domain's populate and foreign maps,
    // revocation at another domain's death). A leaf lock: nothing is taken under it.
    Spinlock p2m_lock;

    std::uint64_t vttbr() const { return s2.root().raw() | std::uint64_t(vmid) << 48; }

    // vgic::Hooks: a vCPU has an interrupt to take.
    void kick(unsigned vcpu) override;
    // vuart::LineSink: a line of console output.
    void line(const char* text, std::size_t len) override;
};

extern Domain domains[kMaxDomains];

// Builds and starts a domain from its boot description. Errors leave nothing allocated.
Result<Domain*> domain_create(const dt::DomainSpec& spec, const dt::HostPlatform& host);
// The guest asked to stop (SCHEDOP_shutdown, PSCI SYSTEM_OFF, a crash): SHUTDOWN_* reason.
// Every vCPU stops and the control domain hears of it (VIRQ_DOM_EXC). A boot-time domain
// is then killed; a toolstack-managed one waits, shut down, for XEN_DOMCTL_destroydomain.
void domain_shutdown(Domain& d, unsigned reason);
// Ends the domain: its vCPUs stop and its memory is released once none is loaded anywhere.
void domain_kill(Domain& d);
// Parameters of a domain the control domain creates at run time (XEN_DOMCTL_createdomain).
struct ControlledDomainConfig {
    std::uint16_t domid;   // 0 = pick one
    unsigned max_vcpus;
    std::uint8_t handle[16];
};
// An empty, paused domain: no memory, no vCPU state; the toolstack supplies the rest.
Result<Domain*> domain_create_controlled(const ControlledDomainConfig& cfg);
// XEN_DOMCTL_pausedomain / unpausedomain: the control domain's pause count. Pausing
// returns once none of the domain's vCPUs is on a CPU.
Status domain_pause_by_controller(Domain& d);
Status domain_unpause_by_controller(Domain& d);
// Reserves (and zeroes) the block of RAM a domain's physmap draws on, not yet mapped.
Status domain_reserve_ram(Domain& d, std::uint64_t bytes);
// Held while a foreign mapping is made or a dying domain's are revoked, so no
// mapping of a domain's RAM outlives it.
extern Spinlock foreign_map_lock;
// Held while a domain slot is claimed or freed, so ids stay unique.
extern Spinlock domain_table_lock;
// Boot-time host description, kept for domains built later.
const dt::HostPlatform& host_platform();
// Called by the scheduler when a dying domain's last loaded vCPU has left its CPU.
void domain_release(Domain& d);
unsigned nr_live_domains();
// The domain with this id that is running, or (with `dying_too`) still being torn down.
Domain* domain_by_id(DomainId id, bool dying_too);
// Drops every stage-2 translation of the domain from all CPUs' TLBs (after an unmap).
void domain_flush_tlb(const Domain& d);
// Grant table lifecycle (hc_grant_table.cpp).
Status domain_activate_grants(Domain& d);
void domain_release_grants(Domain& d);   // at death: unmap and revoke its grants
void domain_destroy_grants(Domain& d);   // after its stage-2 is gone: free the table
// Places a hypervisor page at `gfn` in the domain's physmap, replacing what was there
// (as XENMEM_add_to_physmap does: a RAM page there becomes unreachable to the guest).
Status domain_map_page(Domain& d, std::uint64_t gfn, PhysAddr page, std::uint64_t* previous_gfn);

} // namespace keel::arch
