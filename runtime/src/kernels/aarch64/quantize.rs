//! Activation quantization (f32 → Q8_0 / Q8_K), four lanes at a time, with the scalar
//! reference's float operations: the same `amax`, `d = amax/127`, `id = 127/amax` (Q8_K:
//! `iscale = −127/max`), products, and ggml's `nearest_int` (adding 1.5·2^23 and reading
//! the mantissa) rather than FCVTNS, so that even infinite or NaN products give the
//! reference's bytes.

use super::simd::{ld_f32, st_q};
use crate::quant::{BlockQ8K, BlockQ8_0, QK8_0, QK_K};
use core::arch::aarch64::*;
use half::f16;

/// `nearest_int(v)` lane by lane, truncated to i32 (the caller narrows to i8 by truncation,
/// as `as i8` does).
#[target_feature(enable = "neon")]
#[inline]
fn nearest_int(v: float32x4_t) -> int32x4_t {
    let m = vaddq_f32(v, vdupq_n_f32(12_582_912.0));
    let mant = vandq_u32(vreinterpretq_u32_f32(m), vdupq_n_u32(0x007f_ffff));
    vsubq_s32(vreinterpretq_s32_u32(mant), vdupq_n_s32(0x0040_0000))
}

/// Sixteen i32 lanes → i8 by truncation.
#[target_feature(enable = "neon")]
#[inline]
fn narrow(q: [int32x4_t; 4]) -> int8x16_t {
    let lo = vmovn_high_s32(vmovn_s32(q[0]), q[1]);
    let hi = vmovn_high_s32(vmovn_s32(q[2]), q[3]);
    vmovn_high_s16(vmovn_s16(lo), hi)
}

/// `max(|v|)` over 32 values, starting from 0 (FMAXNM, like `f32::max`: a NaN loses).
#[target_feature(enable = "neon")]
#[inline]
fn amax32(v: &[float32x4_t; 8]) -> float32x4_t {
    let m = v.map(|v| vabsq_f32(v));
    let m4 = [0, 1, 2, 3].map(|i| vmaxnmq_f32(m[i], m[i + 4]));
    let m2 = vmaxnmq_f32(vmaxnmq_f32(m4[0], m4[2]), vmaxnmq_f32(m4[1], m4[3]));
    vmaxnmq_f32(m2, vdupq_n_f32(0.0))
}

/// 32 activations as eight vectors.
#[target_feature(enable = "neon")]
#[inline]
fn load32(x: &[f32; 32]) -> [float32x4_t; 8] {
    [
        ld_f32::<0, 32>(x),
        ld_f32::<4, 32>(x),
        ld_f32::<8, 32>(x),
        ld_f32::<12, 32>(x),
        ld_f32::<16, 32>(x),
        ld_f32::<20, 32>(x),
        ld_f32::<24, 32>(x),
        ld_f32::<28, 32>(x),
    ]
}

/// f32 activations → Q8_0, as [`quantize_row_q8_0`](crate::quant::scalar::quantize_row_q8_0).
#[target_feature(enable = "neon")]
pub fn q8_0(x: &[f32], y: &mut [BlockQ8_0]) {
    let (xs, _) = x.as_chunks::<QK8_0>();
    for (xb, yb) in xs.iter().zip(y.iter_mut()) {
        let v = load32(xb);
        let amax = vmaxnmvq_f32(amax32(&v));
        let d = amax / 127.0;
        let id = if amax != 0.0 { 127.0 / amax } else { 0.0 };
        yb.d = f16::from_f32(d);
        let q = v.map(|v| nearest_int(vmulq_n_f32(v, id)));
        st_q::<0, QK8_0>(&mut yb.qs, narrow([q[0], q[1], q[2], q[3]]));
        st_q::<16, QK8_0>(&mut yb.qs, narrow([q[4], q[5], q[6], q[7]]));
    }
}

/// f32 activations → Q8_K, as [`quantize_row_q8_k`](crate::quant::scalar::quantize_row_q8_k):
/// the first element of largest magnitude maps to −127, quants are capped at 127, and each
/// group of 16 gets its sum.
#[target_feature(enable = "neon")]
pub fn q8_k(x: &[f32], y: &mut [BlockQ8K]) {
    let (xs, _) = x.as_chunks::<QK_K>();
    for (xb, yb) in xs.iter().zip(y.iter_mut()) {
        let (parts, _) = xb.as_chunks::<32>();
        let m = parts
            .iter()
            .fold(vdupq_n_f32(0.0), |m, p| vmaxnmq_f32(m, amax32(&load32(p))));
        let amax = vmaxnmvq_f32(m);
        if amax == 0.0 {
            *yb = BlockQ8K::ZERO;
            continue;
        }
        // The reference keeps the first element that beats the running maximum: the first
        // one whose magnitude is `amax`.
        let max = xb.iter().copied().find(|v| v.abs() == amax).unwrap_or(amax);
        let iscale = -127.0 / max;
        let cap = vdupq_n_s32(127);
        let (qs, _) = yb.qs.as_chunks_mut::<32>();
        let (bsums, _) = yb.bsums.as_chunks_mut::<2>();
        for ((p, q32), s) in parts.iter().zip(qs.iter_mut()).zip(bsums.iter_mut()) {
            let q = load32(p).map(|v| vminq_s32(nearest_int(vmulq_n_f32(v, iscale)), cap));
            let lo = narrow([q[0], q[1], q[2], q[3]]);
            let hi = narrow([q[4], q[5], q[6], q[7]]);
            st_q::<0, 32>(q32, lo);
            st_q::<16, 32>(q32, hi);
            *s = [vaddlvq_s8(lo), vaddlvq_s8(hi)];
        }
        yb.d = 1.0 / iscale;
    }
}
