#include "trap_mmio.hpp"

#include "console.hpp"
#include "domain.hpp"
#include "inject.hpp"
#include "sysreg.hpp"

namespace keel::arch {

namespace {
// The data-abort ISS, decoded once.
struct MmioAccess {
    IpAddr ipa;
    unsigned size;       // bytes
    unsigned reg;        // 31 = XZR
    bool write;
    bool sign_extend;
    bool reg64;
};

bool decode(std::uint64_t esr, MmioAccess& a)
{
    const bool isv = esr & (1u << 24);
    const bool s1ptw = esr & (1u << 7);
    if (!isv || s1ptw) return false;  // no syndrome (e.g. LDP): cannot emulate, as on Xen
    a.size = 1u << ((esr >> 22) & 3);
    a.sign_extend = esr & (1u << 21);
    a.reg = (esr >> 16) & 0x1f;
    a.reg64 = esr & (1u << 15);
    a.write = esr & (1u << 6);
    const std::uint64_t hpfar = sysreg::hpfar_el2::read();
    a.ipa = IpAddr(((hpfar >> 4) << 12) | (sysreg::far_el2::read() & 0xfff));
    return true;
}

std::uint64_t read_reg(const Vcpu& v, unsigned r) { return r == 31 ? 0 : v.frame.x[r]; }

void write_reg(Vcpu& v, const MmioAccess& a, std::uint64_t value)
{
    if (a.reg == 31) return;
    if (a.sign_extend && a.size < 8) {
        const unsigned bits = a.size * 8;
        const std::uint64_t sign = 1ull << (bits - 1);
        value = (value ^ sign) - sign;
    }
    if (!a.reg64) value &= 0xffffffffu;
    v.frame.x[a.reg] = value;
}

enum class Outcome { Done, NotMine, Bad };

Outcome emulate(Vcpu& v, const MmioAccess& a)
{
    Domain& d = *v.domain;
    std::uint64_t value = a.write ? read_reg(v, a.reg) : 0;
    if (a.write && a.size < 8) value &= (1ull << (a.size * 8)) - 1;

    const vgic::MmioResult g = a.write ? d.vgic.write(v.id, a.ipa, a.size, value) : d.vgic.read(v.id, a.ipa, a.size, value);
    if (g == vgic::MmioResult::BadAccess) return Outcome::Bad;
    if (g == vgic::MmioResult::Handled) {
        if (!a.write) write_reg(v, a, value);
        return Outcome::Done;
    }
    if (d.has_vpl011 && a.ipa >= guest_layout::kVpl011 && a.ipa < guest_layout::kVpl011 + vuart::Vpl011::kSize) {
        const std::uint64_t off = a.ipa - guest_layout::kVpl011;
        const auto r = a.write ? d.vpl011.write(off, a.size, value) : d.vpl011.read(off, a.size, value);
        if (r == vuart::Access::Bad) return Outcome::Bad;
        if (!a.write) write_reg(v, a, value);
        d.vgic.set_level(v.id, guest_layout::kVpl011Intid, d.vpl011.irq_level());
        return Outcome::Done;
    }
    return Outcome::NotMine;
}
} // namespace

void trap_data_abort(Vcpu& v, std::uint64_t esr)
{
    const std::uint64_t far = sysreg::far_el2::read();
    MmioAccess a{};
    if (!decode(esr, a)) {
        inject_data_abort(v, far, esr & (1u << 6));
        return;
    }
    switch (emulate(v, a)) {
    case Outcome::Done: v.frame.elr += 4; break;  // ISV=1 implies a 32-bit instruction
    case Outcome::NotMine:
    case Outcome::Bad: inject_data_abort(v, far, a.write); break;
    }
}

} // namespace keel::arch
