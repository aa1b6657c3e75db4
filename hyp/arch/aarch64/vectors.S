/*
 * EL2 exception vectors. Traps from a guest save its registers into the current
 * vCPU's frame (TPIDR_EL2 -> this CPU's record, whose first word points at the
 * frame), call the C++ handler, and enter whichever frame the handler returns:
 * a context switch is just returning a different frame.
 */
#include "asm_macros.S"

/* Offsets in GuestFrame (vcpu_frame.hpp): x0..x30, then elr, spsr. */
#define FRAME_ELR  (31 * 8)
#define FRAME_SPSR (32 * 8)

.macro ventry label
    .balign 128
    b       \label
.endm

    .section .text
    .balign 2048
    .global keel_el2_vectors
keel_el2_vectors:
    ventry  hyp_fault_sync          /* current EL, SP_EL0 */
    ventry  hyp_fault_irq
    ventry  hyp_fault_fiq
    ventry  hyp_fault_serror
    ventry  hyp_fault_sync          /* current EL, SP_ELx */
    ventry  hyp_fault_irq
    ventry  hyp_fault_fiq
    ventry  hyp_fault_serror
    ventry  guest_sync              /* lower EL, AArch64 */
    ventry  guest_irq
    ventry  guest_fiq
    ventry  guest_serror
    ventry  guest_aarch32           /* lower EL, AArch32: never enabled (HCR_EL2.RW=1) */
    ventry  guest_aarch32
    ventry  guest_aarch32
    ventry  guest_aarch32

.macro save_guest
    stp     x0, x1, [sp, #-16]!
    mrs     x0, tpidr_el2
    ldr     x0, [x0]
    stp     x2, x3, [x0, #16]
    stp     x4, x5, [x0, #32]
    stp     x6, x7, [x0, #48]
    stp     x8, x9, [x0, #64]
    stp     x10, x11, [x0, #80]
    stp     x12, x13, [x0, #96]
    stp     x14, x15, [x0, #112]
    stp     x16, x17, [x0, #128]
    stp     x18, x19, [x0, #144]
    stp     x20, x21, [x0, #160]
    stp     x22, x23, [x0, #176]
    stp     x24, x25, [x0, #192]
    stp     x26, x27, [x0, #208]
    stp     x28, x29, [x0, #224]
    ldp     x2, x3, [sp], #16
    stp     x2, x3, [x0, #0]
    mrs     x2, elr_el2
    mrs     x3, spsr_el2
    stp     x30, x2, [x0, #240]
    str     x3, [x0, #FRAME_SPSR]
    mov     x29, #0                 /* backtraces stop at the trap */
.endm

guest_sync:
    save_guest
    bl      keel_guest_sync
    b       keel_enter_guest

guest_irq:
guest_fiq:
    save_guest
    bl      keel_guest_irq
    b       keel_enter_guest

guest_serror:
    save_guest
    bl      keel_guest_serror
    b       keel_enter_guest

guest_aarch32:
    save_guest
    bl      keel_guest_aarch32
    b       keel_enter_guest

/* x0 = frame to run. Makes it current and returns to the guest. */
    .global keel_enter_guest
keel_enter_guest:
    mrs     x1, tpidr_el2
    str     x0, [x1]
    ldr     x2, [x0, #FRAME_ELR]
    ldr     x3, [x0, #FRAME_SPSR]
    msr     elr_el2, x2
    msr     spsr_el2, x3
    ldp     x2, x3, [x0, #16]
    ldp     x4, x5, [x0, #32]
    ldp     x6, x7, [x0, #48]
    ldp     x8, x9, [x0, #64]
    ldp     x10, x11, [x0, #80]
    ldp     x12, x13, [x0, #96]
    ldp     x14, x15, [x0, #112]
    ldp     x16, x17, [x0, #128]
    ldp     x18, x19, [x0, #144]
    ldp     x20, x21, [x0, #160]
    ldp     x22, x23, [x0, #176]
    ldp     x24, x25, [x0, #192]
    ldp     x26, x27, [x0, #208]
    ldp     x28, x29, [x0, #224]
    ldr     x30, [x0, #240]
    ldp     x0, x1, [x0]
    eret
    dsb     nsh                     /* no speculation past eret */
    isb

/* The hypervisor itself faulted: report and stop (never returns). */
.macro hyp_fault kind
    mov     x0, #\kind
    mrs     x1, esr_el2
    mrs     x2, elr_el2
    mrs     x3, far_el2
    mov     x4, x29
    bl      keel_hyp_fault
    b       .
.endm
hyp_fault_sync:   hyp_fault 0
hyp_fault_irq:    hyp_fault 1
hyp_fault_fiq:    hyp_fault 2
hyp_fault_serror: hyp_fault 3
