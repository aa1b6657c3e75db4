/*
 * Entry: the arm64 Image header QEMU's -kernel (or any Linux bootloader) expects,
 * then the first instructions at EL2 on every physical CPU.
 *   primary:   x0 = physical address of the host DTB (Linux boot protocol)
 *   secondary: x0 = CPU index (PSCI CPU_ON context id)
 */
#include "asm_macros.S"

#define STACK_SHIFT 14              /* 16 KiB hypervisor stack per physical CPU */
#define MAX_CPUS 8

    .section .text.head, "ax"
    .global _start
_start:
    b       primary_entry           /* code0 */
    .long   0                       /* code1 */
    .quad   0x200000                /* text_offset: we run at RAM base + 2 MiB */
    .quad   __image_end - _start    /* image_size, bss included */
    .quad   0x2                     /* flags: little-endian, 4 KiB pages */
    .quad   0, 0, 0                 /* reserved */
    .ascii  "ARM\x64"               /* magic */
    .long   0                       /* no PE header */

primary_entry:
    mov     x19, x0                 /* keep the DTB pointer across calls */
    mrs     x1, CurrentEL
    cmp     x1, #(2 << 2)
    b.ne    not_el2
    /* Clear BSS (it holds the stacks and page tables) before anything uses it. */
    adr_l   x1, __bss_start
    adr_l   x2, __bss_end
1:  cmp     x1, x2
    b.hs    2f
    stp     xzr, xzr, [x1], #16
    b       1b
2:  mov     x20, #0                 /* CPU index 0 */
    bl      set_stack_and_vectors
    bl      keel_build_el2_tables   /* C++ with the MMU off: plain stores only */
    bl      el2_mmu_enable
    mov     x0, x20
    mov     x1, x19
    bl      keel_cpu_main
    b       halt

    .global keel_secondary_entry
keel_secondary_entry:
    mov     x20, x0
    cmp     x20, #MAX_CPUS
    b.hs    halt
    bl      set_stack_and_vectors
    bl      el2_mmu_enable          /* tables were built by the primary */
    mov     x0, x20
    mov     x1, #0
    bl      keel_cpu_main
    b       halt

/* sp = top of this CPU's stack (x20 = index); VBAR_EL2 = our vectors. Clobbers x0-x2. */
set_stack_and_vectors:
    adr_l   x0, keel_stacks
    add     x1, x20, #1
    lsl     x1, x1, #STACK_SHIFT
    add     sp, x0, x1
    adr_l   x0, keel_el2_vectors
    msr     vbar_el2, x0
    isb
    ret

#define MAIR_VALUE  0x04ff00        /* attr0 Device-nGnRnE, attr1 Normal WB, attr2 Device-nGnRE */
#define TCR_VALUE   ((1 << 31) | (1 << 23) | (2 << 16) | (3 << 12) | (1 << 10) | (1 << 8) | 25)
#define SCTLR_VALUE (0x30c50830 | (1 << 12) | (1 << 3) | (1 << 2) | (1 << 0))

el2_mmu_enable:
    adr_l   x0, keel_el2_l1_table
    msr     ttbr0_el2, x0
    ldr     x0, =MAIR_VALUE
    msr     mair_el2, x0
    ldr     x0, =TCR_VALUE
    msr     tcr_el2, x0
    isb
    tlbi    alle2
    dsb     ish
    isb
    ldr     x0, =SCTLR_VALUE
    msr     sctlr_el2, x0
    isb
    ret

not_el2:
halt:
    wfe
    b       halt

    .section .bss.stacks, "aw", %nobits
    .balign 4096
    .global keel_stacks
keel_stacks:
    .skip   (MAX_CPUS << STACK_SHIFT)
