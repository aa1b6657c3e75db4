/* shared_info and vcpu_info as Xen lays them out. The Xen public headers are
 * C: compiled as C++ the empty arch_vcpu_info/arch_shared_info structs take a
 * byte and every later offset moves, so everything that touches these two
 * structs goes through this C translation unit (xen_layout.c). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

size_t abi_vcpu_info_size(void);
size_t abi_shared_info_size(void);
/* offsetof() answers, so the C++ side can print the layout it relies on. */
size_t abi_offset_evtchn_pending_sel(void);
size_t abi_offset_evtchn_pending(void);
size_t abi_offset_evtchn_mask(void);
size_t abi_offset_wc_version(void);

/* Arm has no evtchn_upcall_mask (the byte after evtchn_upcall_pending is
 * padding): an Arm guest masks the upcall at the GIC. */

/* vcpu_info of `vcpu` inside shared_info (the legacy slots, vCPUs < 32). */
void* abi_shared_vcpu_info(void* shared_info, unsigned vcpu);

uint8_t abi_vcpu_upcall_pending(const void* vcpu_info);
void abi_vcpu_set_upcall_pending(void* vcpu_info, uint8_t value);
uint64_t abi_vcpu_pending_sel(const void* vcpu_info);
void abi_vcpu_set_pending_sel(void* vcpu_info, uint64_t value);

int abi_port_pending(const void* shared_info, unsigned port);
void abi_port_clear_pending(void* shared_info, unsigned port);
int abi_port_masked(const void* shared_info, unsigned port);
void abi_port_set_mask(void* shared_info, unsigned port);
/* Clear every pending bit and every vCPU's selector and upcall flag. */
void abi_clear_all_pending(void* shared_info);

#ifdef __cplusplus
}
#endif
