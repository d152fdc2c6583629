//! Quantized weight rows (Q4_0, Q8_0, Q6_K) · quantized activations.
//!
//! The drivers here are shared by both tables; only the integer primitives differ, in
//! [`neon`] (widening multiplies `SMULL`/`SMLAL` and pairwise adds, for the Cortex-A72) and
//! [`dotprod`] (`SDOT`). Integer block sums are exact, so the two give identical integers;
//! what must match the reference is which products each i32 lane sums (lane `l` of an
//! 8-lane block sum = elements `4l..4l+4`, which `SDOT` gives directly and the widening path
//! rebuilds with pairwise adds), and the float steps after that: one fused multiply-add per
//! lane per block, then the reference's horizontal sum.
//!
//! Q4_0 and Q8_0 rows are processed four at a time: the activation block, its scale and the
//! four weight scales are loaded and converted once per group, and the four rows' FMA chains
//! are independent. A Q6_K block row is long enough on its own, so those go one at a time.

use super::simd::{
    f16_bits, f16x4_to_f32, hsum8_rows, lane, ld_i16, ld_q, ld_s8, ld_u8, scales4, F32x8,
};
use crate::quant::{BlockQ8K, BlockQ8_0};
use core::arch::aarch64::*;

/// Rows per group.
const R: usize = 4;
/// Bytes of a Q4_0 / Q8_0 / Q6_K block.
const Q4_0_BYTES: usize = 18;
const Q8_0_BYTES: usize = 34;
const Q6_K_BYTES: usize = 210;

/// The first `nb` blocks of `BS` bytes of rows `first..first + N` (each `rb` bytes) of `w`.
/// The caller guarantees `(first + N)·rb <= w.len()` and `nb·BS <= rb`.
#[inline(always)]
fn row_blocks<const BS: usize, const N: usize>(
    w: &[u8],
    rb: usize,
    first: usize,
    nb: usize,
) -> [&[[u8; BS]]; N] {
    core::array::from_fn(|r| &w[(first + r) * rb..][..nb * BS].as_chunks::<BS>().0[..nb])
}

/// Runs `group` over every [`R`] consecutive rows of `w` and then over each row left, as
/// `(rows, activations, outputs)` with exactly `nb` blocks per row, `nb` being the number
/// of whole blocks in a row (`w.len() / out.len()` bytes) or of activation blocks, if fewer.
macro_rules! for_row_groups {
    ($bs:expr, $w:expr, $x:expr, $out:expr, |$rows:ident, $xs:ident, $o:ident| $group:expr) => {{
        let (w, x, out) = ($w, $x, $out);
        let Some(rb) = w.len().checked_div(out.len()) else {
            return;
        };
        let nb = (rb / $bs).min(x.len());
        let $xs = &x[..nb];
        let (groups, tail) = out.as_chunks_mut::<R>();
        let done = groups.len() * R;
        for (g, $o) in groups.iter_mut().enumerate() {
            let $rows = row_blocks::<{ $bs }, R>(w, rb, g * R, nb);
            $group;
        }
        for (t, o) in tail.iter_mut().enumerate() {
            let $o = core::array::from_mut(o);
            let $rows = row_blocks::<{ $bs }, 1>(w, rb, done + t, nb);
            $group;
        }
    }};
}

/// An activation block's quants.
#[target_feature(enable = "neon")]
#[inline]
fn q8_0_quants(xb: &BlockQ8_0) -> [int8x16_t; 2] {
    [ld_q::<0, 32>(&xb.qs), ld_q::<16, 32>(&xb.qs)]
}

/// An activation block's scale in every lane.
#[target_feature(enable = "neon")]
#[inline]
fn q8_0_scale(xb: &BlockQ8_0) -> float32x4_t {
    f16x4_to_f32(vdup_n_u16(xb.d.to_bits()))
}

/// A Q4_0 block's 32 quants, offset to −8..=7 (elements 0..16 are the low nibbles).
#[target_feature(enable = "neon")]
#[inline]
fn q4_0_weights(b: &[u8; Q4_0_BYTES]) -> [int8x16_t; 2] {
    let qs = ld_u8::<2, Q4_0_BYTES>(b);
    let eight = vdupq_n_s8(8);
    let lo = vreinterpretq_s8_u8(vandq_u8(qs, vdupq_n_u8(0x0f)));
    let hi = vreinterpretq_s8_u8(vshrq_n_u8::<4>(qs));
    [vsubq_s8(lo, eight), vsubq_s8(hi, eight)]
}

/// A Q8_0 block's 32 quants.
#[target_feature(enable = "neon")]
#[inline]
fn q8_0_weights(b: &[u8; Q8_0_BYTES]) -> [int8x16_t; 2] {
    [ld_s8::<2, Q8_0_BYTES>(b), ld_s8::<18, Q8_0_BYTES>(b)]
}

/// Up to [`R`] rows of 8-lane blocks (`ggml_vec_dot_q4_0_q8_0` / `_q8_0_q8_0` on x86):
/// `acc_l = fma(d_w·d_x, lane_l, acc_l)` per block, then `hsum_float_8`. `lanes` gives the
/// eight exact lane sums of a weight block against the activation quants.
#[target_feature(enable = "neon")]
#[inline]
fn plain_group<const BS: usize, const N: usize>(
    rows: [&[[u8; BS]]; N],
    x: &[BlockQ8_0],
    out: &mut [f32; N],
    lanes: &impl Fn(&[u8; BS], [int8x16_t; 2]) -> [int32x4_t; 2],
) {
    let rows = rows.map(|r| &r[..x.len()]);
    let mut acc: [F32x8; N] = [[vdupq_n_f32(0.0); 2]; N];
    for (b, xb) in x.iter().enumerate() {
        let xq = q8_0_quants(xb);
        // d_w·d_x, row r in lane r (exact: a product of two f16 values).
        let d = vmulq_f32(
            scales4(rows.map(|r| f16_bits::<0, BS>(&r[b]))),
            q8_0_scale(xb),
        );
        for (r, (row, a)) in rows.iter().zip(acc.iter_mut()).enumerate() {
            let s = lanes(&row[b], xq);
            let dr = lane(d, r);
            a[0] = vfmaq_n_f32(a[0], vcvtq_f32_s32(s[0]), dr);
            a[1] = vfmaq_n_f32(a[1], vcvtq_f32_s32(s[1]), dr);
        }
    }
    let sums = hsum8_rows(&acc);
    for (r, o) in out.iter_mut().enumerate() {
        *o = lane(sums, r);
    }
}

/// Up to [`R`] rows in the repacked-GEMV order: per row one accumulator,
/// `acc = fma(sum_block, d_w·d_x, acc)` block after block; row `r` in lane `r`. `sum` gives
/// four i32 lanes whose total is the block's integer dot.
#[target_feature(enable = "neon")]
#[inline]
fn repacked_group<const N: usize>(
    rows: [&[[u8; Q4_0_BYTES]]; N],
    x: &[BlockQ8_0],
    out: &mut [f32; N],
    sum: &impl Fn(&[u8; Q4_0_BYTES], [int8x16_t; 2]) -> int32x4_t,
) {
    let rows = rows.map(|r| &r[..x.len()]);
    let mut acc = vdupq_n_f32(0.0);
    for (b, xb) in x.iter().enumerate() {
        let xq = q8_0_quants(xb);
        let d = vmulq_f32(
            scales4(rows.map(|r| f16_bits::<0, Q4_0_BYTES>(&r[b]))),
            q8_0_scale(xb),
        );
        let p: [int32x4_t; 4] = core::array::from_fn(|r| match rows.get(r) {
            Some(row) => sum(&row[b], xq),
            None => vdupq_n_s32(0),
        });
        // [Σp0, Σp1, Σp2, Σp3]: exact block sums, |·| <= 32·8·128.
        let t = vpaddq_s32(vpaddq_s32(p[0], p[1]), vpaddq_s32(p[2], p[3]));
        acc = vfmaq_f32(acc, vcvtq_f32_s32(t), d);
    }
    for (r, o) in out.iter_mut().enumerate() {
        *o = lane(acc, r);
    }
}

/// Q6_K: the unsigned quants (0..63) of one 128-element half of a block, as eight vectors
/// of sixteen in element order (chunk `j` of 32 = vectors `2j`, `2j + 1`).
#[target_feature(enable = "neon")]
#[inline]
fn q6k_half(ql: [uint8x16_t; 4], qh: [uint8x16_t; 2]) -> [int8x16_t; 8] {
    let (m3, m30) = (vdupq_n_u8(0x03), vdupq_n_u8(0x30));
    let qh2 = qh.map(|v| vshrq_n_u8::<2>(v));
    let u = [
        // ql & 0xf | (qh & 3) << 4
        vsliq_n_u8::<4>(ql[0], vandq_u8(qh[0], m3)),
        vsliq_n_u8::<4>(ql[1], vandq_u8(qh[1], m3)),
        // ql[32..] & 0xf | ((qh >> 2) & 3) << 4
        vsliq_n_u8::<4>(ql[2], vandq_u8(qh2[0], m3)),
        vsliq_n_u8::<4>(ql[3], vandq_u8(qh2[1], m3)),
        // ql >> 4 | ((qh >> 4) & 3) << 4
        vsriq_n_u8::<4>(vandq_u8(qh[0], m30), ql[0]),
        vsriq_n_u8::<4>(vandq_u8(qh[1], m30), ql[1]),
        // ql[32..] >> 4 | (qh >> 6) << 4
        vsriq_n_u8::<4>(vandq_u8(qh2[0], m30), ql[2]),
        vsriq_n_u8::<4>(vandq_u8(qh2[1], m30), ql[3]),
    ];
    u.map(|v| vreinterpretq_s8_u8(v))
}

/// One row of Q6_K · Q8_K (`ggml_vec_dot_q6_K_q8_K` on x86): per block eight i32 lanes,
/// lane `l` = Σ over the eight chunks of `scale · (products 4l..4l+4 of the chunk)` with
/// unsigned quants, minus `32·(bsum[2l]·sc[2l] + bsum[2l+1]·sc[2l+1])`; fused into the
/// lane's accumulator with `d_x·d_w`; then `hsum_float_8`. `quads(u, x)` gives the eight
/// lane sums of one 32-element chunk of unsigned quants (|sum| <= 4·63·128, exact in i16).
///
/// One row at a time: a block row is long enough (~150 instructions) to keep the core busy,
/// and the per-row state then stays in registers.
#[target_feature(enable = "neon")]
#[inline]
fn q6k_row(
    row: &[[u8; Q6_K_BYTES]],
    x: &[BlockQ8K],
    quads: &impl Fn([int8x16_t; 2], [int8x16_t; 2]) -> int16x8_t,
) -> f32 {
    let mut acc: F32x8 = [vdupq_n_f32(0.0); 2];
    for (blk, xb) in row.iter().zip(x) {
        let dw = f16x4_to_f32(vdup_n_u16(f16_bits::<208, Q6_K_BYTES>(blk)));
        let d = xb.d * vgetq_lane_f32::<0>(dw);
        let (xq, _) = xb.qs.as_chunks::<128>();
        let (ql, _) = blk[..128].as_chunks::<64>();
        let (qh, _) = blk[128..192].as_chunks::<32>();
        let s8 = ld_s8::<192, Q6_K_BYTES>(blk);
        let s16 = [vmovl_s8(vget_low_s8(s8)), vmovl_high_s8(s8)];
        let mut isum = [vdupq_n_s32(0); 2];
        for h in 0..2 {
            let (ql, qh, xq) = (&ql[h], &qh[h], &xq[h]);
            let u = q6k_half(
                [
                    ld_u8::<0, 64>(ql),
                    ld_u8::<16, 64>(ql),
                    ld_u8::<32, 64>(ql),
                    ld_u8::<48, 64>(ql),
                ],
                [ld_u8::<0, 32>(qh), ld_u8::<16, 32>(qh)],
            );
            let xv = [
                ld_q::<0, 128>(xq),
                ld_q::<16, 128>(xq),
                ld_q::<32, 128>(xq),
                ld_q::<48, 128>(xq),
                ld_q::<64, 128>(xq),
                ld_q::<80, 128>(xq),
                ld_q::<96, 128>(xq),
                ld_q::<112, 128>(xq),
            ];
            let q =
                [0, 1, 2, 3].map(|j| quads([u[2 * j], u[2 * j + 1]], [xv[2 * j], xv[2 * j + 1]]));
            // Chunk j: lanes 0..4 scaled by group 2j, lanes 4..8 by group 2j + 1.
            let (s, [a, b]) = (s16[h], isum);
            let a = vmlal_laneq_s16::<0>(a, vget_low_s16(q[0]), s);
            let b = vmlal_high_laneq_s16::<1>(b, q[0], s);
            let a = vmlal_laneq_s16::<2>(a, vget_low_s16(q[1]), s);
            let b = vmlal_high_laneq_s16::<3>(b, q[1], s);
            let a = vmlal_laneq_s16::<4>(a, vget_low_s16(q[2]), s);
            let b = vmlal_high_laneq_s16::<5>(b, q[2], s);
            let a = vmlal_laneq_s16::<6>(a, vget_low_s16(q[3]), s);
            let b = vmlal_high_laneq_s16::<7>(b, q[3], s);
            isum = [a, b];
        }
        // Σ_g bsum[g]·sc[g] over the lane's two groups.
        let bs = [ld_i16::<0, 16>(&xb.bsums), ld_i16::<8, 16>(&xb.bsums)];
        let p = [
            vmull_s16(vget_low_s16(bs[0]), vget_low_s16(s16[0])),
            vmull_high_s16(bs[0], s16[0]),
            vmull_s16(vget_low_s16(bs[1]), vget_low_s16(s16[1])),
            vmull_high_s16(bs[1], s16[1]),
        ];
        let off = [vpaddq_s32(p[0], p[1]), vpaddq_s32(p[2], p[3])];
        for k in 0..2 {
            let s = vsubq_s32(isum[k], vshlq_n_s32::<5>(off[k]));
            acc[k] = vfmaq_n_f32(acc[k], vcvtq_f32_s32(s), d);
        }
    }
    lane(hsum8_rows(&[acc]), 0)
}

/// Q4_0 rows in `ggml_vec_dot_q4_0_q8_0`'s lanes.
#[target_feature(enable = "neon")]
#[inline]
fn q4_0_rows(
    w: &[u8],
    x: &[BlockQ8_0],
    out: &mut [f32],
    lanes: &impl Fn([int8x16_t; 2], [int8x16_t; 2]) -> [int32x4_t; 2],
) {
    let lanes = |b: &[u8; Q4_0_BYTES], xq| lanes(q4_0_weights(b), xq);
    for_row_groups!(Q4_0_BYTES, w, x, out, |rows, xs, o| plain_group(
        rows, xs, o, &lanes
    ));
}

/// Q4_0 rows in the repacked-GEMV order.
#[target_feature(enable = "neon")]
#[inline]
fn q4_0_repacked_rows(
    w: &[u8],
    x: &[BlockQ8_0],
    out: &mut [f32],
    sum: &impl Fn([int8x16_t; 2], [int8x16_t; 2]) -> int32x4_t,
) {
    let sum = |b: &[u8; Q4_0_BYTES], xq| sum(q4_0_weights(b), xq);
    for_row_groups!(Q4_0_BYTES, w, x, out, |rows, xs, o| repacked_group(
        rows, xs, o, &sum
    ));
}

/// Q8_0 rows in `ggml_vec_dot_q8_0_q8_0`'s lanes.
#[target_feature(enable = "neon")]
#[inline]
fn q8_0_rows(
    w: &[u8],
    x: &[BlockQ8_0],
    out: &mut [f32],
    lanes: &impl Fn([int8x16_t; 2], [int8x16_t; 2]) -> [int32x4_t; 2],
) {
    let lanes = |b: &[u8; Q8_0_BYTES], xq| lanes(q8_0_weights(b), xq);
    for_row_groups!(Q8_0_BYTES, w, x, out, |rows, xs, o| plain_group(
        rows, xs, o, &lanes
    ));
}

/// Q6_K rows.
#[target_feature(enable = "neon")]
#[inline]
fn q6_k_rows(
    w: &[u8],
    x: &[BlockQ8K],
    out: &mut [f32],
    quads: &impl Fn([int8x16_t; 2], [int8x16_t; 2]) -> int16x8_t,
) {
    let Some(rb) = w.len().checked_div(out.len()) else {
        return;
    };
    let nb = (rb / Q6_K_BYTES).min(x.len());
    let x = &x[..nb];
    for (r, o) in out.iter_mut().enumerate() {
        let [row] = row_blocks::<Q6_K_BYTES, 1>(w, rb, r, nb);
        *o = q6k_row(row, x, quads);
    }
}

/// The integer primitives without the dot-product extension (Cortex-A72): `SMULL` into
/// i16, pairwise adds to regroup the products into the reference's lanes.
pub mod neon {
    use super::*;

    /// Lane `l` = Σ products `4l..4l+4`, for any i8 values: the products are widened to i32
    /// before pairs are added, since two (−128)·(−128) overflow i16.
    #[target_feature(enable = "neon")]
    #[inline]
    fn lanes_i8(w: [int8x16_t; 2], x: [int8x16_t; 2]) -> [int32x4_t; 2] {
        [0, 1].map(|k| {
            let lo = vmull_s8(vget_low_s8(w[k]), vget_low_s8(x[k]));
            let hi = vmull_high_s8(w[k], x[k]);
            vpaddq_s32(vpaddlq_s16(lo), vpaddlq_s16(hi))
        })
    }

    /// The four-product sums of 32 products that each fit `|p| <= 8064`, in i16, element
    /// order (sums of four stay within ±32256).
    #[target_feature(enable = "neon")]
    #[inline]
    fn quads_i16(w: [int8x16_t; 2], x: [int8x16_t; 2]) -> int16x8_t {
        let p = [
            vmull_s8(vget_low_s8(w[0]), vget_low_s8(x[0])),
            vmull_high_s8(w[0], x[0]),
            vmull_s8(vget_low_s8(w[1]), vget_low_s8(x[1])),
            vmull_high_s8(w[1], x[1]),
        ];
        vpaddq_s16(vpaddq_s16(p[0], p[1]), vpaddq_s16(p[2], p[3]))
    }

    /// [`lanes_i8`] for Q4_0 weights (−8..=7): each lane's four products fit i16.
    #[target_feature(enable = "neon")]
    #[inline]
    fn lanes_q4(w: [int8x16_t; 2], x: [int8x16_t; 2]) -> [int32x4_t; 2] {
        let q = quads_i16(w, x);
        [vmovl_s16(vget_low_s16(q)), vmovl_high_s16(q)]
    }

    /// Four lanes totalling the block dot of Q4_0 weights: products accumulated in i16 by
    /// position (lane k: elements k, k+8, k+16, k+24, at most 4·8·128), then widened in pairs.
    #[target_feature(enable = "neon")]
    #[inline]
    fn sum_q4(w: [int8x16_t; 2], x: [int8x16_t; 2]) -> int32x4_t {
        let m = vmull_s8(vget_low_s8(w[0]), vget_low_s8(x[0]));
        let m = vmlal_high_s8(m, w[0], x[0]);
        let m = vmlal_s8(m, vget_low_s8(w[1]), vget_low_s8(x[1]));
        let m = vmlal_high_s8(m, w[1], x[1]);
        vpaddlq_s16(m)
    }

    #[target_feature(enable = "neon")]
    pub fn q4_0(w: &[u8], x: &[BlockQ8_0], out: &mut [f32]) {
        q4_0_rows(w, x, out, &|w, x| lanes_q4(w, x));
    }

    #[target_feature(enable = "neon")]
    pub fn q4_0_repacked(w: &[u8], x: &[BlockQ8_0], out: &mut [f32]) {
        q4_0_repacked_rows(w, x, out, &|w, x| sum_q4(w, x));
    }

    #[target_feature(enable = "neon")]
    pub fn q8_0(w: &[u8], x: &[BlockQ8_0], out: &mut [f32]) {
        q8_0_rows(w, x, out, &|w, x| lanes_i8(w, x));
    }

    #[target_feature(enable = "neon")]
    pub fn q6_k(w: &[u8], x: &[BlockQ8K], out: &mut [f32]) {
        q6_k_rows(w, x, out, &|u, x| quads_i16(u, x));
    }
}

/// The integer primitives with the dot-product extension (Cortex-A76): `SDOT` sums four
/// consecutive products per lane, exactly the reference's grouping.
pub mod dotprod {
    use super::*;
    use core::arch::asm;

    /// `acc + (Σ_(j<4) a[4l+j]·b[4l+j])_l` (`SDOT`; `vdotq_s32` is not stable in Rust).
    #[target_feature(enable = "neon,dotprod")]
    #[inline]
    fn sdot(acc: int32x4_t, a: int8x16_t, b: int8x16_t) -> int32x4_t {
        let mut acc = acc;
        // SAFETY: SDOT (FEAT_DotProd) is enabled for this function, so its callers run on a
        // CPU that has it; it only reads and writes the three registers named.
        unsafe {
            asm!(
                "sdot {acc:v}.4s, {a:v}.16b, {b:v}.16b",
                acc = inout(vreg) acc,
                a = in(vreg) a,
                b = in(vreg) b,
                options(pure, nomem, nostack, preserves_flags),
            )
        };
        acc
    }

    /// Lane `l` = Σ products `4l..4l+4`.
    #[target_feature(enable = "neon,dotprod")]
    #[inline]
    fn lanes(w: [int8x16_t; 2], x: [int8x16_t; 2]) -> [int32x4_t; 2] {
        let z = vdupq_n_s32(0);
        [sdot(z, w[0], x[0]), sdot(z, w[1], x[1])]
    }

    /// Four lanes totalling the block dot.
    #[target_feature(enable = "neon,dotprod")]
    #[inline]
    fn sum(w: [int8x16_t; 2], x: [int8x16_t; 2]) -> int32x4_t {
        sdot(sdot(vdupq_n_s32(0), w[0], x[0]), w[1], x[1])
    }

    /// Lane sums of a Q6_K chunk (unsigned quants), narrowed to i16 (they fit exactly).
    #[target_feature(enable = "neon,dotprod")]
    #[inline]
    fn quads_q6k(u: [int8x16_t; 2], x: [int8x16_t; 2]) -> int16x8_t {
        let p = lanes(u, x);
        // The low halves of the i32 lanes (UZP1): truncation, exact here.
        vuzp1q_s16(vreinterpretq_s16_s32(p[0]), vreinterpretq_s16_s32(p[1]))
    }

    #[target_feature(enable = "neon,dotprod")]
    pub fn q4_0(w: &[u8], x: &[BlockQ8_0], out: &mut [f32]) {
        q4_0_rows(w, x, out, &|w, x| lanes(w, x));
    }

    #[target_feature(enable = "neon,dotprod")]
    pub fn q4_0_repacked(w: &[u8], x: &[BlockQ8_0], out: &mut [f32]) {
        q4_0_repacked_rows(w, x, out, &|w, x| sum(w, x));
    }

    #[target_feature(enable = "neon,dotprod")]
    pub fn q8_0(w: &[u8], x: &[BlockQ8_0], out: &mut [f32]) {
        q8_0_rows(w, x, out, &|w, x| lanes(w, x));
    }

    #[target_feature(enable = "neon,dotprod")]
    pub fn q6_k(w: &[u8], x: &[BlockQ8K], out: &mut [f32]) {
        q6_k_rows(w, x, out, &|u, x| quads_q6k(u, x));
    }
}
