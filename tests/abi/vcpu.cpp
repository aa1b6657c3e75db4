// vcpu_op: is_up, register_vcpu_info, register_runstate_memory_area.
#include "check.hpp"
#include "env.hpp"
#include "hypercall.hpp"
#include "xen_layout.h"

#include <xen/vcpu.h>
#include <xen/xen.h>

namespace abi {
namespace {

long vcpu_op(unsigned cmd, unsigned vcpu, void* a) { return hypercall(__HYPERVISOR_vcpu_op, cmd, vcpu, arg(a)); }

alignas(kPage) std::uint8_t g_vcpu_info_page[kPage];
alignas(64) vcpu_runstate_info_t g_runstate;

long register_vcpu_info(unsigned vcpu, std::uint64_t offset)
{
    vcpu_register_vcpu_info_t r{};
    r.mfn = reinterpret_cast<std::uintptr_t>(g_vcpu_info_page) / kPage;
    r.offset = static_cast<std::uint32_t>(offset);
    return vcpu_op(VCPUOP_register_vcpu_info, vcpu, &r);
}

} // namespace

void check_vcpu(Env& env)
{
    const char* area = "vcpu_op";
    check(area, "is_up vcpu 0", "%s", rc(vcpu_op(VCPUOP_is_up, 0, nullptr)));
    check(area, "is_up last vcpu in the DT (not started)", "%s",
          env.vcpus > 1 ? rc(vcpu_op(VCPUOP_is_up, env.vcpus - 1, nullptr)) : "n/a");
    check(area, "is_up vcpu 99", "%s", rc(vcpu_op(VCPUOP_is_up, 99, nullptr)));

    check(area, "register_vcpu_info crossing a page", "%s", rc(register_vcpu_info(0, kPage - 16)));
    check(area, "register_vcpu_info vcpu 99", "%s", rc(register_vcpu_info(99, 0)));
    check(area, "register_vcpu_info vcpu 0 at offset 64", "%s", rc(register_vcpu_info(0, 64)));
    void* info = g_vcpu_info_page + 64;
    check(area, "registered vcpu_info: upcall pending", "%u", abi_vcpu_upcall_pending(info));
    check(area, "register_vcpu_info vcpu 0 again", "%s", rc(register_vcpu_info(0, 128)));
    check(area, "register_vcpu_info bad pointer", "%s",
          rc(hypercall(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, kBadPointer)));

    vcpu_register_runstate_memory_area_t area_arg{};
    area_arg.addr.v = &g_runstate;
    g_runstate.state = -1;
    check(area, "register_runstate_memory_area vcpu 0", "%s",
          rc(vcpu_op(VCPUOP_register_runstate_memory_area, 0, &area_arg)));
    check(area, "runstate state", "%s", g_runstate.state == RUNSTATE_running ? "running" : "other");
    check(area, "register_runstate_memory_area vcpu 99", "%s",
          rc(vcpu_op(VCPUOP_register_runstate_memory_area, 99, &area_arg)));
    check(area, "unknown command 99", "%s", rc(vcpu_op(99, 0, nullptr)));
}

} // namespace abi
