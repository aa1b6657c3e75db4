// EL1 exception vectors. Every entry saves the interrupted state as an
// ExceptionFrame (exception.hpp) followed by the FP/SIMD registers, calls
// keel_guest_exception(frame, vector) and returns to frame->elr with the
// frame's registers: a handler resumes a faulting program by editing the frame.

// ExceptionFrame layout; exception.cpp checks these against the C++ struct.
#define FRAME_X30       240
#define FRAME_SP        248
#define FRAME_ELR       256
#define FRAME_ESR       272
#define FRAME_FP        288     // fpsr, fpcr, then q0..q31
#define FRAME_SIZE      816

// `vector` is the entry's index 0-15: (source group << 2) | kind, where the
// groups are current EL/SP_EL0, current EL/SP_ELx, lower EL AArch64, lower EL
// AArch32 and the kinds synchronous, IRQ, FIQ, SError.
.macro vector_entry vector
    .balign 0x80
    sub     sp, sp, #FRAME_SIZE
    stp     x0, x1, [sp, #0]
    mov     x1, #\vector
    b       exception_entry
.endm

    .section .text.vectors, "ax"
    .balign 2048
    .global keel_guest_vectors
keel_guest_vectors:
    vector_entry 0
    vector_entry 1
    vector_entry 2
    vector_entry 3
    vector_entry 4
    vector_entry 5
    vector_entry 6
    vector_entry 7
    vector_entry 8
    vector_entry 9
    vector_entry 10
    vector_entry 11
    vector_entry 12
    vector_entry 13
    vector_entry 14
    vector_entry 15

exception_entry:
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    stp     x20, x21, [sp, #160]
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
    stp     x28, x29, [sp, #224]
    add     x2, sp, #FRAME_SIZE
    stp     x30, x2, [sp, #FRAME_X30]
    mrs     x2, elr_el1
    mrs     x3, spsr_el1
    stp     x2, x3, [sp, #FRAME_ELR]
    mrs     x2, esr_el1
    mrs     x3, far_el1
    stp     x2, x3, [sp, #FRAME_ESR]

    add     x2, sp, #FRAME_FP
    mrs     x3, fpsr
    mrs     x4, fpcr
    stp     x3, x4, [x2]
    stp     q0, q1, [x2, #16]
    stp     q2, q3, [x2, #48]
    stp     q4, q5, [x2, #80]
    stp     q6, q7, [x2, #112]
    stp     q8, q9, [x2, #144]
    stp     q10, q11, [x2, #176]
    stp     q12, q13, [x2, #208]
    stp     q14, q15, [x2, #240]
    stp     q16, q17, [x2, #272]
    stp     q18, q19, [x2, #304]
    stp     q20, q21, [x2, #336]
    stp     q22, q23, [x2, #368]
    stp     q24, q25, [x2, #400]
    stp     q26, q27, [x2, #432]
    stp     q28, q29, [x2, #464]
    stp     q30, q31, [x2, #496]

    mov     x0, sp
    mov     x29, xzr                // a backtrace stops here
    bl      keel_guest_exception

    add     x2, sp, #FRAME_FP
    ldp     x3, x4, [x2]
    msr     fpsr, x3
    msr     fpcr, x4
    ldp     q0, q1, [x2, #16]
    ldp     q2, q3, [x2, #48]
    ldp     q4, q5, [x2, #80]
    ldp     q6, q7, [x2, #112]
    ldp     q8, q9, [x2, #144]
    ldp     q10, q11, [x2, #176]
    ldp     q12, q13, [x2, #208]
    ldp     q14, q15, [x2, #240]
    ldp     q16, q17, [x2, #272]
    ldp     q18, q19, [x2, #304]
    ldp     q20, q21, [x2, #336]
    ldp     q22, q23, [x2, #368]
    ldp     q24, q25, [x2, #400]
    ldp     q26, q27, [x2, #432]
    ldp     q28, q29, [x2, #464]
    ldp     q30, q31, [x2, #496]

    ldp     x2, x3, [sp, #FRAME_ELR]
    msr     elr_el1, x2
    msr     spsr_el1, x3
    ldp     x0, x1, [sp, #0]
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x19, [sp, #144]
    ldp     x20, x21, [sp, #160]
    ldp     x22, x23, [sp, #176]
    ldp     x24, x25, [sp, #192]
    ldp     x26, x27, [sp, #208]
    ldp     x28, x29, [sp, #224]
    ldr     x30, [sp, #FRAME_X30]
    add     sp, sp, #FRAME_SIZE
    eret
