//! Q8_0 weights · Q8_0 activations in `ggml_vec_dot_q8_0_q8_0`'s lanes, four rows at a time.
//!
//! Per block, lane `l` holds the exact sum of products `4l..4l+4` and is fused into its
//! accumulator as `(d_w·d_x)·sum + acc`; each row ends with `hsum_float_8`.
//!
//! `vpmaddubsw` needs one unsigned operand, so one side's sign moves to the other. The main
//! path multiplies `|y|` (shared by the four rows) by `sign(w, y)`: exact unless a weight is
//! −128 (its negation wraps), which llama.cpp's quantizer never writes but a file could
//! hold. The smallest weight of each group of rows is tracked, and a group that holds a
//! −128 is recomputed as `|w| · sign(y, w)`, exact unless an activation is −128 (never made
//! by `quantize_q8_0`); if both occur, that group goes to the scalar kernel.

use super::simd::{f16_to_f32, f16x8_strided_full, hsum_float_8x4, load32, u16_at, Ahead};
use super::Rows;
use crate::kernels::dispatch::SCALAR;
use crate::quant::BlockQ8_0;
use core::arch::x86_64::*;

/// Bytes per Q8_0 block.
const BS: usize = 34;
/// Rows per group.
const R: usize = 4;
/// How many groups ahead the weights are prefetched.
const AHEAD: usize = 1;
/// Blocks per row up to which the activation scales are converted once per call.
const XD_CAP: usize = 256;

/// As `SCALAR.q8_0`.
///
/// # Safety
/// The CPU has AVX2, FMA and F16C.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn rows(w: &[u8], x: &[BlockQ8_0], out: &mut [f32]) {
    let rows = Rows::new(w, out.len());
    let nb = (rows.row_bytes / BS).min(x.len());
    // Whether an activation is −128, found out only if a group needs to know.
    let mut x_min: Option<bool> = None;
    // The activation scales as f32, once per call (rows up to `XD_CAP` blocks long).
    let mut xd = [0.0f32; XD_CAP];
    let xd = if nb <= XD_CAP {
        for (d, xb) in xd.iter_mut().zip(&x[..nb]) {
            *d = f16_to_f32(xb.d.to_bits());
        }
        Some(&xd[..nb])
    } else {
        None
    };
    let n = out.len();
    let mut r = 0;
    while r < n {
        let k = (n - r).min(R);
        let o = &mut out[r..r + k];
        let p: [*const u8; R] = core::array::from_fn(|i| rows.row(r + i.min(k - 1)));
        let ahead = Ahead::new(rows.row(r + AHEAD * R), R * rows.row_bytes, nb);
        // SAFETY: rows `r..r+k` exist and hold `nb ≤ x.len()` blocks (rows past `k` repeat
        // row `r + k − 1`).
        let (acc, w128) = unsafe { dot::<true>(p, x, xd, nb, ahead) };
        let acc = if !w128 {
            acc
        } else if !*x_min.get_or_insert_with(|| {
            // SAFETY: the caller's guarantee.
            unsafe { has_minus_128(&x[..nb]) }
        }) {
            // SAFETY: as above; no activation is −128.
            unsafe { dot::<false>(p, x, xd, nb, ahead).0 }
        } else {
            let rb = rows.row_bytes;
            (SCALAR.q8_0)(&w[r * rb..(r + k) * rb], x, o);
            r += k;
            continue;
        };
        let s = hsum_float_8x4(acc[0], acc[1], acc[2], acc[3]);
        let mut s4 = [0.0f32; 4];
        // SAFETY: `s4` is 4 writable floats.
        unsafe { _mm_storeu_ps(s4.as_mut_ptr(), s) };
        o.copy_from_slice(&s4[..k]);
        r += k;
    }
}

/// Whether any activation quant is −128.
///
/// # Safety
/// The CPU has AVX2, FMA and F16C.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn has_minus_128(x: &[BlockQ8_0]) -> bool {
    let m = _mm256_set1_epi8(i8::MIN);
    let mut hit = _mm256_setzero_si256();
    for b in x {
        // SAFETY: `b.qs` is 32 bytes.
        let q = unsafe { load32(b.qs.as_ptr().cast()) };
        hit = _mm256_or_si256(hit, _mm256_cmpeq_epi8(q, m));
    }
    _mm256_testz_si256(hit, hit) == 0
}

/// The lane accumulators of the four rows at `p`, and whether a weight is −128.
///
/// `SIGNS_ON_WEIGHTS` picks the operands of `vpmaddubsw`: `|y| · sign(w, y)` (exact unless
/// a weight is −128, which the second result reports) or `|w| · sign(y, w)` (exact unless
/// an activation is −128, which the caller rules out). `xd`, if given, holds the activation
/// scales as f32. `ahead` is stepped once per block.
///
/// # Safety
/// The CPU has AVX2, FMA and F16C; each `p[i]` is followed by `nb` readable blocks;
/// `nb ≤ x.len()`; `xd` has `nb` entries if given.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn dot<const SIGNS_ON_WEIGHTS: bool>(
    p: [*const u8; R],
    x: &[BlockQ8_0],
    xd: Option<&[f32]>,
    nb: usize,
    mut ahead: Ahead,
) -> ([__m256; R], bool) {
    let xp = x.as_ptr().cast::<u8>();
    let mut acc = [_mm256_setzero_ps(); R];
    let mut wmin = _mm256_set1_epi8(i8::MAX);
    let full = nb - nb % 8;
    for b0 in (0..full).step_by(8) {
        // Scales of eight blocks at once: `d_w·d_x` (exact, a product of two f16).
        let mut dd = [[0.0f32; 8]; R];
        // SAFETY: blocks `b0..b0+8` of `x` and of every row are readable.
        unsafe {
            let xd = match xd {
                Some(xd) => _mm256_loadu_ps(xd.as_ptr().add(b0)),
                None => f16x8_strided_full(xp.add(b0 * BS), BS),
            };
            for (d, &pr) in dd.iter_mut().zip(&p) {
                let wd = f16x8_strided_full(pr.add(b0 * BS), BS);
                _mm256_storeu_ps(d.as_mut_ptr(), _mm256_mul_ps(wd, xd));
            }
        }
        for j in 0..8 {
            ahead.step();
            // SAFETY: block `b0 + j < nb` of `x` and of every row.
            unsafe { block::<SIGNS_ON_WEIGHTS>(p, xp, b0 + j, &dd, j, &mut acc, &mut wmin) };
        }
    }
    for b in full..nb {
        ahead.step();
        // SAFETY: block `b < nb` of `x` and of every row: the scales.
        let dd = unsafe {
            let xd = match xd {
                Some(xd) => *xd.as_ptr().add(b),
                None => f16_to_f32(u16_at(xp.add(b * BS)) as u16),
            };
            core::array::from_fn(|i| [f16_to_f32(u16_at(p[i].add(b * BS)) as u16) * xd; 8])
        };
        // SAFETY: as above.
        unsafe { block::<SIGNS_ON_WEIGHTS>(p, xp, b, &dd, 0, &mut acc, &mut wmin) };
    }
    let hit = _mm256_cmpeq_epi8(wmin, _mm256_set1_epi8(i8::MIN));
    (acc, _mm256_testz_si256(hit, hit) == 0)
}

/// Block `b` of the four rows at `p` with scales `dd[i][j]` (`d_w·d_x` of row `i`) into
/// `acc`; `wmin` keeps the smallest weights seen (with `SIGNS_ON_WEIGHTS`).
///
/// # Safety
/// The CPU has AVX2, FMA and F16C; block `b` of `xp` (Q8_0 activations) and of each row is
/// readable.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn block<const SIGNS_ON_WEIGHTS: bool>(
    p: [*const u8; R],
    xp: *const u8,
    b: usize,
    dd: &[[f32; 8]; R],
    j: usize,
    acc: &mut [__m256; R],
    wmin: &mut __m256i,
) {
    let ones = _mm256_set1_epi16(1);
    let o = b * BS + 2;
    // SAFETY: block `b` of `x`: its 32 quants.
    let y = unsafe { load32(xp.add(o)) };
    let ay = _mm256_sign_epi8(y, y);
    for i in 0..R {
        // SAFETY: block `b` of row `i`: its 32 quants.
        let q = unsafe { load32(p[i].add(o)) };
        // Magnitudes (−128 reads as 128 unsigned) times the other side with the product's
        // sign; pairs stay within i16 (at most 2·128·127).
        let pr = if SIGNS_ON_WEIGHTS {
            *wmin = _mm256_min_epi8(*wmin, q);
            _mm256_maddubs_epi16(ay, _mm256_sign_epi8(q, y))
        } else {
            _mm256_maddubs_epi16(_mm256_sign_epi8(q, q), _mm256_sign_epi8(y, q))
        };
        let s = _mm256_cvtepi32_ps(_mm256_madd_epi16(pr, ones));
        // A broadcast from memory (a load, no shuffle).
        let d = _mm256_broadcast_ss(&dd[i][j & 7]);
        acc[i] = _mm256_fmadd_ps(d, s, acc[i]);
    }
}
