// The first instructions of a bare guest: the arm64 Image header, then what
// must happen in assembly before C++ can run.
//
// Boot contract (Linux's Documentation/arch/arm64/booting.rst, which Xen and
// Keel both follow): EL1, MMU and D-cache off, IRQs masked, x0 = the device
// tree's address, the image at RAM base + text_offset.

    .section .text.image_header, "ax"
    .global keel_image_header
keel_image_header:
    b       entry                   // code0
    .long   0                       // code1
    .quad   0x80000                 // text_offset: RAM base + 512 KiB
    .quad   _image_size             // image_size: BSS, page tables and stack included
    .quad   0x2                     // flags: little-endian, 4 KiB pages
    .quad   0, 0, 0                 // res2..res4
    .ascii  "ARM\x64"               // magic
    .long   0                       // res5: no PE/COFF header

entry:
    msr     daifset, #0xf
    mov     x19, x0                 // the device tree; callee-saved across what follows

    // Nothing here is position independent: run where we were linked or not at all.
    adr     x1, _start
    ldr     x2, =_start
    cmp     x1, x2
    b.ne    halt

    // A device tree inside our image would be wiped by the BSS clear below.
    ldr     x1, =_end
    cmp     x19, x2
    b.lo    1f
    cmp     x19, x1
    b.lo    halt
1:
    // FP/SIMD usable at EL1: the compiler may use vector registers anywhere.
    mov     x1, #(3 << 20)          // CPACR_EL1.FPEN = 0b11
    msr     cpacr_el1, x1
    isb

    // What we write with the MMU off (BSS, page tables, stack) goes straight to
    // memory; stale cache lines over the image must not shadow it once the MMU
    // makes these addresses cacheable. The loader cleaned the image to PoC, so
    // invalidating its loaded part loses nothing.
    ldr     x0, =_start
    ldr     x1, =_end
    bl      dcache_invalidate_range

    ldr     x0, =__bss_start
    ldr     x1, =__bss_end
2:  cmp     x0, x1
    b.hs    3f
    stp     xzr, xzr, [x0], #16
    b       2b
3:
    ldr     x0, =__stack_top
    mov     sp, x0
    mov     x29, xzr                // ends the frame-pointer chain
    mov     x30, xzr

    ldr     x0, =keel_guest_vectors
    msr     vbar_el1, x0
    isb

    mov     x0, x19
    bl      keel_guest_boot         // does not return

    // Wrong load address, or no way to report anything yet.
halt:
    wfe
    b       halt

// Invalidate the data cache by VA to PoC over [x0, x1). Leaf, no stack.
dcache_invalidate_range:
    mrs     x3, ctr_el0
    ubfx    x3, x3, #16, #4         // CTR_EL0.DminLine: log2 of the line size in words
    mov     x2, #4
    lsl     x2, x2, x3
    sub     x3, x2, #1
    bic     x0, x0, x3
4:  dc      ivac, x0
    add     x0, x0, x2
    cmp     x0, x1
    b.lo    4b
    dsb     sy
    ret

    .ltorg
