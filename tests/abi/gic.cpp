#include "gic.hpp"

#include <keel/guest/device_tree.hpp>

namespace abi::gic {
namespace {

// Distributor
constexpr std::uintptr_t kGicdCtlr = 0x0000;
constexpr std::uint32_t kGicdCtlrEnableGrp1A = 1u << 1;
constexpr std::uint32_t kGicdCtlrAreNs = 1u << 4;
// Redistributor: SGI/PPI registers live in the second 64 KiB frame.
constexpr std::uintptr_t kGicrSgiFrame = 0x10000;
constexpr std::uintptr_t kGicrIgroupr0 = 0x0080;
constexpr std::uintptr_t kGicrIsenabler0 = 0x0100;
constexpr std::uintptr_t kGicrIpriorityr = 0x0400;

constexpr unsigned kSpurious = 1023;
constexpr std::uint64_t kIsrI = 1u << 7;  // ISR_EL1.I: an IRQ is pending at the PE

volatile std::uint32_t& reg32(std::uintptr_t a) { return *reinterpret_cast<volatile std::uint32_t*>(a); }
volatile std::uint8_t& reg8(std::uintptr_t a) { return *reinterpret_cast<volatile std::uint8_t*>(a); }

// ICC registers by encoding, so any assembler takes them.
#define ICC_WRITE(enc, v) asm volatile("msr " enc ", %0\n\tisb" : : "r"(static_cast<std::uint64_t>(v)) : "memory")
#define ICC_READ(enc) ({ std::uint64_t v_; asm volatile("mrs %0, " enc : "=r"(v_) : : "memory"); v_; })
#define ICC_PMR_EL1 "S3_0_C4_C6_0"
#define ICC_IAR1_EL1 "S3_0_C12_C12_0"
#define ICC_EOIR1_EL1 "S3_0_C12_C12_1"
#define ICC_BPR1_EL1 "S3_0_C12_C12_3"
#define ICC_SRE_EL1 "S3_0_C12_C12_5"
#define ICC_IGRPEN1_EL1 "S3_0_C12_C12_7"
#define ISR_EL1 "S3_0_C12_C1_0"

} // namespace

keel::Status init(const void* fdt, unsigned ppi)
{
    auto node = keel::guest::dt::find_compatible(fdt, "arm,gic-v3");
    if (!node) return keel::Err(node.error());
    auto gicd = keel::guest::dt::reg(fdt, *node, 0);
    auto gicr = keel::guest::dt::reg(fdt, *node, 1);
    if (!gicd || !gicr) return keel::Err(keel::Errno::XEN_ENOENT);

    const auto d = static_cast<std::uintptr_t>(gicd->base);
    const auto sgi = static_cast<std::uintptr_t>(gicr->base) + kGicrSgiFrame;
    reg32(d + kGicdCtlr) = reg32(d + kGicdCtlr) | kGicdCtlrAreNs | kGicdCtlrEnableGrp1A;
    reg32(sgi + kGicrIgroupr0) = reg32(sgi + kGicrIgroupr0) | (1u << ppi);
    reg8(sgi + kGicrIpriorityr + ppi) = 0xa0;
    reg32(sgi + kGicrIsenabler0) = 1u << ppi;

    ICC_WRITE(ICC_SRE_EL1, ICC_READ(ICC_SRE_EL1) | 1);  // system-register interface
    ICC_WRITE(ICC_PMR_EL1, 0xff);
    ICC_WRITE(ICC_BPR1_EL1, 0);
    set_group1(true);
    return {};
}

void set_group1(bool enabled) { ICC_WRITE(ICC_IGRPEN1_EL1, enabled ? 1 : 0); }

unsigned wait_and_ack(unsigned spins)
{
    for (unsigned i = 0; i < spins; ++i) {
        if (ICC_READ(ISR_EL1) & kIsrI) return static_cast<unsigned>(ICC_READ(ICC_IAR1_EL1) & 0xffffff);
        asm volatile("yield");
    }
    return kSpurious;
}

void end_of_interrupt(unsigned intid) { ICC_WRITE(ICC_EOIR1_EL1, intid); }

void drain()
{
    for (int i = 0; i < 64; ++i) {
        const unsigned intid = static_cast<unsigned>(ICC_READ(ICC_IAR1_EL1) & 0xffffff);
        if (intid >= kSpurious) return;
        end_of_interrupt(intid);
    }
}

} // namespace abi::gic
