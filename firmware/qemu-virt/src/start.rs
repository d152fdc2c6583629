//! Reset: one core, EL1, MMU off. Park every core but the first, paint the stack (for the
//! high-water mark in `/stats`), set the stack, enable FP/SIMD (NEON kernels and even plain
//! float code trap without it), zero .bss, install the exception vectors, call `kmain`.

use core::arch::global_asm;

global_asm!(
    r#"
    .section .text.boot, "ax"
    .global _start
_start:
    mrs     x0, mpidr_el1
    and     x0, x0, #0xff
    cbnz    x0, 3f

    // Nothing is on the stack yet: fill all of it (16-byte aligned, link.x) with the paint.
    adrp    x0, __stack_bottom
    add     x0, x0, :lo12:__stack_bottom
    adrp    x1, __stack_top
    add     x1, x1, :lo12:__stack_top
    ldr     x2, ={paint}
4:  cmp     x0, x1
    b.hs    5f
    stp     x2, x2, [x0], #16
    b       4b

5:  adrp    x0, __stack_top
    add     x0, x0, :lo12:__stack_top
    mov     sp, x0

    // CPACR_EL1.FPEN = 0b11: FP/SIMD instructions do not trap at EL1/EL0.
    mov     x0, #(3 << 20)
    msr     cpacr_el1, x0
    isb

    adrp    x0, __bss_start
    add     x0, x0, :lo12:__bss_start
    adrp    x1, __bss_end
    add     x1, x1, :lo12:__bss_end
1:  cmp     x0, x1
    b.hs    2f
    stp     xzr, xzr, [x0], #16
    b       1b

2:  adrp    x0, mote_vectors
    add     x0, x0, :lo12:mote_vectors
    msr     vbar_el1, x0
    isb
    bl      kmain

3:  wfe
    b       3b

    // 16 entries of 0x80 bytes: {{current EL with SP0, with SPx, lower EL64, lower EL32}} ×
    // {{sync, IRQ, FIQ, SError}}. Nothing is expected; each reports its index and stops.
    .section .text.vectors, "ax"
    .balign 2048
mote_vectors:
    .set i, 0
    .rept 16
    .balign 128
    mov     x0, #i
    b       mote_exception
    .set i, i + 1
    .endr
"#,
    paint = const mote_board::STACK_PAINT as u64 * 0x1_0000_0001,
);
