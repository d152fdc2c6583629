//! Repacked Q4_0 over several positions with AVX-512 VNNI (`vpdpbusd` on 256-bit registers
//! through AVX-512VL, whose 32 registers hold eight positions' accumulators).
//!
//! The weights are transposed instead of the sums: for each block the nibbles of eight rows
//! are rearranged once so that register `k` holds elements `4k..4k+4` of every row (lane
//! `i` = row `r + i`). Each position then broadcasts four activations at a time and one
//! `vpdpbusd` per `k` builds the eight rows' block sums directly in their lanes, with no
//! per-position transpose. The sums are exact, so every (row, position) gets the row
//! kernel's bits: `acc = sum·(d_w·d_x) + acc`, fused, block after block.

use super::q4;
use super::simd::{f16_to_f32, f16x8_strided_full, hsum_float_8x4, load16, load32, prefetch};
use super::Rows;
use crate::quant::BlockQ8_0;
use core::arch::x86_64::*;

/// Bytes per Q4_0 block.
const BS: usize = 18;
/// Bytes per Q8_0 block.
const XS: usize = 34;
/// Positions per register block.
const P: usize = 8;
/// Blocks per chunk of prepared activation data.
const CH: usize = 64;
const _: () = assert!(CH.is_multiple_of(8));

/// As `SCALAR.q4_0_repacked` for each position: `out[b·rows + r]` is row `r` of `w` dotted
/// with position `b`'s `nb` blocks at `x[b·x_stride..]`, `rows = out.len() / n`.
///
/// # Safety
/// The CPU has AVX2, FMA, F16C, AVX-512F/BW/VL and AVX-512 VNNI;
/// `super::mm::blocks(w, rows, 18, x, x_stride, n) == Some(nb)`; `out.len()` is a multiple
/// of `n`.
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
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
    // Per position and block of the chunk: `−8·Σy` (the lane start that turns the unsigned
    // nibbles into `n − 8`) and `d_x`.
    let mut neg = [[0i32; CH]; P];
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
                        for ((c, d), xb) in neg[p].iter_mut().zip(xd[p].iter_mut()).zip(xs) {
                            *c = -8 * quant_sum(&xb.qs);
                            *d = f16_to_f32(xb.d.to_bits());
                        }
                    }
                }
                let xp = x[b0 * x_stride..].as_ptr().cast::<u8>();
                let xs = x_stride * XS;
                // SAFETY: rows `8g..8g+8` exist and hold `nb` blocks; positions
                // `b0..b0+pn` hold blocks `c0..c0+cn` (`blocks` checked them).
                unsafe {
                    match pn {
                        1 => x8::<1>(rows, 8 * g, xp, xs, c0, cn, &neg, &xd, &mut a),
                        2 => x8::<2>(rows, 8 * g, xp, xs, c0, cn, &neg, &xd, &mut a),
                        3 => x8::<3>(rows, 8 * g, xp, xs, c0, cn, &neg, &xd, &mut a),
                        4 => x8::<4>(rows, 8 * g, xp, xs, c0, cn, &neg, &xd, &mut a),
                        5 => x8::<5>(rows, 8 * g, xp, xs, c0, cn, &neg, &xd, &mut a),
                        6 => x8::<6>(rows, 8 * g, xp, xs, c0, cn, &neg, &xd, &mut a),
                        7 => x8::<7>(rows, 8 * g, xp, xs, c0, cn, &neg, &xd, &mut a),
                        _ => x8::<8>(rows, 8 * g, xp, xs, c0, cn, &neg, &xd, &mut a),
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

/// `Σ q` over a block's 32 activations: `vpsadbw` sums their biased bytes `q + 128`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
fn quant_sum(qs: &[i8; 32]) -> i32 {
    // SAFETY: `qs` is 32 readable bytes.
    let q = unsafe { _mm256_loadu_si256(qs.as_ptr().cast()) };
    let biased = _mm256_xor_si256(q, _mm256_set1_epi8(i8::MIN));
    let s = _mm256_sad_epu8(biased, _mm256_setzero_si256());
    let s = _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256::<1>(s));
    let s = _mm_add_epi64(s, _mm_unpackhi_epi64(s, s));
    _mm_cvtsi128_si32(s) - 32 * 128
}

/// Rows `r..r+8` × positions `0..N` (at `xp + p·xstride`), blocks `c0..c0+cn`, on top of
/// `acc[p]` (lane `i` = row `r + i`). `neg[p][j]` is `−8·Σy` and `xd[p][j]` is `d_x` of
/// block `c0 + j` of position `p`.
///
/// # Safety
/// As [`q4_0_repacked`]; rows `r..r+8` each hold `c0 + cn` blocks; each position `p < N`
/// has `c0 + cn` readable blocks at `xp + p·xstride`; `cn ≤ CH`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
#[allow(clippy::too_many_arguments)]
unsafe fn x8<const N: usize>(
    rows: Rows,
    r: usize,
    xp: *const u8,
    xstride: usize,
    c0: usize,
    cn: usize,
    neg: &[[i32; CH]; P],
    xd: &[[f32; CH]; P],
    acc: &mut [__m256; P],
) {
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
        // `v[i]` = `[row i | row i+4]` quant bytes; after the 4×4 transpose of i32 groups
        // within each half, `t[k]` lane `i` holds bytes `4k..4k+4` of row `r + i`.
        // SAFETY: block `b` of rows `r + i` and `r + i + 4`: 16 quant bytes each.
        let v: [__m256i; 4] = core::array::from_fn(|i| unsafe {
            _mm256_inserti128_si256::<1>(
                _mm256_castsi128_si256(load16(pr[i].add(o + 2))),
                load16(qr[i].add(o + 2)),
            )
        });
        let l0 = _mm256_unpacklo_epi32(v[0], v[1]);
        let h0 = _mm256_unpackhi_epi32(v[0], v[1]);
        let l1 = _mm256_unpacklo_epi32(v[2], v[3]);
        let h1 = _mm256_unpackhi_epi32(v[2], v[3]);
        let t = [
            _mm256_unpacklo_epi64(l0, l1),
            _mm256_unpackhi_epi64(l0, l1),
            _mm256_unpacklo_epi64(h0, h1),
            _mm256_unpackhi_epi64(h0, h1),
        ];
        // Elements `4k..4k+4` (low nibbles of bytes `4k..`) for k < 4, `4k..` of the high
        // nibbles (elements `16 + 4k..`) for k ≥ 4.
        let wk: [__m256i; 8] = core::array::from_fn(|k| {
            if k < 4 {
                _mm256_and_si256(t[k], low)
            } else {
                _mm256_and_si256(_mm256_srli_epi16::<4>(t[k - 4]), low)
            }
        });
        // SAFETY: block `b` of rows `r..r+8` (row `r + i` at `p0 + i·stride`).
        let wd = unsafe { f16x8_strided_full(p0.add(o), stride) };
        let mut s: [__m256i; N] = core::array::from_fn(|p| _mm256_set1_epi32(neg[p][j]));
        for (k, wk) in wk.iter().enumerate() {
            for (p, sp) in s.iter_mut().enumerate() {
                let at = xp.wrapping_add(p * xstride + b * XS + 2 + 4 * k);
                // SAFETY: activations `4k..4k+4` of block `b` of position `p`.
                let y = _mm256_set1_epi32(unsafe { at.cast::<i32>().read_unaligned() });
                *sp = _mm256_dpbusd_epi32(*sp, *wk, y);
            }
        }
        for (p, ap) in a.iter_mut().enumerate() {
            let dv = _mm256_mul_ps(wd, _mm256_set1_ps(xd[p][j]));
            *ap = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[p]), dv, *ap);
        }
    }
    acc[..N].copy_from_slice(&a);
}

/// Rows per register block of [`q8_0`].
const R8: usize = 4;
/// Positions per register block of [`q8_0`].
const P8: usize = 4;

/// As `SCALAR.q8_0` for each position (see `avx512::q8_0` for the sign flip that makes
/// every input exact, −128 included): `out[b·rows + r]` is row `r` of `w` dotted with
/// position `b`'s `nb` blocks at `x[b·x_stride..]`, `rows = out.len() / n`.
///
/// Four rows by four positions at a time. Per chunk of blocks, each position's lane starts
/// (`−128·Σ` of each four activations) and scales are prepared once for all row groups,
/// and each row group's products `d_w·d_x` (exact) eight blocks per multiply; each
/// (row, position, block) then costs one `vpdpbusd`, one conversion and one FMA that reads
/// its scale as a broadcast.
///
/// # Safety
/// As [`q4_0_repacked`], with `super::mm::blocks(w, rows, 34, x, x_stride, n) == Some(nb)`.
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
pub unsafe fn q8_0(
    w: &[u8],
    x: &[BlockQ8_0],
    x_stride: usize,
    n: usize,
    nb: usize,
    out: &mut [f32],
) {
    let nrows = out.len() / n;
    let rows = Rows::new(w, nrows);
    let flip = _mm256_set1_epi8(i8::MIN);
    let zero = _mm256_setzero_si256();
    let mut prep = Q8Prep {
        start: [[zero; CH]; P8],
        xd: [[0.0; CH]; P8],
        dd: [[[0.0; CH]; R8]; P8],
    };
    let mut b0 = 0;
    while b0 < n {
        let pn = (n - b0).min(P8);
        let mut r = 0;
        while r < nrows {
            let k = (nrows - r).min(R8);
            // A short last group repeats its last row.
            let p: [*const u8; R8] = core::array::from_fn(|i| rows.row(r + i.min(k - 1)));
            let mut acc = [[_mm256_setzero_ps(); R8]; P8];
            let mut c0 = 0;
            while c0 < nb {
                let cn = (nb - c0).min(CH);
                if r == 0 || nb > CH {
                    for q in 0..P8 {
                        // Positions past `pn` repeat the last one (their sums are dropped).
                        let xs = &x[(b0 + q.min(pn - 1)) * x_stride + c0..][..cn];
                        for (j, xb) in xs.iter().enumerate() {
                            // SAFETY: `xb.qs` is 32 readable bytes.
                            let y = unsafe { _mm256_loadu_si256(xb.qs.as_ptr().cast()) };
                            prep.start[q][j] =
                                _mm256_sub_epi32(zero, _mm256_dpbusd_epi32(zero, flip, y));
                            prep.xd[q][j] = f16_to_f32(xb.d.to_bits());
                        }
                    }
                }
                // SAFETY: rows `r..r+k` hold `c0 + cn` blocks.
                unsafe { prep.scales(p, c0, cn) };
                let xp = x[b0 * x_stride..].as_ptr().cast::<u8>();
                // SAFETY: rows `r..r+k` hold `nb` blocks; positions `b0..b0+pn` hold blocks
                // `c0..c0+cn`, `x_stride` blocks apart (`blocks` checked them).
                unsafe {
                    match pn {
                        1 => q8_x4::<1>(p, xp, x_stride * XS, c0, cn, &prep, &mut acc),
                        2 => q8_x4::<2>(p, xp, x_stride * XS, c0, cn, &prep, &mut acc),
                        3 => q8_x4::<3>(p, xp, x_stride * XS, c0, cn, &prep, &mut acc),
                        _ => q8_x4::<4>(p, xp, x_stride * XS, c0, cn, &prep, &mut acc),
                    }
                }
                c0 += cn;
            }
            for (q, a) in acc.iter().enumerate().take(pn) {
                let s = hsum_float_8x4(a[0], a[1], a[2], a[3]);
                let mut s4 = [0.0f32; 4];
                // SAFETY: `s4` is 4 writable floats.
                unsafe { _mm_storeu_ps(s4.as_mut_ptr(), s) };
                let at = (b0 + q) * nrows + r;
                // A whole group as one fixed-size copy (a variable one is a library call).
                match <&mut [f32; R8]>::try_from(&mut out[at..at + k]) {
                    Ok(o) => *o = s4,
                    Err(_) => out[at..at + k].copy_from_slice(&s4[..k]),
                }
            }
            r += k;
        }
        b0 += pn;
    }
}

/// The activation side of a chunk of blocks for a group of positions, and the scale
/// products of one row group with them.
struct Q8Prep {
    /// `start[q][j]`: lane starts `−128·Σ` of each four activations of block `j`.
    start: [[__m256i; CH]; P8],
    /// `xd[q][j]`: `d_x` of block `j` of position `q`.
    xd: [[f32; CH]; P8],
    /// `dd[q][i][j]`: `d_w·d_x` for row `i`, exact (a product of two f16).
    dd: [[[f32; CH]; R8]; P8],
}

impl Q8Prep {
    /// `dd` for the rows at `p`, blocks `c0..c0+cn`, eight blocks per step.
    ///
    /// # Safety
    /// Each `p[i]` holds `c0 + cn` blocks.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
    unsafe fn scales(&mut self, p: [*const u8; R8], c0: usize, cn: usize) {
        // `CH` is a multiple of 8, so whole groups of 8 stay inside the arrays; entries
        // past `cn` are never read.
        for j in (0..cn).step_by(8) {
            let m = (cn - j).min(8);
            for (i, &pi) in p.iter().enumerate() {
                // SAFETY: blocks `c0 + j..c0 + j + m` of row `i`, 34 bytes apart.
                let wd = unsafe { super::simd::f16x8_strided(pi.add((c0 + j) * XS), XS, m) };
                for q in 0..P8 {
                    // SAFETY: `j + 8 ≤ CH`: 8 floats inside `xd[q]` and `dd[q][i]`.
                    unsafe {
                        let xd = _mm256_loadu_ps(self.xd[q].as_ptr().add(j));
                        let dd = self.dd[q][i].as_mut_ptr().add(j);
                        _mm256_storeu_ps(dd, _mm256_mul_ps(wd, xd));
                    }
                }
            }
        }
    }
}

/// The four rows at `p` × positions `0..N` (at `xp + q·xstride`), blocks `c0..c0+cn`, into
/// the lane accumulators `acc[q][i]`, with `prep` holding blocks `c0..c0+cn` at `0..cn`.
///
/// # Safety
/// As [`q8_0`]; each `p[i]` holds `c0 + cn` blocks; each position `q < N` has `c0 + cn`
/// readable blocks at `xp + q·xstride`; `cn ≤ CH`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
unsafe fn q8_x4<const N: usize>(
    p: [*const u8; R8],
    xp: *const u8,
    xstride: usize,
    c0: usize,
    cn: usize,
    prep: &Q8Prep,
    acc: &mut [[__m256; R8]; P8],
) {
    let flip = _mm256_set1_epi8(i8::MIN);
    let mut a: [[__m256; R8]; N] = core::array::from_fn(|q| acc[q]);
    for j in 0..cn {
        let o = (c0 + j) * XS;
        // SAFETY: block `c0 + j` of every row: its 32 quants.
        let wq: [__m256i; R8] =
            core::array::from_fn(|i| unsafe { _mm256_xor_si256(load32(p[i].add(o + 2)), flip) });
        for (q, aq) in a.iter_mut().enumerate() {
            // SAFETY: block `c0 + j` of position `q`: its 32 quants.
            let y = unsafe { load32(xp.wrapping_add(q * xstride + o + 2)) };
            for (i, ai) in aq.iter_mut().enumerate() {
                let s = _mm256_dpbusd_epi32(prep.start[q][j], wq[i], y);
                let d = _mm256_set1_ps(prep.dd[q][i][j]);
                *ai = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), d, *ai);
            }
        }
    }
    acc[..N].copy_from_slice(&a);
}
