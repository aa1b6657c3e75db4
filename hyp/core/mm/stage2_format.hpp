// Every bit of the VMSAv8-64 stage-2 descriptor format (4 KiB granule) that Keel
// uses, named once. The walker in stage2_table.cpp never spells a bit by number.
#pragma once

#include <cstdint>

namespace keel::mm::s2 {

inline constexpr unsigned kStartLevel = 1;        // 39-bit IPA space, one root table
inline constexpr unsigned kIpaBits = 39;
inline constexpr std::uint64_t kEntries = 512;

inline constexpr std::uint64_t kValid = 1ull << 0;
inline constexpr std::uint64_t kTableOrPage = 1ull << 1;  // table at levels 0-2, page at level 3
inline constexpr std::uint64_t kOutputMask = 0x0000fffffffff000ull;

// MemAttr[5:2]: stage-2 memory type, combined with stage 1 (the stricter wins).
inline constexpr std::uint64_t kMemAttrShift = 2;
inline constexpr std::uint64_t kMemAttrNormalWb = 0xfull << kMemAttrShift;
inline constexpr std::uint64_t kMemAttrDeviceNGnRE = 0x1ull << kMemAttrShift;
inline constexpr std::uint64_t kMemAttrMask = 0xfull << kMemAttrShift;
// S2AP[7:6]: access permissions for the guest.
inline constexpr std::uint64_t kS2apRead = 1ull << 6;
inline constexpr std::uint64_t kS2apWrite = 1ull << 7;
// SH[9:8] = inner shareable; AF[10] set so no access-flag faults reach us.
inline constexpr std::uint64_t kShInner = 3ull << 8;
inline constexpr std::uint64_t kAccessFlag = 1ull << 10;
// XN[54]: not executable by the guest.
inline constexpr std::uint64_t kExecNever = 1ull << 54;

constexpr unsigned level_shift(unsigned level) { return 12 + 9 * (3 - level); }
constexpr std::uint64_t level_size(unsigned level) { return 1ull << level_shift(level); }
constexpr unsigned index_at(std::uint64_t ipa, unsigned level) { return (ipa >> level_shift(level)) & 511; }

} // namespace keel::mm::s2
