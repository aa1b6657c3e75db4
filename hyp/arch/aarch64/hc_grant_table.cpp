// Grant tables: wired in when the core lands; until then Xen's answer for an
// unknown hypercall.
#include "hypercall_context.hpp"

namespace keel::arch {

long hc_grant_table_op(HypercallContext&, std::uint64_t, IpAddr, std::uint64_t) { return xen_err(Errno::XEN_ENOSYS); }
long grant_table_add_to_physmap(Domain&, std::uint64_t, std::uint64_t) { return xen_err(Errno::XEN_ENOSYS); }
void grant_table_forget_frame(Domain&, std::uint64_t) {}

} // namespace keel::arch
