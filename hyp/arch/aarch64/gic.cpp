#include "gic.hpp"

namespace keel::arch {

PhysGic& gicv3_setup(const HostGicInfo& info);
PhysGic& gicv2_setup(const HostGicInfo& info);

namespace {
PhysGic* the_gic = nullptr;
}

PhysGic& gic_probe(const HostGicInfo& info)
{
    the_gic = info.version == 3 ? &gicv3_setup(info) : &gicv2_setup(info);
    return *the_gic;
}

PhysGic& gic() { return *the_gic; }

} // namespace keel::arch
