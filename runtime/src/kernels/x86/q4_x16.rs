//! Packed Q4_0 (sixteen rows interleaved, [`crate::quant::interleaved`]) with AVX-512 VNNI.
//!
//! Lane `r` of every 512-bit register is row `r` of the group: a 64-byte load holds four
//! quant bytes of each row, so a block's sixteen row sums are eight `vpdpbusd` against
//! broadcast activations, with no transpose, and the block's sixteen scales are one load.
//! A group is one sequential stream, prefetched line by line a fixed distance ahead.
//!
//! Sums are exact and each row keeps one accumulator fused block after block, so the
//! results are the scalar reference's repacked Q4_0 bits (`acc = sum·(d_w·d_x) + acc`).

use super::simd::{bcast4, f16_to_f32, prefetch};
use crate::quant::interleaved::GROUP_ROWS;
use crate::quant::BlockQ8_0;
use core::arch::x86_64::*;

/// Bytes per Q8_0 block.
const XS: usize = 34;
/// Bytes per group and block: sixteen f16 scales and sixteen rows of 16 quant bytes.
const GB: usize = 32 + 256;
/// Blocks per chunk of prepared activation data.
const CH: usize = 64;
/// How far ahead of the reads [`rows`] prefetches. Zen 4, stories110M Q4_0 (59 MiB read
/// per token), one thread: 185 t/s without, 385–430 with 256–2048 bytes; the hardware
/// prefetcher alone keeps too few lines in flight for one core.
const AHEAD: usize = 512;
/// Positions per register block of the multi-position kernel.
const P: usize = 8;

/// `−8·Σy` (the lane start that turns the unsigned nibbles into `n − 8`) and `d_x` of each
/// block in `xs`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
fn prepare(xs: &[BlockQ8_0], neg: &mut [i32; CH], xd: &mut [f32; CH]) {
    for ((c, d), xb) in neg.iter_mut().zip(xd.iter_mut()).zip(xs) {
        *c = -8 * xb.qs.iter().map(|&q| i32::from(q)).sum::<i32>();
        *d = f16_to_f32(xb.d.to_bits());
    }
}

/// The eight registers of one block of a group: low then high nibbles of each 64-byte
/// load, register `2m` = elements `4m..4m+4`, `2m + 1` = elements `16+4m..16+4m+4`.
///
/// # Safety
/// `q .. q + 256` is readable.
#[inline]
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
unsafe fn nibbles(q: *const u8) -> [__m512i; 8] {
    let low = _mm512_set1_epi8(0x0f);
    let mut v = [_mm512_setzero_si512(); 8];
    for m in 0..4 {
        // SAFETY: the caller guarantees 256 readable bytes.
        let z = unsafe { _mm512_loadu_si512(q.add(64 * m).cast()) };
        v[2 * m] = _mm512_and_si512(z, low);
        v[2 * m + 1] = _mm512_and_si512(_mm512_srli_epi16::<4>(z), low);
    }
    v
}

/// Byte offset in a block's activation quants of register `k` of [`nibbles`].
const X_AT: [usize; 8] = [0, 16, 4, 20, 8, 24, 12, 28];

/// As `SCALAR.q4_0_repacked` on the unpacked rows: `out[r]` is row `r` dotted with `x`.
///
/// # Safety
/// The CPU has AVX2, FMA, F16C, AVX-512F/BW/VL and AVX-512 VNNI; `out.len()` is a nonzero
/// multiple of 16 and `w` holds `out.len() / 16` packed groups of `nb ≤ x.len()` blocks.
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
pub unsafe fn rows(w: &[u8], x: &[BlockQ8_0], out: &mut [f32]) {
    let groups = out.len() / GROUP_ROWS;
    let group_bytes = w.len() / groups;
    let nb = group_bytes / GB;
    let mut neg = [0i32; CH];
    let mut xd = [0.0f32; CH];
    let mut c0 = 0;
    while c0 < nb {
        let cn = (nb - c0).min(CH);
        prepare(&x[c0..c0 + cn], &mut neg, &mut xd);
        let xp = x[c0..].as_ptr().cast::<u8>();
        for (g, o) in out.chunks_exact_mut(GROUP_ROWS).enumerate() {
            // SAFETY: group `g` is `group_bytes` bytes of `w`: `nb` scale rows of 32 bytes,
            // then `nb` quant blocks of 256; blocks `c0..c0+cn` of `x` are readable.
            unsafe {
                let sc = w.as_ptr().add(g * group_bytes + 32 * c0);
                let qs = w.as_ptr().add(g * group_bytes + 32 * nb + 256 * c0);
                let mut acc = if c0 == 0 {
                    _mm512_setzero_ps()
                } else {
                    _mm512_loadu_ps(o.as_ptr())
                };
                // Prefetch the stream `AHEAD` bytes ahead of its average read position,
                // each line once, in address order (past the group it runs into the next).
                let start = w.as_ptr() as usize + g * group_bytes;
                let mut next = (start + GB * c0 + AHEAD) & !63;
                for j in 0..cn {
                    let end = start + GB * (c0 + j + 1) + AHEAD;
                    while next < end {
                        prefetch(next as *const u8);
                        next += 64;
                    }
                    let v = nibbles(qs.add(256 * j));
                    let xq = xp.add(j * XS + 2);
                    let mut s0 = _mm512_set1_epi32(neg[j]);
                    let mut s1 = _mm512_setzero_si512();
                    for m in 0..4 {
                        s0 = _mm512_dpbusd_epi32(s0, v[2 * m], bcast4(xq.add(X_AT[2 * m])));
                        s1 = _mm512_dpbusd_epi32(s1, v[2 * m + 1], bcast4(xq.add(X_AT[2 * m + 1])));
                    }
                    let s = _mm512_add_epi32(s0, s1);
                    let dw = _mm512_cvtph_ps(_mm256_loadu_si256(sc.add(32 * j).cast()));
                    let d = _mm512_mul_ps(dw, _mm512_set1_ps(xd[j]));
                    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), d, acc);
                }
                _mm512_storeu_ps(o.as_mut_ptr(), acc);
            }
        }
        c0 += cn;
    }
}

/// [`rows`] for positions `0..n`: `out[b·rows + r]` is row `r` dotted with position `b`'s
/// `nb` blocks at `x[b·x_stride..]`, `rows = out.len() / n`. A block's nibbles are unpacked
/// once for up to eight positions.
///
/// # Safety
/// As [`rows`] for `rows = out.len() / n`; `n > 0`, `nb ≤ x_stride` and
/// `(n − 1)·x_stride + nb ≤ x.len()`.
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
pub unsafe fn rows_mm(w: &[u8], x: &[BlockQ8_0], x_stride: usize, n: usize, out: &mut [f32]) {
    let nrows = out.len() / n;
    let groups = nrows / GROUP_ROWS;
    let group_bytes = w.len() / groups;
    let nb = group_bytes / GB;
    let mut neg = [[0i32; CH]; P];
    let mut xd = [[0.0f32; CH]; P];
    let mut b0 = 0;
    while b0 < n {
        let pn = (n - b0).min(P);
        let mut c0 = 0;
        while c0 < nb {
            let cn = (nb - c0).min(CH);
            for p in 0..pn {
                let xs = &x[(b0 + p) * x_stride + c0..][..cn];
                prepare(xs, &mut neg[p], &mut xd[p]);
            }
            let xp = x[b0 * x_stride + c0..].as_ptr().cast::<u8>();
            for g in 0..groups {
                let at = |p: usize| (b0 + p) * nrows + GROUP_ROWS * g;
                let mut acc = [_mm512_setzero_ps(); P];
                if c0 > 0 {
                    for (p, a) in acc.iter_mut().enumerate().take(pn) {
                        // SAFETY: 16 floats of position `b0 + p`'s rows.
                        *a = unsafe { _mm512_loadu_ps(out[at(p)..][..GROUP_ROWS].as_ptr()) };
                    }
                }
                let grp = Group {
                    sc: w[g * group_bytes + 32 * c0..].as_ptr(),
                    qs: w[g * group_bytes + 32 * nb + 256 * c0..].as_ptr(),
                };
                let xs = x_stride * XS;
                // SAFETY: group `g` holds blocks `c0..c0+cn`; positions `b0..b0+pn` hold
                // blocks `c0..c0+cn` at `xp + p·xs` (the caller's bounds).
                unsafe {
                    match pn {
                        1 => block_run::<1>(grp, xp, xs, cn, &neg, &xd, &mut acc),
                        2 => block_run::<2>(grp, xp, xs, cn, &neg, &xd, &mut acc),
                        3 => block_run::<3>(grp, xp, xs, cn, &neg, &xd, &mut acc),
                        4 => block_run::<4>(grp, xp, xs, cn, &neg, &xd, &mut acc),
                        5 => block_run::<5>(grp, xp, xs, cn, &neg, &xd, &mut acc),
                        6 => block_run::<6>(grp, xp, xs, cn, &neg, &xd, &mut acc),
                        7 => block_run::<7>(grp, xp, xs, cn, &neg, &xd, &mut acc),
                        _ => block_run::<8>(grp, xp, xs, cn, &neg, &xd, &mut acc),
                    }
                }
                for (p, a) in acc.iter().enumerate().take(pn) {
                    // SAFETY: 16 writable floats of position `b0 + p`'s rows.
                    unsafe { _mm512_storeu_ps(out[at(p)..][..GROUP_ROWS].as_mut_ptr(), *a) };
                }
            }
            c0 += cn;
        }
        b0 += pn;
    }
}

/// A group's scales and quants from the first block of a chunk.
#[derive(Clone, Copy)]
struct Group {
    sc: *const u8,
    qs: *const u8,
}

/// Blocks `0..cn` of a chunk of group `grp` × positions `0..N` (at `xp + p·xs`) on top of
/// `acc[p]`; `neg[p][j]` and `xd[p][j]` as [`prepare`] made them.
///
/// # Safety
/// As [`rows_mm`]: `grp` has `cn` readable blocks and each position `p < N` `cn` blocks at
/// `xp + p·xs`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
unsafe fn block_run<const N: usize>(
    grp: Group,
    xp: *const u8,
    xs: usize,
    cn: usize,
    neg: &[[i32; CH]; P],
    xd: &[[f32; CH]; P],
    acc: &mut [__m512; P],
) {
    for j in 0..cn {
        // SAFETY: block `j` of the group and of each position (the caller's bounds).
        unsafe {
            let v = nibbles(grp.qs.add(256 * j));
            let dw = _mm512_cvtph_ps(_mm256_loadu_si256(grp.sc.add(32 * j).cast()));
            for p in 0..N {
                let xq = xp.add(p * xs + j * XS + 2);
                let mut s = _mm512_set1_epi32(neg[p][j]);
                for (k, vk) in v.iter().enumerate() {
                    s = _mm512_dpbusd_epi32(s, *vk, bcast4(xq.add(X_AT[k])));
                }
                let d = _mm512_mul_ps(dw, _mm512_set1_ps(xd[p][j]));
                acc[p] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), d, acc[p]);
            }
        }
    }
}
