// The GIC registers the virtual GIC emulates: offsets and fields, named once.
// Offsets are from the start of the distributor window, or of a redistributor's
// RD frame / SGI frame (GICv3). Numbers from the GICv2 and GICv3 architecture
// specifications (ARM IHI 0048B, ARM IHI 0069).
#pragma once

#include <cstdint>

namespace keel::vgic::regs {

// ---- Window sizes -----------------------------------------------------------
inline constexpr std::uint64_t kDistSizeV2 = 0x1000;
inline constexpr std::uint64_t kDistSizeV3 = 0x10000;
inline constexpr std::uint64_t kRedistFrameSize = 0x10000;          // RD frame, then SGI frame
inline constexpr std::uint64_t kRedistStride = 2 * kRedistFrameSize; // per vCPU (no VLPI frames)

// ---- Distributor, common to both versions ----------------------------------
inline constexpr std::uint32_t kGicdCtlr = 0x0000;
inline constexpr std::uint32_t kGicdTyper = 0x0004;
inline constexpr std::uint32_t kGicdIidr = 0x0008;

// Per-interrupt banks: the same layout in the GICD and in the GICR SGI frame
// (where only the first register of each bank, for INTIDs 0..31, exists).
inline constexpr std::uint32_t kIgroupr = 0x0080;
inline constexpr std::uint32_t kIsenabler = 0x0100;
inline constexpr std::uint32_t kIcenabler = 0x0180;
inline constexpr std::uint32_t kIspendr = 0x0200;
inline constexpr std::uint32_t kIcpendr = 0x0280;
inline constexpr std::uint32_t kIsactiver = 0x0300;
inline constexpr std::uint32_t kIcactiver = 0x0380;
inline constexpr std::uint32_t kBitBankSize = 0x80;       // 1 bit per INTID, 1024 INTIDs
inline constexpr std::uint32_t kIpriorityr = 0x0400;
inline constexpr std::uint32_t kItargetsr = 0x0800;       // GICv2 only
inline constexpr std::uint32_t kByteBankSize = 0x400;     // 1 byte per INTID
inline constexpr std::uint32_t kIcfgr = 0x0C00;
inline constexpr std::uint32_t kIcfgrBankSize = 0x100;    // 2 bits per INTID
inline constexpr std::uint32_t kIgrpmodr = 0x0D00;        // GICv3
inline constexpr std::uint32_t kIgrpmodrSize = 0x80;
inline constexpr std::uint32_t kNsacr = 0x0E00;
inline constexpr std::uint32_t kNsacrSize = 0x100;

// ---- GICv2 distributor only --------------------------------------------------
inline constexpr std::uint32_t kGicdSgir = 0x0F00;
inline constexpr std::uint32_t kGicdCpendsgir = 0x0F10;
inline constexpr std::uint32_t kGicdSpendsgir = 0x0F20;
inline constexpr std::uint32_t kSgiPendBankSize = 0x10;   // 1 byte per SGI

// GICD_SGIR fields.
inline constexpr unsigned kSgirIntidMask = 0xF;
inline constexpr unsigned kSgirTargetListShift = 16;
inline constexpr unsigned kSgirFilterShift = 24;
enum class SgirFilter : unsigned { TargetList = 0, AllButSelf = 1, SelfOnly = 2, Reserved = 3 };

// ---- GICv3 distributor only --------------------------------------------------
inline constexpr std::uint32_t kGicdIrouter = 0x6000;     // 64-bit, one per INTID
inline constexpr std::uint32_t kGicdIrouterEnd = 0x8000;

// GICD_IROUTER fields (and MPIDR-style affinity in general).
inline constexpr std::uint64_t kIrouterIrm = 1ull << 31;  // 1-of-N: any participating PE
inline constexpr std::uint64_t kIrouterAffMask = 0xFF00FFFFFFull; // Aff3 [39:32], Aff2..0 [23:0]

// ---- GICv3 redistributor, RD frame ---------------------------------------------
inline constexpr std::uint32_t kGicrCtlr = 0x0000;
inline constexpr std::uint32_t kGicrIidr = 0x0004;
inline constexpr std::uint32_t kGicrTyper = 0x0008;       // 64-bit
inline constexpr std::uint32_t kGicrStatusr = 0x0010;
inline constexpr std::uint32_t kGicrWaker = 0x0014;

inline constexpr std::uint64_t kGicrTyperLast = 1ull << 4;
inline constexpr unsigned kGicrTyperProcNumShift = 8;
inline constexpr unsigned kGicrTyperAffinityShift = 32;

inline constexpr std::uint32_t kGicrWakerProcessorSleep = 1u << 1;
inline constexpr std::uint32_t kGicrWakerChildrenAsleep = 1u << 2;

// ---- Identification registers (PIDR4..7, PIDR0..3, CIDR0..3) --------------------
inline constexpr std::uint32_t kIdRegsV2 = 0x0FD0;
inline constexpr std::uint32_t kIdRegsV3 = 0xFFD0;        // GICD and both GICR frames
inline constexpr std::uint32_t kIdRegsSize = 0x30;
inline constexpr std::uint32_t kPidr2Offset = 0x18;       // from the start of the ID block
inline constexpr unsigned kPidr2ArchRevShift = 4;         // Linux checks PIDR2[7:4]

// ---- GICD_CTLR ------------------------------------------------------------------
// GICv3, as the Non-secure view of a GIC with two security states shows it (which is
// what Linux and Xen guests expect): ARE_NS reads as one, EnableGrp1A is bit 1.
inline constexpr std::uint32_t kCtlrV3EnableGrp1 = 1u << 0;
inline constexpr std::uint32_t kCtlrV3EnableGrp1A = 1u << 1;
inline constexpr std::uint32_t kCtlrV3AreNs = 1u << 4;
// GICv2 without Security Extensions: bit 0 enables group 0, where all our interrupts live.
inline constexpr std::uint32_t kCtlrV2EnableGrp0 = 1u << 0;
inline constexpr std::uint32_t kCtlrV2EnableGrp1 = 1u << 1;

// ---- GICD_TYPER -----------------------------------------------------------------
inline constexpr unsigned kTyperCpuNumberShift = 5;
inline constexpr unsigned kTyperIdBitsShift = 19;
inline constexpr std::uint32_t kTyperV3IdBits = 9;

// JEP106 code of ARM in the implementer field, as Xen's and KVM's vGICs report.
inline constexpr std::uint32_t kIidr = 0x0000043B;

// ---- Priorities ------------------------------------------------------------------
// Five priority bits, as the Cortex-A57's virtual CPU interface implements.
inline constexpr std::uint8_t kPriorityMask = 0xF8;

} // namespace keel::vgic::regs
