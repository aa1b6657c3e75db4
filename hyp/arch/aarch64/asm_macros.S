/* Address of a symbol within +/-4 GiB of the PC, independent of where we run. */
.macro adr_l reg, sym
    adrp \reg, \sym
    add \reg, \reg, :lo12:\sym
.endm
