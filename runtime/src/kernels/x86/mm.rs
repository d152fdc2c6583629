//! Several positions at once: each group of weight rows is unpacked into registers once per
//! block and dotted against up to four positions' activations.
//!
//! Every output is the single-position kernel's, bit for bit: the integer block sums are
//! exact whichever way they are formed, and each (row, position) keeps its own accumulator
//! with the same fused steps in the same block order.

use super::q4;
use super::simd::{f16_to_f32, f16x8_strided_full, load16, prefetch};
use super::Rows;
use crate::quant::BlockQ8_0;
use core::arch::x86_64::*;

/// Bytes per Q4_0 block.
const BS: usize = 18;
/// Bytes per Q8_0 block.
const XS: usize = 34;
/// Positions per register block.
const P: usize = 4;
/// Blocks per chunk of prepared activation data.
const CH: usize = 64;

/// The blocks per row that an `n`-position call over `w` (`rows` rows of blocks of `bs`
/// bytes) reads from each position, if `x` (positions `x_stride` blocks apart) holds them
/// all.
pub fn blocks(
    w: &[u8],
    rows: usize,
    bs: usize,
    x: &[BlockQ8_0],
    x_stride: usize,
    n: usize,
) -> Option<usize> {
    let nb = w.len().checked_div(rows)? / bs;
    (n > 0 && nb <= x_stride && (n - 1) * x_stride + nb <= x.len()).then_some(nb)
}

/// As `SCALAR.q4_0_repacked` for each position: `out[b·rows + r]` is row `r` of `w` dotted
/// with position `b`'s `nb` blocks at `x[b·x_stride..]`, `rows = out.len() / n`.
///
/// Eight rows at a time in [`q4::repacked`]'s arrangement (rows `i` and `i + 4` share a
/// register, four registers transposed into one i32 lane per row); the unpacked nibbles of
/// a block serve up to four positions, each with its own vector accumulator.
///
/// # Safety
/// The CPU has AVX2, FMA and F16C; `blocks(w, rows, 18, x, x_stride, n) == Some(nb)`;
/// `out.len()` is a multiple of `n`.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn q4_0_repacked(
    w: &[u8],
    x: &[BlockQ8_0],
    x_stride: usize,
    n: usize,
    nb: usize,
    out: &mut [f32],
) {
    let nrows = out.len() / n;
    let rows = Rows::new(w, nrows);
    let full = nrows - nrows % 8;
    let mut corr = [[0i32; CH]; P];
    let mut xd = [[0.0f32; CH]; P];
    let mut b0 = 0;
    while b0 < n {
        let pn = (n - b0).min(P);
        for g in 0..full / 8 {
            let mut c0 = 0;
            let mut a = [_mm256_setzero_ps(); P];
            while c0 < nb {
                let cn = (nb - c0).min(CH);
                if g == 0 || nb > CH {
                    for p in 0..pn {
                        let xs = &x[(b0 + p) * x_stride + c0..][..cn];
                        for ((c, d), xb) in corr[p].iter_mut().zip(xd[p].iter_mut()).zip(xs) {
                            *c = 8 * xb.qs.iter().map(|&q| i32::from(q)).sum::<i32>();
                            *d = f16_to_f32(xb.d.to_bits());
                        }
                    }
                }
                let xp = x[b0 * x_stride..].as_ptr().cast::<u8>();
                // SAFETY: rows `8g..8g+8` exist and hold `nb` blocks; positions
                // `b0..b0+pn` hold blocks `c0..c0+cn` (`blocks` checked them).
                unsafe {
                    match pn {
                        1 => x8::<1>(rows, 8 * g, xp, x_stride * XS, c0, cn, &corr, &xd, &mut a),
                        2 => x8::<2>(rows, 8 * g, xp, x_stride * XS, c0, cn, &corr, &xd, &mut a),
                        3 => x8::<3>(rows, 8 * g, xp, x_stride * XS, c0, cn, &corr, &xd, &mut a),
                        _ => x8::<4>(rows, 8 * g, xp, x_stride * XS, c0, cn, &corr, &xd, &mut a),
                    }
                }
                c0 += cn;
            }
            for (p, v) in a.iter().enumerate().take(pn) {
                let o = &mut out[(b0 + p) * nrows + 8 * g..][..8];
                // SAFETY: `o` is 8 writable floats.
                unsafe { _mm256_storeu_ps(o.as_mut_ptr(), *v) };
            }
        }
        b0 += pn;
    }
    if full < nrows {
        let tail = &w[full * rows.row_bytes..nrows * rows.row_bytes];
        for b in 0..n {
            let xs = &x[b * x_stride..][..nb];
            // SAFETY: the CPU has AVX2, FMA and F16C.
            unsafe { q4::repacked(tail, xs, &mut out[b * nrows + full..(b + 1) * nrows]) };
        }
    }
}

/// Rows `r..r+8` × positions `0..N` (at `xp + p·xstride`), blocks `c0..c0+cn`, on top of
/// `acc[p]` (lane `i` = row `r + i`). `corr[p][j]` is `8·Σy` and `xd[p][j]` is `d_x` of
/// block `c0 + j` of position `p`.
///
/// # Safety
/// The CPU has AVX2, FMA and F16C; rows `r..r+8` each hold `c0 + cn` blocks; each position
/// `p < N` has `c0 + cn` readable blocks at `xp + p·xstride`; `cn ≤ CH`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
#[allow(clippy::too_many_arguments)]
unsafe fn x8<const N: usize>(
    rows: Rows,
    r: usize,
    xp: *const u8,
    xstride: usize,
    c0: usize,
    cn: usize,
    corr: &[[i32; CH]; P],
    xd: &[[f32; CH]; P],
    acc: &mut [__m256; P],
) {
    let ones = _mm256_set1_epi16(1);
    let low = _mm256_set1_epi8(0x0f);
    let p0 = rows.row(r);
    let stride = rows.row_bytes;
    let pr: [*const u8; 4] = core::array::from_fn(|i| rows.row(r + i));
    let qr: [*const u8; 4] = core::array::from_fn(|i| rows.row(r + 4 + i));
    let ahead: [*const u8; 8] = core::array::from_fn(|i| rows.row(r + 8 + i));
    let mut a: [__m256; N] = core::array::from_fn(|p| acc[p]);
    for j in 0..cn {
        let b = c0 + j;
        let o = b * BS;
        if j % 2 == 0 {
            for q in ahead {
                prefetch(q.wrapping_add(o));
            }
        }
        // The nibbles of rows `i` and `i + 4`, as `[row i | row i+4]`, lows and highs.
        let lh: [(__m256i, __m256i); 4] = core::array::from_fn(|i| {
            // SAFETY: block `b` of rows `r + i` and `r + i + 4`: 16 quant bytes each.
            let v = unsafe {
                _mm256_inserti128_si256::<1>(
                    _mm256_castsi128_si256(load16(pr[i].add(o + 2))),
                    load16(qr[i].add(o + 2)),
                )
            };
            (
                _mm256_and_si256(v, low),
                _mm256_and_si256(_mm256_srli_epi16::<4>(v), low),
            )
        });
        // SAFETY: block `b` of rows `r..r+8` (row `r + i` at `p0 + i·stride`).
        let wd = unsafe { f16x8_strided_full(p0.add(o), stride) };
        for (p, ap) in a.iter_mut().enumerate() {
            let yb = xp.wrapping_add(p * xstride + b * XS);
            // SAFETY: block `b` of position `p`: its 32 quants, read as two halves.
            let (ylo, yhi) = unsafe {
                (
                    _mm256_broadcastsi128_si256(load16(yb.add(2))),
                    _mm256_broadcastsi128_si256(load16(yb.add(18))),
                )
            };
            let m: [__m256i; 4] = core::array::from_fn(|i| {
                // Four products of at most 15·128 each: within i16.
                let s = _mm256_add_epi16(
                    _mm256_maddubs_epi16(lh[i].0, ylo),
                    _mm256_maddubs_epi16(lh[i].1, yhi),
                );
                _mm256_madd_epi16(s, ones)
            });
            let t0 = _mm256_add_epi32(
                _mm256_unpacklo_epi32(m[0], m[1]),
                _mm256_unpackhi_epi32(m[0], m[1]),
            );
            let t1 = _mm256_add_epi32(
                _mm256_unpacklo_epi32(m[2], m[3]),
                _mm256_unpackhi_epi32(m[2], m[3]),
            );
            let sum =
                _mm256_add_epi32(_mm256_unpacklo_epi64(t0, t1), _mm256_unpackhi_epi64(t0, t1));
            let sum = _mm256_sub_epi32(sum, _mm256_set1_epi32(corr[p][j]));
            let dv = _mm256_mul_ps(wd, _mm256_set1_ps(xd[p][j]));
            *ap = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), dv, *ap);
        }
    }
    acc[..N].copy_from_slice(&a);
}
