//! NEON building blocks shared by every aarch64 kernel: bounds-checked-at-compile-time loads,
//! exact f16 → f32 conversion, and the float reductions of the scalar reference (ggml's x86
//! `hsum_float_8` and `GGML_F32x8_REDUCE`) done for up to four rows at once.
//!
//! One x86 register of eight f32 lanes is held as a pair `[lo, hi]` of `float32x4_t` (lanes
//! 0..4 and 4..8). Every helper is `#[inline]` and enables only `neon`, so it inlines into
//! both the plain NEON and the dotprod kernels.

use core::arch::aarch64::*;
use core::arch::asm;
use half::f16;

/// One x86 8-lane f32 register: lanes 0..4, lanes 4..8.
pub type F32x8 = [float32x4_t; 2];

/// 16 bytes of `b` from offset `AT` (checked when compiled).
#[target_feature(enable = "neon")]
#[inline]
pub fn ld_u8<const AT: usize, const N: usize>(b: &[u8; N]) -> uint8x16_t {
    const { assert!(AT + 16 <= N) };
    // SAFETY: AT + 16 <= N (asserted at compile time), so all 16 bytes lie inside `b`;
    // LD1 has no alignment requirement.
    unsafe { vld1q_u8(b.as_ptr().add(AT)) }
}

/// 16 bytes of `b` from offset `AT`, as signed.
#[target_feature(enable = "neon")]
#[inline]
pub fn ld_s8<const AT: usize, const N: usize>(b: &[u8; N]) -> int8x16_t {
    vreinterpretq_s8_u8(ld_u8::<AT, N>(b))
}

/// 16 quants of an activation block from offset `AT`.
#[target_feature(enable = "neon")]
#[inline]
pub fn ld_q<const AT: usize, const N: usize>(q: &[i8; N]) -> int8x16_t {
    const { assert!(AT + 16 <= N) };
    // SAFETY: AT + 16 <= N (asserted at compile time), so all 16 bytes lie inside `q`.
    unsafe { vld1q_s8(q.as_ptr().add(AT)) }
}

/// Eight i16 from element `AT`.
#[target_feature(enable = "neon")]
#[inline]
pub fn ld_i16<const AT: usize, const N: usize>(v: &[i16; N]) -> int16x8_t {
    const { assert!(AT + 8 <= N) };
    // SAFETY: AT + 8 <= N (asserted at compile time), so the 16 bytes lie inside `v`.
    unsafe { vld1q_s16(v.as_ptr().add(AT)) }
}

/// Four little-endian f32 from byte offset `AT` (weights: no alignment assumed).
#[target_feature(enable = "neon")]
#[inline]
pub fn ld_f32_bytes<const AT: usize, const N: usize>(b: &[u8; N]) -> float32x4_t {
    vreinterpretq_f32_u8(ld_u8::<AT, N>(b))
}

/// Four f32 from element `AT`.
#[target_feature(enable = "neon")]
#[inline]
pub fn ld_f32<const AT: usize, const N: usize>(x: &[f32; N]) -> float32x4_t {
    const { assert!(AT + 4 <= N) };
    // SAFETY: AT + 4 <= N (asserted at compile time), so the 16 bytes lie inside `x`.
    unsafe { vld1q_f32(x.as_ptr().add(AT)) }
}

/// Eight f16 from element `AT`, as their bit patterns.
#[target_feature(enable = "neon")]
#[inline]
pub fn ld_f16<const AT: usize, const N: usize>(x: &[f16; N]) -> uint16x8_t {
    const { assert!(AT + 8 <= N) };
    // SAFETY: AT + 8 <= N (asserted at compile time), so the 16 bytes lie inside `x`;
    // `half::f16` is `repr(transparent)` over `u16`.
    unsafe { vld1q_u16(x.as_ptr().add(AT).cast::<u16>()) }
}

/// Store sixteen i8.
#[target_feature(enable = "neon")]
#[inline]
pub fn st_q<const AT: usize, const N: usize>(q: &mut [i8; N], v: int8x16_t) {
    const { assert!(AT + 16 <= N) };
    // SAFETY: AT + 16 <= N (asserted at compile time), so the 16 bytes lie inside `q`.
    unsafe { vst1q_s8(q.as_mut_ptr().add(AT), v) }
}

/// Four f16 (bit patterns) → f32. FCVTL converts exactly, like `half`'s `to_f32`
/// (subnormals kept, NaN quietened with its payload).
#[target_feature(enable = "neon")]
#[inline]
pub fn f16x4_to_f32(h: uint16x4_t) -> float32x4_t {
    let r: float32x4_t;
    // SAFETY: FCVTL is a base Advanced SIMD instruction (enabled here); it only reads and
    // writes the two registers named.
    unsafe {
        asm!(
            "fcvtl {r:v}.4s, {h:v}.4h",
            r = lateout(vreg) r,
            h = in(vreg) h,
            options(pure, nomem, nostack, preserves_flags),
        )
    };
    r
}

/// Eight f16 (bit patterns) → f32, lanes 0..4 and 4..8.
#[target_feature(enable = "neon")]
#[inline]
pub fn f16x8_to_f32(h: uint16x8_t) -> F32x8 {
    let hi: float32x4_t;
    // SAFETY: as in `f16x4_to_f32` (FCVTL2 converts the upper four halves).
    unsafe {
        asm!(
            "fcvtl2 {r:v}.4s, {h:v}.8h",
            r = lateout(vreg) hi,
            h = in(vreg) h,
            options(pure, nomem, nostack, preserves_flags),
        )
    };
    [f16x4_to_f32(vget_low_u16(h)), hi]
}

/// The f16 at bytes `AT..AT + 2` of a weight block, as bits.
#[inline(always)]
pub fn f16_bits<const AT: usize, const N: usize>(b: &[u8; N]) -> u16 {
    const { assert!(AT + 2 <= N) };
    u16::from_le_bytes([b[AT], b[AT + 1]])
}

/// Up to four f16 scales (rows past `R` read as 0) → f32 lanes.
#[target_feature(enable = "neon")]
#[inline]
pub fn scales4<const R: usize>(bits: [u16; R]) -> float32x4_t {
    let at = |r: usize| if r < R { bits[r] } else { 0 };
    let v = vdup_n_u16(at(0));
    let v = vset_lane_u16::<1>(at(1), v);
    let v = vset_lane_u16::<2>(at(2), v);
    let v = vset_lane_u16::<3>(at(3), v);
    f16x4_to_f32(v)
}

/// Lane `i` (0..4) of `v`; `i` is a constant once the row loops are unrolled.
#[target_feature(enable = "neon")]
#[inline]
pub fn lane(v: float32x4_t, i: usize) -> f32 {
    match i {
        0 => vgetq_lane_f32::<0>(v),
        1 => vgetq_lane_f32::<1>(v),
        2 => vgetq_lane_f32::<2>(v),
        _ => vgetq_lane_f32::<3>(v),
    }
}

/// `a·b + c` with one rounding (FMADD), as the reference's `fmaf`.
#[target_feature(enable = "neon")]
#[inline]
pub fn fma1(a: f32, b: f32, c: f32) -> f32 {
    vget_lane_f32::<0>(vfma_f32(vdup_n_f32(c), vdup_n_f32(a), vdup_n_f32(b)))
}

/// Row `r` of `rows`, or zeros past `R` (pads a group of fewer than four rows).
#[inline(always)]
fn row_or<T: Copy, const R: usize>(rows: &[T; R], r: usize, zero: T) -> T {
    if r < R {
        rows[r]
    } else {
        zero
    }
}

/// [`hsum_float_8`](crate::quant::scalar::hsum_float_8) of up to four rows:
/// `r_i = x_i + x_(i+4)`, then `(r0 + r2) + (r1 + r3)`; row `k` lands in lane `k`.
#[target_feature(enable = "neon")]
#[inline]
pub fn hsum8_rows<const R: usize>(acc: &[F32x8; R]) -> float32x4_t {
    let z = vdupq_n_f32(0.0);
    let r: [float32x4_t; 4] = core::array::from_fn(|k| {
        let [lo, hi] = row_or(acc, k, [z, z]);
        vaddq_f32(lo, hi)
    });
    // [a0, a1, b0, b1] + [a2, a3, b2, b3] = [a0 + a2, a1 + a3, b0 + b2, b1 + b3].
    let pair = |a: float32x4_t, b: float32x4_t| {
        vaddq_f32(
            vcombine_f32(vget_low_f32(a), vget_low_f32(b)),
            vcombine_f32(vget_high_f32(a), vget_high_f32(b)),
        )
    };
    vpaddq_f32(pair(r[0], r[1]), pair(r[2], r[3]))
}

/// [`reduce_f32x8x4`](crate::quant::scalar::reduce_f32x8x4) of up to four rows, each with
/// four 8-lane registers: `(a0 + a2) + (a1 + a3)` lane by lane, `t_i = x_i + x_(i+4)`, then
/// `(t0 + t1) + (t2 + t3)`; row `k` lands in lane `k`.
#[target_feature(enable = "neon")]
#[inline]
pub fn reduce8x4_rows<const R: usize>(acc: &[[F32x8; 4]; R]) -> float32x4_t {
    let z = vdupq_n_f32(0.0);
    let t: [float32x4_t; 4] = core::array::from_fn(|k| {
        let a = row_or(acc, k, [[z, z]; 4]);
        let x = |h: usize| vaddq_f32(vaddq_f32(a[0][h], a[2][h]), vaddq_f32(a[1][h], a[3][h]));
        vaddq_f32(x(0), x(1))
    });
    // [t0 + t1, t2 + t3] per row, then their sum.
    vpaddq_f32(vpaddq_f32(t[0], t[1]), vpaddq_f32(t[2], t[3]))
}
