//! Packed Q8_0 (sixteen rows interleaved, [`crate::quant::interleaved::pack_q8_0`]) with
//! AVX-512 VNNI.
//!
//! Lane `r` of every register is row `r` of the group. Load `m` of a block holds quants
//! `4m..4m+4` of each row, stored as `q + 128`; `vpdpbusd` started from `−128·Σy` of those
//! four activations leaves each row's exact sum for lane `m` of ggml's Q8_0 dot. So the eight
//! lane accumulators of sixteen rows are eight registers, each fused as
//! `acc = (d_w·d_x)·sum + acc` per block, and `hsum_float_8` of every row is seven vector
//! adds at the end: the scalar reference's bits, for every input (−128 included).

use super::simd::{bcast4, f16_to_f32, prefetch};
use crate::quant::interleaved::GROUP_ROWS;
use crate::quant::BlockQ8_0;
use core::arch::x86_64::*;
use core::mem::MaybeUninit;

/// Bytes per Q8_0 block.
const XS: usize = 34;
/// Bytes per group and block: sixteen f16 scales and sixteen rows of 32 quant bytes.
const GB: usize = 32 + 512;
/// Blocks per chunk of prepared activation data.
const CH: usize = 128;
/// How far ahead of the reads [`rows`] prefetches (as the packed Q4_0 kernel).
const AHEAD: usize = 512;
/// Positions per pass of the multi-position kernel (eight accumulators each).
const P: usize = 2;

/// A block's activation terms: `−128·Σy` over each lane's four activations, and `d_x`.
#[derive(Clone, Copy)]
struct Prep {
    neg: [i32; 8],
    d: f32,
}

/// The terms of a chunk's blocks. Left uninitialized past the blocks [`prepare`] wrote:
/// zeroing 4.5 KiB per call cost 12% of a stories260K prompt.
type Chunk = [MaybeUninit<Prep>; CH];

const UNSET: Chunk = [MaybeUninit::uninit(); CH];

/// Entries `0..xs.len()` of `chunk`, from the blocks of `xs`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
fn prepare(xs: &[BlockQ8_0], chunk: &mut Chunk) {
    for (e, xb) in chunk.iter_mut().zip(xs) {
        let neg = core::array::from_fn(|m| {
            -128 * xb.qs[4 * m..4 * m + 4]
                .iter()
                .map(|&q| i32::from(q))
                .sum::<i32>()
        });
        e.write(Prep {
            neg,
            d: f16_to_f32(xb.d.to_bits()),
        });
    }
}

/// Entry `j` of `chunk`.
///
/// # Safety
/// [`prepare`] wrote entry `j` (it was given more than `j` blocks).
#[inline(always)]
unsafe fn prep(chunk: &Chunk, j: usize) -> &Prep {
    // SAFETY: initialized, by the caller's contract.
    unsafe { chunk[j].assume_init_ref() }
}

/// `hsum_float_8` of each row: lane `r` of `acc[l]` is lane `l` of row `r`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
fn hsum_rows(acc: &[__m512; 8]) -> __m512 {
    let r: [__m512; 4] = core::array::from_fn(|i| _mm512_add_ps(acc[i], acc[i + 4]));
    _mm512_add_ps(_mm512_add_ps(r[0], r[2]), _mm512_add_ps(r[1], r[3]))
}

/// As `SCALAR.q8_0` on the unpacked rows: `out[r]` is row `r` dotted with `x`.
///
/// # Safety
/// The CPU has AVX2, FMA, F16C, AVX-512F/BW/VL and AVX-512 VNNI; `out.len()` is a nonzero
/// multiple of 16 and `w` holds `out.len() / 16` packed groups of `nb ≤ x.len()` blocks.
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
pub unsafe fn rows(w: &[u8], x: &[BlockQ8_0], out: &mut [f32]) {
    let groups = out.len() / GROUP_ROWS;
    let group_bytes = w.len() / groups;
    let nb = group_bytes / GB;
    let mut chunk = UNSET;
    let mut prepared = usize::MAX;
    for (g, o) in out.chunks_exact_mut(GROUP_ROWS).enumerate() {
        let start = w.as_ptr() as usize + g * group_bytes;
        let mut next = (start + AHEAD) & !63;
        let mut acc = [_mm512_setzero_ps(); 8];
        let mut c0 = 0;
        while c0 < nb {
            let cn = (nb - c0).min(CH);
            if prepared != c0 {
                prepare(&x[c0..c0 + cn], &mut chunk);
                prepared = c0;
            }
            let xp = x[c0..].as_ptr().cast::<u8>();
            for j in 0..cn {
                // Each line once, in address order, `AHEAD` bytes past the average read.
                let end = start + GB * (c0 + j + 1) + AHEAD;
                while next < end {
                    prefetch(next as *const u8);
                    next += 64;
                }
                // SAFETY: block `c0 + j` of group `g` (scales, then 512 quant bytes) and of
                // `x` are readable: the caller's bounds; `prepare` wrote entries `0..cn`.
                unsafe {
                    let e = prep(&chunk, j);
                    let sc = w.as_ptr().add(g * group_bytes + 32 * (c0 + j));
                    let qs = w.as_ptr().add(g * group_bytes + 32 * nb + 512 * (c0 + j));
                    let xq = xp.add(j * XS + 2);
                    let dw = _mm512_cvtph_ps(_mm256_loadu_si256(sc.cast()));
                    let d = _mm512_mul_ps(dw, _mm512_set1_ps(e.d));
                    for (m, a) in acc.iter_mut().enumerate() {
                        let q = _mm512_loadu_si512(qs.add(64 * m).cast());
                        let s = _mm512_dpbusd_epi32(
                            _mm512_set1_epi32(e.neg[m]),
                            q,
                            bcast4(xq.add(4 * m)),
                        );
                        *a = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(s), *a);
                    }
                }
            }
            c0 += cn;
        }
        // SAFETY: `o` is 16 writable floats.
        unsafe { _mm512_storeu_ps(o.as_mut_ptr(), hsum_rows(&acc)) };
    }
}

/// [`rows`] for positions `0..n`: `out[b·rows + r]` is row `r` dotted with position `b`'s
/// `nb` blocks at `x[b·x_stride..]`, `rows = out.len() / n`. A block's quants are loaded
/// once for two positions.
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
    let mut chunks = [UNSET; P];
    let mut b0 = 0;
    while b0 < n {
        let pn = (n - b0).min(P);
        let mut prepared = usize::MAX;
        for g in 0..groups {
            let mut acc = [[_mm512_setzero_ps(); 8]; P];
            let mut c0 = 0;
            while c0 < nb {
                let cn = (nb - c0).min(CH);
                if prepared != c0 {
                    for p in 0..pn {
                        let xs = &x[(b0 + p) * x_stride + c0..][..cn];
                        prepare(xs, &mut chunks[p]);
                    }
                    prepared = c0;
                }
                let xp: [*const u8; P] = core::array::from_fn(|p| {
                    x[(b0 + p.min(pn - 1)) * x_stride + c0..].as_ptr().cast()
                });
                let at = g * group_bytes;
                let grp = (
                    w[at + 32 * c0..].as_ptr(),
                    w[at + 32 * nb + 512 * c0..].as_ptr(),
                );
                // SAFETY: blocks `c0..c0+cn` of group `g` and of each position `b0 + p`,
                // `p < pn`, are readable: the caller's bounds; `prepare` wrote entries
                // `0..cn` of `chunks[p]`.
                unsafe {
                    match pn {
                        1 => run::<1>(grp, xp, cn, &chunks, &mut acc),
                        _ => run::<2>(grp, xp, cn, &chunks, &mut acc),
                    }
                }
                c0 += cn;
            }
            for (p, a) in acc.iter().enumerate().take(pn) {
                let o = &mut out[(b0 + p) * nrows + GROUP_ROWS * g..][..GROUP_ROWS];
                // SAFETY: `o` is 16 writable floats.
                unsafe { _mm512_storeu_ps(o.as_mut_ptr(), hsum_rows(a)) };
            }
        }
        b0 += pn;
    }
}

/// Blocks `0..cn` of a chunk whose scales and quants start at `grp`, × positions `0..N`
/// (their blocks at `xp[p]`), on top of `acc[p]`; `chunks[p]` as [`prepare`] made it.
///
/// # Safety
/// As [`rows_mm`]: `cn` blocks of the group (32 scale bytes, 512 quant bytes each) and of
/// each position `p < N` are readable; entries `0..cn` of `chunks[p]` are written.
#[inline]
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
unsafe fn run<const N: usize>(
    grp: (*const u8, *const u8),
    xp: [*const u8; P],
    cn: usize,
    chunks: &[Chunk; P],
    acc: &mut [[__m512; 8]; P],
) {
    let (sc, qs) = grp;
    for j in 0..cn {
        // SAFETY: block `j` of the group and of each position (the caller's bounds).
        unsafe {
            let dw = _mm512_cvtph_ps(_mm256_loadu_si256(sc.add(32 * j).cast()));
            let q: [__m512i; 8] =
                core::array::from_fn(|m| _mm512_loadu_si512(qs.add(512 * j + 64 * m).cast()));
            for p in 0..N {
                let xq = xp[p].add(j * XS + 2);
                let e = prep(&chunks[p], j);
                let d = _mm512_mul_ps(dw, _mm512_set1_ps(e.d));
                for (m, a) in acc[p].iter_mut().enumerate() {
                    let start = _mm512_set1_epi32(e.neg[m]);
                    let s = _mm512_dpbusd_epi32(start, q[m], bcast4(xq.add(4 * m)));
                    *a = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(s), *a);
                }
            }
        }
    }
}
