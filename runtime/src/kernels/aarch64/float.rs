//! F32 and F16 weight rows, in `ggml_vec_dot_f32` / `ggml_vec_dot_f16`'s x86 order: each
//! 32-element step fused-multiply-added into four 8-lane registers (eight NEON
//! accumulators), `GGML_F32x8_REDUCE`, then the leftovers exactly as the reference does them
//! (f32: blocks of 8 and 4 of rounded products added in order, then FMAs; f16: summed in
//! f64). Two rows at a time: sixteen accumulators keep both FMA pipes busy, and each
//! activation step is loaded (and, for f16, converted) once for both.

use super::simd::{
    f16x4_to_f32, f16x8_to_f32, fma1, lane, ld_f16, ld_f32, ld_f32_bytes, ld_u8, reduce8x4_rows,
    F32x8,
};
use core::arch::aarch64::*;
use half::f16;

/// Rows per group.
const R: usize = 2;
/// Elements per step (`GGML_F32_STEP`).
const STEP: usize = 32;

/// Rows `first..first + N` of `w` (each `rb` bytes), their first `len` bytes.
/// The caller guarantees `(first + N)·rb <= w.len()` and `len <= rb`.
#[inline(always)]
fn rows<const N: usize>(w: &[u8], rb: usize, first: usize, len: usize) -> [&[u8]; N] {
    core::array::from_fn(|r| &w[(first + r) * rb..][..len])
}

/// Runs `group(rows, x, out)` over every [`R`] consecutive rows, then over the row left.
macro_rules! for_row_groups {
    ($elem_bytes:expr, $w:expr, $x:expr, $out:expr, $group:ident) => {{
        let (w, x, out) = ($w, $x, $out);
        let Some(rb) = w.len().checked_div(out.len()) else {
            return;
        };
        let x = &x[..x.len().min(rb / $elem_bytes)];
        let len = x.len() * $elem_bytes;
        let (groups, tail) = out.as_chunks_mut::<R>();
        let done = groups.len() * R;
        for (g, o) in groups.iter_mut().enumerate() {
            $group::<R>(rows(w, rb, g * R, len), x, o);
        }
        for (t, o) in tail.iter_mut().enumerate() {
            $group::<1>(rows(w, rb, done + t, len), x, core::array::from_mut(o));
        }
    }};
}

/// Eight vectors of four f32 from 32 little-endian f32 weights.
#[target_feature(enable = "neon")]
#[inline]
fn weights_f32(b: &[u8; 4 * STEP]) -> [float32x4_t; 8] {
    [
        ld_f32_bytes::<0, 128>(b),
        ld_f32_bytes::<16, 128>(b),
        ld_f32_bytes::<32, 128>(b),
        ld_f32_bytes::<48, 128>(b),
        ld_f32_bytes::<64, 128>(b),
        ld_f32_bytes::<80, 128>(b),
        ld_f32_bytes::<96, 128>(b),
        ld_f32_bytes::<112, 128>(b),
    ]
}

/// Eight vectors of four f32 from 32 f16 weights.
#[target_feature(enable = "neon")]
#[inline]
fn weights_f16(b: &[u8; 2 * STEP]) -> [float32x4_t; 8] {
    let h = [
        ld_u8::<0, 64>(b),
        ld_u8::<16, 64>(b),
        ld_u8::<32, 64>(b),
        ld_u8::<48, 64>(b),
    ]
    .map(|v| f16x8_to_f32(vreinterpretq_u16_u8(v)));
    [
        h[0][0], h[0][1], h[1][0], h[1][1], h[2][0], h[2][1], h[3][0], h[3][1],
    ]
}

/// `acc[j] += w[2j..2j+2] · x[2j..2j+2]`, fused: register `j` of the reference, as two halves.
#[target_feature(enable = "neon")]
#[inline]
fn fma_step(acc: &mut [F32x8; 4], w: [float32x4_t; 8], x: &[float32x4_t; 8]) {
    for (k, (w, x)) in w.iter().zip(x).enumerate() {
        let a = &mut acc[k / 2][k % 2];
        *a = vfmaq_f32(*a, *w, *x);
    }
}

/// Up to two f32 rows.
#[target_feature(enable = "neon")]
#[inline]
fn f32_group<const N: usize>(rows: [&[u8]; N], x: &[f32], out: &mut [f32; N]) {
    let (xs, _) = x.as_chunks::<STEP>();
    let np = xs.len() * STEP;
    let ws = rows.map(|r| &r.as_chunks::<{ 4 * STEP }>().0[..xs.len()]);
    let mut acc = [[[vdupq_n_f32(0.0); 2]; 4]; N];
    for (i, xc) in xs.iter().enumerate() {
        let xv = [
            ld_f32::<0, STEP>(xc),
            ld_f32::<4, STEP>(xc),
            ld_f32::<8, STEP>(xc),
            ld_f32::<12, STEP>(xc),
            ld_f32::<16, STEP>(xc),
            ld_f32::<20, STEP>(xc),
            ld_f32::<24, STEP>(xc),
            ld_f32::<28, STEP>(xc),
        ];
        for (w, a) in ws.iter().zip(acc.iter_mut()) {
            fma_step(a, weights_f32(&w[i]), &xv);
        }
    }
    let sums = reduce8x4_rows(&acc);
    for (r, (o, row)) in out.iter_mut().zip(rows).enumerate() {
        *o = leftovers_f32(lane(sums, r), &row[4 * np..], &x[np..]);
    }
}

/// The reference's leftover loop: while at least 8 remain, 8 rounded products added in
/// order; then 4 if at least 4 remain; then one FMA per element.
#[target_feature(enable = "neon")]
#[inline]
fn leftovers_f32(mut sum: f32, w: &[u8], x: &[f32]) -> f32 {
    let (w, _) = w.as_chunks::<4>();
    let added = x.len() - x.len() % 4;
    for (k, (b, &x)) in w.iter().zip(x).enumerate() {
        let w = f32::from_le_bytes(*b);
        if k < added {
            sum += w * x;
        } else {
            sum = fma1(w, x, sum);
        }
    }
    sum
}

/// Up to two f16 rows.
#[target_feature(enable = "neon")]
#[inline]
fn f16_group<const N: usize>(rows: [&[u8]; N], x: &[f16], out: &mut [f32; N]) {
    let (xs, _) = x.as_chunks::<STEP>();
    let np = xs.len() * STEP;
    let ws = rows.map(|r| &r.as_chunks::<{ 2 * STEP }>().0[..xs.len()]);
    let mut acc = [[[vdupq_n_f32(0.0); 2]; 4]; N];
    for (i, xc) in xs.iter().enumerate() {
        let h = [
            ld_f16::<0, STEP>(xc),
            ld_f16::<8, STEP>(xc),
            ld_f16::<16, STEP>(xc),
            ld_f16::<24, STEP>(xc),
        ]
        .map(|h| f16x8_to_f32(h));
        let xv = [
            h[0][0], h[0][1], h[1][0], h[1][1], h[2][0], h[2][1], h[3][0], h[3][1],
        ];
        // The products of two f16 are exact in f32, so fusing them changes nothing.
        for (w, a) in ws.iter().zip(acc.iter_mut()) {
            fma_step(a, weights_f16(&w[i]), &xv);
        }
    }
    let sums = reduce8x4_rows(&acc);
    for (r, (o, row)) in out.iter_mut().zip(rows).enumerate() {
        let (w, _) = row[2 * np..].as_chunks::<2>();
        let mut sum = lane(sums, r) as f64;
        for (b, x) in w.iter().zip(&x[np..]) {
            let h = vset_lane_u16::<1>(x.to_bits(), vdup_n_u16(u16::from_le_bytes(*b)));
            let wx = f16x4_to_f32(h);
            let p = vgetq_lane_f32::<0>(wx) * vgetq_lane_f32::<1>(wx);
            sum += p as f64;
        }
        *o = sum as f32;
    }
}

/// F32 weight rows · f32 activations.
#[target_feature(enable = "neon")]
pub fn f32_rows(w: &[u8], x: &[f32], out: &mut [f32]) {
    for_row_groups!(4, w, x, out, f32_group);
}

/// F16 weight rows · f16 activations.
#[target_feature(enable = "neon")]
pub fn f16_rows(w: &[u8], x: &[f16], out: &mut [f32]) {
    for_row_groups!(2, w, x, out, f16_group);
}
