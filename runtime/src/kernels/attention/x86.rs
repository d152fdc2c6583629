//! AVX2+FMA+F16C versions. Only reachable through the AVX2 matvec table, which exists only
//! after run-time detection of those features.
//!
//! Every lane does the scalar reference's operations in the scalar reference's order; the
//! speed comes from running independent sums side by side: several keys and queries per
//! pass, the f64 leftovers of `ggml_vec_dot_f16` in the lanes of one register per key,
//! eight `expf`s per instruction sequence.

// Register arrays are indexed by ggml's register and lane numbers, as the scalar code is.
#![allow(clippy::needless_range_loop)]

use super::{AttnKernels, TILE};
use crate::kernels::x86::simd::prefetch;
use crate::quant::scalar::F32_STEP;
use core::arch::x86_64::*;
use core::mem::MaybeUninit;
use half::f16;

pub static AVX2: AttnKernels = AttnKernels {
    scores_f32: |k, s, q, n, o| {
        // SAFETY: this table is only handed out with the AVX2 matvec table, which
        // `Kernels::get` returns only when avx2, fma and f16c were detected (the AVX-512
        // table requires them too).
        unsafe { scores::<false>(k.as_ptr().cast(), k.len(), s, q, n, o) }
    },
    scores_f16: |k, s, q, n, o| {
        // SAFETY: as above.
        unsafe { scores::<true>(k.as_ptr().cast(), k.len(), s, q, n, o) }
    },
    values_f32: |v, s, w, o| {
        // SAFETY: as above.
        unsafe { values::<false>(v.as_ptr().cast(), v.len(), s, w, o) }
    },
    values_f16: |v, s, w, o| {
        // SAFETY: as above.
        unsafe { values::<true>(v.as_ptr().cast(), v.len(), s, w, o) }
    },
    softmax: |rows, scale, f16| {
        // SAFETY: as above.
        unsafe { softmax(rows, scale, f16) }
    },
    silu_mul: |g, u| {
        // SAFETY: as above.
        unsafe { silu_mul(g, u) }
    },
    rope_rotate: |x, hd, cs| {
        // SAFETY: as above.
        unsafe { rope_rotate(x, hd, cs) }
    },
    round_f16: |x| {
        // SAFETY: as above.
        unsafe { round_f16(x) }
    },
    to_f16: |s, d| {
        // SAFETY: as above.
        unsafe { to_f16(s, d) }
    },
};

/// 8 cache values starting at element `i` (f16 or f32 storage) as f32.
///
/// # Safety
/// `i + 8` elements must lie inside the buffer at `base`; AVX and F16C enabled in the
/// caller (this inlines into it).
#[inline(always)]
unsafe fn load8<const HALF: bool>(base: *const u8, i: usize) -> __m256 {
    // SAFETY: in bounds by the caller's contract; unaligned loads.
    unsafe {
        if HALF {
            _mm256_cvtph_ps(_mm_loadu_si128(base.add(2 * i).cast()))
        } else {
            _mm256_loadu_ps(base.add(4 * i).cast())
        }
    }
}

/// `[a low + a high | b low + b high]`: the first step of `reduce_f32x8x4`'s horizontal
/// part (`t_i = x_i + x_{i+4}`) for two registers.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn fold_halves(a: __m256, b: __m256) -> __m256 {
    _mm256_add_ps(
        _mm256_permute2f128_ps::<0x20>(a, b),
        _mm256_permute2f128_ps::<0x31>(a, b),
    )
}

/// The rest of `reduce_f32x8x4` for eight registers at once, from their
/// [`fold_halves`] `f01 = (v0, v1)`, `f23`, `f45`, `f67`: lane `l` of the result is the sum
/// of `v[2l]` for `l < 4`, of `v[2(l − 4) + 1]` for `l ≥ 4`, each `(t0 + t1) + (t2 + t3)`
/// as the scalar pairs them (two `hadd`s).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn reduce8(f01: __m256, f23: __m256, f45: __m256, f67: __m256) -> __m256 {
    _mm256_hadd_ps(_mm256_hadd_ps(f01, f23), _mm256_hadd_ps(f45, f67))
}

/// `hsum_float_8`: `t_i = x_i + x_{i+4}`, then `(t0 + t2) + (t1 + t3)`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn hsum8(x: __m256) -> f32 {
    let t = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps::<1>(x));
    let t = _mm_add_ps(t, _mm_movehl_ps(t, t));
    _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps::<1>(t, t)))
}

/// Keys per block of the scores kernel: eight independent leftover sums in flight.
const KB: usize = 8;
/// `S` for a number of 32-element steps known only at run time.
const ANY: usize = 0;

#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn scores<const HALF: bool>(
    base: *const u8,
    len: usize,
    stride: usize,
    q: &[&[f32]],
    n: usize,
    out: &mut [f32],
) {
    let m = q.len();
    assert!((1..=TILE).contains(&m), "1 to TILE queries");
    let hd = q[0].len();
    assert!(q.iter().all(|r| r.len() == hd), "queries of one length");
    assert!(out.len() >= m * n, "score rows too short");
    if n == 0 {
        return;
    }
    assert!((n - 1) * stride + hd <= len, "score rows outside the cache");
    // Two to four queries go as four (the last repeated, not stored).
    let mut qp = [q[0].as_ptr(); TILE];
    for (j, p) in qp.iter_mut().enumerate() {
        *p = q[j.min(m - 1)].as_ptr();
    }
    // SAFETY: bounds checked above; the features are enabled on this function.
    unsafe {
        match (hd / F32_STEP, m) {
            (_, 1) => scores_one::<HALF>(base, len, stride, qp[0], hd, n, out),
            (1, _) => scores_tile::<HALF, 1>(base, len, stride, &qp, hd, m, n, out),
            (2, _) => scores_tile::<HALF, 2>(base, len, stride, &qp, hd, m, n, out),
            _ => scores_tile::<HALF, ANY>(base, len, stride, &qp, hd, m, n, out),
        }
    }
}

/// `(a0 + a2) + (a1 + a3)` of ggml's four accumulators `a` for the main loop of one key
/// (row at element `row`) with query `q`: `S` steps of 32 elements (`steps` when
/// `S` is [`ANY`]), the key's values given in `k` when `S` is known.
///
/// # Safety
/// The key's and the query's first `32·steps` elements are readable.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn key_dot<const HALF: bool, const S: usize>(
    base: *const u8,
    row: usize,
    k: &[[__m256; 4]; 2],
    q: *const f32,
    steps: usize,
) -> __m256 {
    // SAFETY: loads within the key's and the query's first 32·steps elements.
    unsafe {
        let mut a = [_mm256_setzero_ps(); 4];
        if S == ANY {
            for s in 0..steps {
                for (r, a) in a.iter_mut().enumerate() {
                    let e = F32_STEP * s + 8 * r;
                    let kv = load8::<HALF>(base, row + e);
                    *a = _mm256_fmadd_ps(kv, _mm256_loadu_ps(q.add(e)), *a);
                }
            }
        } else {
            for (s, ks) in k.iter().enumerate().take(S) {
                for (r, a) in a.iter_mut().enumerate() {
                    let e = F32_STEP * s + 8 * r;
                    *a = _mm256_fmadd_ps(ks[r], _mm256_loadu_ps(q.add(e)), *a);
                }
            }
        }
        _mm256_add_ps(_mm256_add_ps(a[0], a[2]), _mm256_add_ps(a[1], a[3]))
    }
}

/// The main-loop sums of keys at elements `ra` and `rb` with the [`TILE`] queries `q`: the
/// low half of the result has key `ra`'s sums for queries 0..4, the high half key `rb`'s.
///
/// # Safety
/// As [`key_dot`], for both keys.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn pair_sums<const HALF: bool, const S: usize>(
    base: *const u8,
    ra: usize,
    rb: usize,
    q: &[*const f32; TILE],
    steps: usize,
) -> __m256 {
    // SAFETY: forwarded contract.
    unsafe {
        let mut ka = [[_mm256_setzero_ps(); 4]; 2];
        let mut kb = [[_mm256_setzero_ps(); 4]; 2];
        if S != ANY {
            for s in 0..S {
                for r in 0..4 {
                    ka[s][r] = load8::<HALF>(base, ra + F32_STEP * s + 8 * r);
                }
            }
        }
        let mut va = [_mm256_setzero_ps(); TILE];
        for j in 0..TILE {
            va[j] = key_dot::<HALF, S>(base, ra, &ka, q[j], steps);
        }
        if S != ANY {
            for s in 0..S {
                for r in 0..4 {
                    kb[s][r] = load8::<HALF>(base, rb + F32_STEP * s + 8 * r);
                }
            }
        }
        let mut f = [_mm256_setzero_ps(); TILE];
        for j in 0..TILE {
            f[j] = fold_halves(va[j], key_dot::<HALF, S>(base, rb, &kb, q[j], steps));
        }
        reduce8(f[0], f[1], f[2], f[3])
    }
}

/// [`scores`] for `S` steps of 32 (1, 2 or [`ANY`]) and [`TILE`] queries, the `m` real
/// ones first (2 to 4). Keys go in blocks of [`KB`]: the main-loop sums of a pair of
/// keys reduce together ([`pair_sums`]), giving per key a register whose lanes are the
/// queries; the leftovers are then added lane-wise (f64 for an f16 cache, f32 otherwise),
/// eight keys' sums in flight at once, each lane in the scalar order. Keys past `n` in the
/// last block repeat the last key and are not stored.
///
/// # Safety
/// As checked by [`scores`]: `n ≥ 1`, every key row inside the `len`-element cache, `q`
/// rows of `hd` values.
#[allow(clippy::too_many_arguments)]
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn scores_tile<const HALF: bool, const S: usize>(
    base: *const u8,
    len: usize,
    stride: usize,
    q: &[*const f32; TILE],
    hd: usize,
    m: usize,
    n: usize,
    out: &mut [f32],
) {
    let steps = hd / F32_STEP;
    let np = steps * F32_STEP;
    let rest = hd - np;
    let blocks4 = rest - rest % 4;
    // The queries' leftovers transposed: lane j of entry i is q[j][np + i].
    // Scratch is left uninitialised (zeroing it costs more than small tiles' work): entries
    // below `rest` are written before they are read, the others never read.
    let mut q64 = [[MaybeUninit::<f64>::uninit(); TILE]; F32_STEP];
    let mut q32 = [[MaybeUninit::<f32>::uninit(); TILE]; F32_STEP];
    for i in 0..rest {
        for j in 0..TILE {
            // SAFETY: np + i < hd, the length of every query.
            let v = unsafe { *q[j].add(np + i) };
            q64[i][j].write(v as f64);
            q32[i][j].write(v);
        }
    }
    // Per key of a block, its leftovers as f64 (rewritten for every block).
    let mut kl = [[MaybeUninit::<f64>::uninit(); F32_STEP]; KB];
    // The leftovers of a key at the very end of the cache, copied.
    let mut buf = [0u16; F32_STEP];
    let z = _mm_setzero_ps();
    let o = out.as_mut_ptr();
    let mut t0 = 0;
    while t0 < n {
        let kn = (n - t0).min(KB);
        let mut rows = [0usize; KB];
        for (k, r) in rows.iter_mut().enumerate() {
            *r = (t0 + k.min(kn - 1)) * stride;
        }
        // SAFETY: every row is a key below n (checked by the caller); q rows have hd values;
        // the scratch entries read (below rest) were written first.
        unsafe {
            // Main-loop sums, lanes = queries.
            let mut main = [z; KB];
            if steps > 0 {
                for p in 0..KB / 2 {
                    let r = pair_sums::<HALF, S>(base, rows[2 * p], rows[2 * p + 1], q, steps);
                    main[2 * p] = _mm256_castps256_ps128(r);
                    main[2 * p + 1] = _mm256_extractf128_ps::<1>(r);
                }
            }
            let mut res = [z; KB];
            if HALF {
                let mut acc = [_mm256_setzero_pd(); KB];
                for k in 0..KB {
                    acc[k] = _mm256_cvtps_pd(main[k]);
                }
                if rest > 0 {
                    // The keys' leftovers as f64 (exact): products with q are exact, so
                    // one fused add equals the scalar's f32 product added in f64.
                    for k in 0..KB {
                        let at = rows[k] + np;
                        let src: *const u16 = if at + F32_STEP <= len {
                            base.add(2 * at).cast()
                        } else {
                            core::ptr::copy_nonoverlapping(
                                base.add(2 * at).cast::<u16>(),
                                buf.as_mut_ptr(),
                                rest,
                            );
                            buf.as_ptr()
                        };
                        for c in 0..rest.div_ceil(8) {
                            let f = _mm256_cvtph_ps(_mm_loadu_si128(src.add(8 * c).cast()));
                            let d = kl[k].as_mut_ptr().cast::<f64>().add(8 * c);
                            _mm256_storeu_pd(d, _mm256_cvtps_pd(_mm256_castps256_ps128(f)));
                            _mm256_storeu_pd(
                                d.add(4),
                                _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(f)),
                            );
                        }
                    }
                    for i in 0..rest {
                        let qi = _mm256_loadu_pd(q64[i].as_ptr().cast());
                        for k in 0..KB {
                            let kv = _mm256_broadcast_sd(&*kl[k].as_ptr().add(i).cast());
                            acc[k] = _mm256_fmadd_pd(kv, qi, acc[k]);
                        }
                    }
                }
                for k in 0..KB {
                    res[k] = _mm256_cvtpd_ps(acc[k]);
                }
            } else {
                // ggml_vec_dot_f32's leftovers: rounded products added in order (blocks
                // of 8 and 4), then fused for the last 1–3.
                res = main;
                for i in 0..rest {
                    let qi = _mm_loadu_ps(q32[i].as_ptr().cast());
                    for k in 0..KB {
                        let kv = _mm_broadcast_ss(&*base.add(4 * (rows[k] + np + i)).cast::<f32>());
                        res[k] = if i < blocks4 {
                            _mm_add_ps(res[k], _mm_mul_ps(kv, qi))
                        } else {
                            _mm_fmadd_ps(kv, qi, res[k])
                        };
                    }
                }
            }
            // Stores at out[j·n + t0 + k] for j < m, k < kn, inside `out` (checked).
            if kn == KB {
                let lo = transpose4(res[0], res[1], res[2], res[3]);
                let hi = transpose4(res[4], res[5], res[6], res[7]);
                for j in 0..m {
                    _mm256_storeu_ps(o.add(j * n + t0), _mm256_set_m128(hi[j], lo[j]));
                }
            } else {
                let mut lanes = [[0.0f32; TILE]; KB];
                for k in 0..KB {
                    _mm_storeu_ps(lanes[k].as_mut_ptr(), res[k]);
                }
                for j in 0..m {
                    for (k, l) in lanes.iter().enumerate().take(kn) {
                        *o.add(j * n + t0 + k) = l[j];
                    }
                }
            }
        }
        t0 += KB;
    }
}

/// Keys per block of [`scores_one`]: four groups of four keys' leftover sums in flight.
const KB1: usize = 16;

/// [`scores`] for one query (generation): keys in the lanes. The main-loop sums of eight
/// keys reduce together; the leftovers of four keys are transposed so that each element
/// adds to the four keys' sums at once (f64 for an f16 cache, f32 otherwise), each lane in
/// the scalar order, four such groups in flight ([`one_block`]). Keys past `n` in the last
/// block repeat the last key and are not stored.
///
/// # Safety
/// As checked by [`scores`]: `n ≥ 1`, every key row inside the `len`-element cache, `q`
/// of `hd` values.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn scores_one<const HALF: bool>(
    base: *const u8,
    len: usize,
    stride: usize,
    q: *const f32,
    hd: usize,
    n: usize,
    out: &mut [f32],
) {
    let rest = hd % F32_STEP;
    // The leftovers of q as f64, for broadcasts.
    let mut q64 = [0.0f64; F32_STEP];
    for (i, v) in q64.iter_mut().enumerate().take(rest) {
        // SAFETY: hd − rest + i < hd.
        *v = unsafe { *q.add(hd - rest + i) } as f64;
    }
    let mut t0 = 0;
    while t0 < n {
        let kn = (n - t0).min(KB1);
        let mut rows = [0usize; KB1];
        for (k, r) in rows.iter_mut().enumerate() {
            *r = (t0 + k.min(kn - 1)) * stride;
        }
        // The keys two blocks ahead, a line at a time (the second block too at the start):
        // rows a stride apart defeat the hardware prefetcher, and in generation the weight
        // stream has evicted them from cache. One block ahead gained half as much.
        let size = if HALF { 2 } else { 4 };
        let from = if t0 == 0 { KB1 } else { t0 + 2 * KB1 };
        for k in from..(t0 + 3 * KB1).min(n) {
            let row = base.wrapping_add(k * stride * size);
            for at in (0..hd * size).step_by(64) {
                prefetch(row.wrapping_add(at));
            }
        }
        // SAFETY: every row is a key below n (checked by the caller); q has hd values.
        let res = unsafe {
            if kn > 8 {
                one_block::<HALF, 4>(base, len, &rows, q, &q64, hd)
            } else {
                one_block::<HALF, 2>(base, len, &rows, q, &q64, hd)
            }
        };
        let o = &mut out[t0..t0 + kn];
        for (g, r) in res.iter().enumerate().take(kn.div_ceil(4)) {
            let lanes = to_array4(*r);
            let o = &mut o[4 * g..(4 * g + 4).min(kn)];
            o.copy_from_slice(&lanes[..o.len()]);
        }
        t0 += KB1;
    }
}

/// The scores of the first `4·G` keys of `rows` (`G` = 2 or 4) for [`scores_one`].
///
/// # Safety
/// Every row's `hd` values lie in the `len`-element cache; `q` has `hd` values, `q64` its
/// leftovers as f64.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn one_block<const HALF: bool, const G: usize>(
    base: *const u8,
    len: usize,
    rows: &[usize; KB1],
    q: *const f32,
    q64: &[f64; F32_STEP],
    hd: usize,
) -> [__m128; KB1 / 4] {
    let steps = hd / F32_STEP;
    let np = steps * F32_STEP;
    let rest = hd - np;
    let blocks4 = rest - rest % 4;
    let none = [[_mm256_setzero_ps(); 4]; 2];
    // SAFETY: main-loop loads read the rows' first np values and q's; leftover loads past
    // the cache's end read only what is inside it.
    unsafe {
        let mut sums = [_mm_setzero_ps(); G];
        if steps > 0 {
            for h in 0..G / 2 {
                let mut f = [_mm256_setzero_ps(); 8];
                for k in 0..8 {
                    f[k] = key_dot::<HALF, ANY>(base, rows[8 * h + k], &none, q, steps);
                }
                let r = reduce8(
                    fold_halves(f[0], f[1]),
                    fold_halves(f[2], f[3]),
                    fold_halves(f[4], f[5]),
                    fold_halves(f[6], f[7]),
                );
                // [k0, k2, k4, k6, k1, k3, k5, k7] to key order.
                let idx = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
                let r = _mm256_permutevar8x32_ps(r, idx);
                sums[2 * h] = _mm256_castps256_ps128(r);
                sums[2 * h + 1] = _mm256_extractf128_ps::<1>(r);
            }
        }
        let mut wide = [_mm256_setzero_pd(); G];
        if HALF && rest > 0 {
            for g in 0..G {
                wide[g] = _mm256_cvtps_pd(sums[g]);
            }
        }
        for c in 0..rest.div_ceil(8) {
            let e0 = np + 8 * c;
            let count = (rest - 8 * c).min(8);
            let mut e = [[_mm_setzero_ps(); 8]; G];
            for g in 0..G {
                let mut p = [_mm256_setzero_ps(); 4];
                for (kk, p) in p.iter_mut().enumerate() {
                    let at = rows[4 * g + kk] + e0;
                    *p = if at + 8 <= len {
                        load8::<HALF>(base, at)
                    } else {
                        load8_part::<HALF>(base, len, at, (len - at) as isize)
                    };
                }
                // Lane kk of e[g][i]: element e0 + i of key 4g + kk.
                e[g] = transpose4x8(p);
            }
            for i in 0..count {
                if HALF {
                    // Exact products: the fused add is the scalar's f64 add.
                    let qi = _mm256_broadcast_sd(&q64[8 * c + i]);
                    for g in 0..G {
                        wide[g] = _mm256_fmadd_pd(_mm256_cvtps_pd(e[g][i]), qi, wide[g]);
                    }
                } else {
                    let qi = _mm_broadcast_ss(&*q.add(e0 + i));
                    for g in 0..G {
                        sums[g] = if 8 * c + i < blocks4 {
                            _mm_add_ps(sums[g], _mm_mul_ps(e[g][i], qi))
                        } else {
                            _mm_fmadd_ps(e[g][i], qi, sums[g])
                        };
                    }
                }
            }
        }
        if HALF && rest > 0 {
            for g in 0..G {
                sums[g] = _mm256_cvtpd_ps(wide[g]);
            }
        }
        let mut all = [_mm_setzero_ps(); KB1 / 4];
        all[..G].copy_from_slice(&sums);
        all
    }
}

/// Four rows of 8 to eight columns of 4: lane `k` of result `i` is `p[k][i]`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn transpose4x8(p: [__m256; 4]) -> [__m128; 8] {
    let (t0, t1) = (
        _mm256_unpacklo_ps(p[0], p[1]),
        _mm256_unpackhi_ps(p[0], p[1]),
    );
    let (t2, t3) = (
        _mm256_unpacklo_ps(p[2], p[3]),
        _mm256_unpackhi_ps(p[2], p[3]),
    );
    let u = [
        _mm256_shuffle_ps::<0x44>(t0, t2),
        _mm256_shuffle_ps::<0xee>(t0, t2),
        _mm256_shuffle_ps::<0x44>(t1, t3),
        _mm256_shuffle_ps::<0xee>(t1, t3),
    ];
    let mut e = [_mm_setzero_ps(); 8];
    for i in 0..4 {
        e[i] = _mm256_castps256_ps128(u[i]);
        e[i + 4] = _mm256_extractf128_ps::<1>(u[i]);
    }
    e
}

/// Rows `a, b, c, d` of a 4×4 matrix to its columns.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn transpose4(a: __m128, b: __m128, c: __m128, d: __m128) -> [__m128; 4] {
    let (ab_lo, cd_lo) = (_mm_unpacklo_ps(a, b), _mm_unpacklo_ps(c, d));
    let (ab_hi, cd_hi) = (_mm_unpackhi_ps(a, b), _mm_unpackhi_ps(c, d));
    [
        _mm_movelh_ps(ab_lo, cd_lo),
        _mm_movehl_ps(cd_lo, ab_lo),
        _mm_movelh_ps(ab_hi, cd_hi),
        _mm_movehl_ps(cd_hi, ab_hi),
    ]
}

#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn values<const HALF: bool>(
    base: *const u8,
    len: usize,
    stride: usize,
    w: &[&[f32]],
    out: &mut [&mut [f32]],
) {
    let m = w.len();
    assert!((1..=TILE).contains(&m) && out.len() == m, "1 to TILE rows");
    let dims = out[0].len();
    assert!(out.iter().all(|o| o.len() == dims), "outputs of one length");
    let nmax = w.iter().map(|w| w.len()).max().unwrap_or(0);
    assert!(
        dims == 0 || (dims - 1) * stride + nmax <= len,
        "value rows outside the cache"
    );
    // SAFETY: bounds checked above; the features are enabled on this function.
    unsafe {
        match m {
            1 => values_rows::<HALF, 1>(base, len, stride, w, out),
            2 => values_rows::<HALF, 2>(base, len, stride, w, out),
            3 => values_rows::<HALF, 3>(base, len, stride, w, out),
            _ => values_rows::<HALF, 4>(base, len, stride, w, out),
        }
    }
}

/// 8 values from element `i` whose first `rem` are wanted (`rem` ≤ 0: none, ≥ 8: all), the
/// others zero and, past the buffer's `len` elements, never read.
///
/// # Safety
/// Elements `i .. i + min(rem, 8)` lie inside the buffer at `base` of `len` elements.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn load8_part<const HALF: bool>(
    base: *const u8,
    len: usize,
    i: usize,
    rem: isize,
) -> __m256 {
    let k = rem.clamp(0, 8) as usize;
    let mask = tail_mask(k);
    // SAFETY: reads elements i..i + 8 only when they are inside the buffer; otherwise the
    // wanted k ones (f16: copied; f32: a masked load, which reads no masked lane).
    unsafe {
        if !HALF {
            return _mm256_maskload_ps(base.add(4 * i).cast(), mask);
        }
        let v = if i + 8 <= len {
            load8::<true>(base, i)
        } else {
            let mut buf = [0u16; 8];
            core::ptr::copy_nonoverlapping(base.add(2 * i).cast::<u16>(), buf.as_mut_ptr(), k);
            _mm256_cvtph_ps(_mm_loadu_si128(buf.as_ptr().cast()))
        };
        _mm256_and_ps(v, _mm256_castsi256_ps(mask))
    }
}

/// One weight row of [`values`]: its whole steps of 32 positions and its last, partial
/// step's weights zero-filled, with the lane masks of its positions.
struct Row {
    w: *const f32,
    steps: usize,
    partial: bool,
    /// Registers of the partial step holding some of the row's positions.
    regs: usize,
    last: [f32; F32_STEP],
    /// Lane masks (all-ones bits) of the partial step's positions, per register.
    mask: [[f32; 8]; 4],
}

impl Row {
    /// The lane mask of register `r` of the partial step.
    ///
    /// # Safety
    /// AVX enabled in the caller (this inlines into it).
    #[inline(always)]
    unsafe fn mask(&self, r: usize) -> __m256 {
        // SAFETY: an unaligned load of 8 floats from the array.
        unsafe { _mm256_loadu_ps(self.mask[r].as_ptr()) }
    }

    /// A row of no positions, to be [`Row::set`].
    const EMPTY: Row = Row {
        w: core::ptr::null(),
        steps: 0,
        partial: false,
        regs: 0,
        last: [0.0; F32_STEP],
        mask: [[0.0; 8]; 4],
    };

    /// Describe `w` (in place: the struct is a few hundred bytes).
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    fn set(&mut self, w: &[f32]) {
        self.w = w.as_ptr();
        self.steps = w.len() / F32_STEP;
        let tail = w.len() % F32_STEP;
        self.partial = tail != 0;
        self.regs = tail.div_ceil(8);
        for r in 0..4 {
            let mask = tail_mask(tail.saturating_sub(8 * r).min(8));
            // SAFETY: the mask covers elements below w.len() only; masked lanes are not read.
            let v =
                unsafe { _mm256_maskload_ps(w.as_ptr().add(self.steps * F32_STEP + 8 * r), mask) };
            self.last[8 * r..8 * r + 8].copy_from_slice(&to_array(v));
            self.mask[r] = to_array(_mm256_castsi256_ps(mask));
        }
    }
}

/// The lanes of a 128-bit register.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn to_array4(v: __m128) -> [f32; 4] {
    let mut a = [0.0f32; 4];
    // SAFETY: a store of 4 lanes into 4 floats.
    unsafe { _mm_storeu_ps(a.as_mut_ptr(), v) };
    a
}

/// The lanes of a register.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn to_array(v: __m256) -> [f32; 8] {
    let mut a = [0.0f32; 8];
    // SAFETY: a store of 8 lanes into 8 floats.
    unsafe { _mm256_storeu_ps(a.as_mut_ptr(), v) };
    a
}

/// [`values`] for `M` weight rows: dimension `d` of row `j` is a `vec_dot` of the cache
/// row `d` with `w[j]`, ggml's four accumulator registers holding positions `t mod 32` in
/// their lanes. Rows go in pairs that load each value register once; the last, partial
/// step of a row takes its positions masked (`0·0` past the row's length, as the scalar
/// padding adds). Eight dimensions' sums reduce together ([`reduce8`]).
///
/// # Safety
/// As checked by [`values`]: `(dims − 1)·stride + w[j].len() ≤ len` for every row.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn values_rows<const HALF: bool, const M: usize>(
    base: *const u8,
    len: usize,
    stride: usize,
    w: &[&[f32]],
    out: &mut [&mut [f32]],
) {
    let dims = out[0].len();
    let z = _mm256_setzero_ps();
    let mut rows = [Row::EMPTY; M];
    for (r, w) in rows.iter_mut().zip(w) {
        r.set(w);
    }
    let mut folded = [[z; 8]; M];
    for d0 in (0..dims).step_by(8) {
        let k = (dims - d0).min(8);
        for dd in 0..k {
            let at = (d0 + dd) * stride;
            let mut j = 0;
            while j < M {
                // SAFETY: forwarded contract (positions below each row's length).
                unsafe {
                    if j + 1 < M {
                        let (a, b) = dim_pair::<HALF>(base, len, at, &rows[j], &rows[j + 1]);
                        folded[j][dd] = a;
                        folded[j + 1][dd] = b;
                    } else {
                        folded[j][dd] = dim_pair::<HALF>(base, len, at, &rows[j], &rows[j]).0;
                    }
                }
                j += 2;
            }
        }
        for j in 0..M {
            let f = &folded[j];
            let r = reduce8(
                fold_halves(f[0], f[1]),
                fold_halves(f[2], f[3]),
                fold_halves(f[4], f[5]),
                fold_halves(f[6], f[7]),
            );
            // [s0, s2, s4, s6, s1, s3, s5, s7] to dimension order.
            let r = _mm256_permutevar8x32_ps(r, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
            let o = out[j][d0..d0 + k].as_mut_ptr();
            if k == 8 {
                // SAFETY: 8 outputs from d0.
                unsafe { _mm256_storeu_ps(o, r) };
            } else {
                let mut lanes = [0.0f32; 8];
                // SAFETY: a local buffer of 8, then k ≤ 8 outputs from d0.
                unsafe {
                    _mm256_storeu_ps(lanes.as_mut_ptr(), r);
                    core::ptr::copy_nonoverlapping(lanes.as_ptr(), o, k);
                }
            }
        }
    }
}

/// The [`values`] sums of cache row `at` with weight rows `a` and `b`, each reduced to
/// `(acc0 + acc2) + (acc1 + acc3)`: their common whole steps load the values once.
///
/// # Safety
/// Both rows' positions lie in the cache row at `at` (`at + len(w) ≤ len`); AVX2, FMA and
/// F16C enabled in the caller (this inlines into it).
#[inline(always)]
unsafe fn dim_pair<const HALF: bool>(
    base: *const u8,
    len: usize,
    at: usize,
    a: &Row,
    b: &Row,
) -> (__m256, __m256) {
    // SAFETY: whole steps read positions below each row's length; the rest is
    // `dim_rest`'s contract.
    unsafe {
        let z = _mm256_setzero_ps();
        let (mut x, mut y) = ([z; 4], [z; 4]);
        let common = a.steps.min(b.steps);
        for s in 0..common {
            for r in 0..4 {
                let e = F32_STEP * s + 8 * r;
                let v = load8::<HALF>(base, at + e);
                x[r] = _mm256_fmadd_ps(v, _mm256_loadu_ps(a.w.add(e)), x[r]);
                y[r] = _mm256_fmadd_ps(v, _mm256_loadu_ps(b.w.add(e)), y[r]);
            }
        }
        if a.steps == b.steps && a.partial && b.partial {
            // Prompt rows one position apart: one partial step, loaded once.
            let e0 = F32_STEP * common;
            let whole = at + e0 + F32_STEP <= len;
            for r in 0..4 {
                if r < a.regs.max(b.regs) {
                    let v = load8_tail::<HALF>(base, len, at, e0 + 8 * r, whole);
                    let wa = _mm256_loadu_ps(a.last.as_ptr().add(8 * r));
                    let wb = _mm256_loadu_ps(b.last.as_ptr().add(8 * r));
                    x[r] = _mm256_fmadd_ps(_mm256_and_ps(v, a.mask(r)), wa, x[r]);
                    y[r] = _mm256_fmadd_ps(_mm256_and_ps(v, b.mask(r)), wb, y[r]);
                } else {
                    // All padding for both: 0·0 added.
                    x[r] = _mm256_add_ps(x[r], z);
                    y[r] = _mm256_add_ps(y[r], z);
                }
            }
        } else {
            dim_rest::<HALF>(base, len, at, a, common, &mut x);
            dim_rest::<HALF>(base, len, at, b, common, &mut y);
        }
        let fx = _mm256_add_ps(_mm256_add_ps(x[0], x[2]), _mm256_add_ps(x[1], x[3]));
        let fy = _mm256_add_ps(_mm256_add_ps(y[0], y[2]), _mm256_add_ps(y[1], y[3]));
        (fx, fy)
    }
}

/// Row `row`'s whole steps from `s0` on and its partial last step, into `acc`.
///
/// # Safety
/// As [`dim_pair`].
#[inline(always)]
unsafe fn dim_rest<const HALF: bool>(
    base: *const u8,
    len: usize,
    at: usize,
    row: &Row,
    s0: usize,
    acc: &mut [__m256; 4],
) {
    // SAFETY: whole steps read positions below the row's length; the partial step reads
    // whole registers only where the cache extends past them, else the wanted positions.
    unsafe {
        for s in s0..row.steps {
            for (r, a) in acc.iter_mut().enumerate() {
                let e = F32_STEP * s + 8 * r;
                let v = load8::<HALF>(base, at + e);
                *a = _mm256_fmadd_ps(v, _mm256_loadu_ps(row.w.add(e)), *a);
            }
        }
        if row.partial {
            let e0 = F32_STEP * row.steps;
            let whole = at + e0 + F32_STEP <= len;
            for (r, a) in acc.iter_mut().enumerate() {
                if r < row.regs {
                    let v = load8_tail::<HALF>(base, len, at, e0 + 8 * r, whole);
                    let v = _mm256_and_ps(v, row.mask(r));
                    let wv = _mm256_loadu_ps(row.last.as_ptr().add(8 * r));
                    *a = _mm256_fmadd_ps(v, wv, *a);
                } else {
                    // All padding: 0·0 added.
                    *a = _mm256_add_ps(*a, _mm256_setzero_ps());
                }
            }
        }
    }
}

/// The 8 values at `at + e` of a partial step: a plain load when the whole step lies in
/// the cache, else only the elements inside it (the rest zero).
///
/// # Safety
/// Element `at + e` lies in the `len`-element cache; if `whole`, so does `at + e + 8`.
#[inline(always)]
unsafe fn load8_tail<const HALF: bool>(
    base: *const u8,
    len: usize,
    at: usize,
    e: usize,
    whole: bool,
) -> __m256 {
    // SAFETY: forwarded contract.
    unsafe {
        if whole {
            load8::<HALF>(base, at + e)
        } else {
            load8_part::<HALF>(base, len, at + e, (len - at) as isize - e as isize)
        }
    }
}

/// ggml's `ggml_v_expf` (AVX2+FMA), lane for lane what [`crate::math::ggml_expf`] computes.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn expf8(x: __m256) -> __m256 {
    let c = |b: u32| _mm256_castsi256_ps(_mm256_set1_epi32(b as i32));
    let r = c(0x4b40_0000);
    let z = _mm256_fmadd_ps(x, c(0x3fb8_aa3b), r);
    let n = _mm256_sub_ps(z, r);
    let b = _mm256_fnmadd_ps(n, c(0x35bf_be8e), _mm256_fnmadd_ps(n, c(0x3f31_7200), x));
    let e = _mm256_slli_epi32::<23>(_mm256_castps_si256(z));
    let k = _mm256_castsi256_ps(_mm256_add_epi32(e, _mm256_set1_epi32(0x3f80_0000)));
    let u = _mm256_mul_ps(b, b);
    let j = _mm256_fmadd_ps(
        _mm256_fmadd_ps(
            _mm256_fmadd_ps(c(0x3c07_2010), b, c(0x3d2b_9f17)),
            u,
            _mm256_fmadd_ps(c(0x3e2a_af33), b, c(0x3eff_fedb)),
        ),
        u,
        _mm256_mul_ps(c(0x3f7f_fff6), b),
    );
    let normal = _mm256_fmadd_ps(j, k, k);
    let abs_n = _mm256_andnot_ps(_mm256_set1_ps(-0.0), n);
    // |n| > 126 (false for NaN): 2^n needs two factors.
    let big = _mm256_cmp_ps::<_CMP_GT_OQ>(abs_n, _mm256_set1_ps(126.0));
    if _mm256_movemask_ps(big) == 0 {
        return normal;
    }
    let g = _mm256_and_si256(
        _mm256_castps_si256(_mm256_cmp_ps::<_CMP_LE_OQ>(n, _mm256_setzero_ps())),
        _mm256_set1_epi32(0x8200_0000u32 as i32),
    );
    let s1 = _mm256_castsi256_ps(_mm256_add_epi32(g, _mm256_set1_epi32(0x7f00_0000)));
    let s2 = _mm256_castsi256_ps(_mm256_sub_epi32(e, g));
    let huge = _mm256_cmp_ps::<_CMP_GT_OQ>(abs_n, _mm256_set1_ps(192.0));
    let scaled = _mm256_mul_ps(_mm256_fmadd_ps(s2, j, s2), s1);
    let v = _mm256_blendv_ps(normal, scaled, big);
    _mm256_blendv_ps(v, _mm256_mul_ps(s1, s1), huge)
}

/// [`crate::kernels::silu_mul`]: blocks of 8 through [`expf8`], the `len % 8` tail through
/// the same scalar code (libm's `expf`).
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn silu_mul(gate: &mut [f32], up: &[f32]) {
    let n = gate.len().min(up.len());
    let vec_end = n - n % 8;
    let (g, u) = (gate.as_mut_ptr(), up.as_ptr());
    for i in (0..vec_end).step_by(8) {
        // SAFETY: i + 8 ≤ n ≤ both lengths.
        unsafe {
            let x = _mm256_loadu_ps(g.add(i));
            let e = expf8(_mm256_sub_ps(_mm256_setzero_ps(), x));
            let s = _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0), e));
            _mm256_storeu_ps(g.add(i), _mm256_mul_ps(s, _mm256_loadu_ps(u.add(i))));
        }
    }
    // The scalar tail: x / (1 + expf(−x)) with libm's expf, then the product.
    for (g, &u) in gate[vec_end..n].iter_mut().zip(&up[vec_end..n]) {
        *g = *g / (1.0 + crate::math::expf(-*g)) * u;
    }
}

/// Lanes `0..rem` set (`rem ≤ 8`): the mask of a partial group of eight.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn tail_mask(rem: usize) -> __m256i {
    _mm256_cmpgt_epi32(
        _mm256_set1_epi32(rem as i32),
        _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
    )
}

/// For each row: `x *= scale`, then [`crate::kernels::softmax`], then (with `f16`) the
/// weights rounded to f16, eight lanes at a time. The rows go through each pass together
/// (maxima, then exponentials and sums, then scaling), so their dependency chains overlap.
/// The scaled scores are recomputed rather than stored; a row's last partial group stays
/// in registers between the passes (one masked store).
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn softmax(rows: &mut [&mut [f32]], scale: f32, f16: bool) {
    for chunk in rows.chunks_mut(TILE) {
        // SAFETY: forwarded.
        unsafe { softmax_rows(chunk, scale, f16) };
    }
}

/// [`softmax`] for up to [`TILE`] rows.
///
/// # Safety
/// AVX2, FMA and F16C available.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn softmax_rows(rows: &mut [&mut [f32]], scale: f32, f16: bool) {
    let vs = _mm256_set1_ps(scale);
    let z = _mm256_setzero_ps();
    let (mut vm, mut tail, mut et) = ([z; TILE], [z; TILE], [z; TILE]);
    let mut mask = [_mm256_setzero_si256(); TILE];
    let mut sum = [0.0f64; TILE];
    // SAFETY: full loads and stores inside each row's whole groups; the tail's are masked
    // to the row's last n % 8 elements.
    unsafe {
        for (j, x) in rows.iter().enumerate() {
            let (n, p) = (x.len(), x.as_ptr());
            let full = n - n % 8;
            mask[j] = tail_mask(n - full);
            // max_ps returns its second operand when the first is NaN: NaNs are skipped, as
            // f32::max skips them. The maximum does not depend on the order otherwise.
            let mut vmax = _mm256_set1_ps(f32::NEG_INFINITY);
            for i in (0..full).step_by(8) {
                vmax = _mm256_max_ps(_mm256_mul_ps(_mm256_loadu_ps(p.add(i)), vs), vmax);
            }
            tail[j] = _mm256_mul_ps(_mm256_maskload_ps(p.add(full), mask[j]), vs);
            let fmask = _mm256_castsi256_ps(mask[j]);
            vmax = _mm256_max_ps(_mm256_blendv_ps(vmax, tail[j], fmask), vmax);
            let m4 = _mm_max_ps(
                _mm256_castps256_ps128(vmax),
                _mm256_extractf128_ps::<1>(vmax),
            );
            let m2 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
            vm[j] = _mm256_set1_ps(_mm_cvtss_f32(_mm_max_ss(m2, _mm_shuffle_ps::<1>(m2, m2))));
        }
        for (j, x) in rows.iter_mut().enumerate() {
            let (n, p) = (x.len(), x.as_mut_ptr());
            let full = n - n % 8;
            for i in (0..full).step_by(8) {
                let v = _mm256_mul_ps(_mm256_loadu_ps(p.add(i)), vs);
                let e = expf8(_mm256_sub_ps(v, vm[j]));
                _mm256_storeu_ps(p.add(i), e);
                sum[j] += hsum8(e) as f64;
            }
            // The scalar's partial group sums as if zero-filled.
            let fmask = _mm256_castsi256_ps(mask[j]);
            et[j] = _mm256_and_ps(expf8(_mm256_sub_ps(tail[j], vm[j])), fmask);
            if full < n {
                sum[j] += hsum8(et[j]) as f64;
            }
        }
        for (j, x) in rows.iter_mut().enumerate() {
            let (n, p) = (x.len(), x.as_mut_ptr());
            let full = n - n % 8;
            let inv = _mm256_set1_ps((1.0 / sum[j]) as f32);
            let finish = |v: __m256| {
                let v = _mm256_mul_ps(v, inv);
                if f16 {
                    _mm256_cvtph_ps(cvt_ph(v))
                } else {
                    v
                }
            };
            for i in (0..full).step_by(8) {
                _mm256_storeu_ps(p.add(i), finish(_mm256_loadu_ps(p.add(i))));
            }
            if full < n {
                _mm256_maskstore_ps(p.add(full), mask[j], finish(et[j]));
            }
        }
    }
}

/// Eight f32 rounded to f16 (to nearest even, as `half` and the scalar code round).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn cvt_ph(x: __m256) -> __m128i {
    _mm256_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(x)
}

#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn round_f16(x: &mut [f32]) {
    let full = x.len() - x.len() % 8;
    let p = x.as_mut_ptr();
    for i in (0..full).step_by(8) {
        // SAFETY: i + 8 ≤ x.len().
        unsafe {
            let r = _mm256_cvtph_ps(cvt_ph(_mm256_loadu_ps(p.add(i))));
            _mm256_storeu_ps(p.add(i), r);
        }
    }
    if full < x.len() {
        let mask = tail_mask(x.len() - full);
        // SAFETY: masked to the elements full..len.
        unsafe {
            let r = _mm256_cvtph_ps(cvt_ph(_mm256_maskload_ps(p.add(full), mask)));
            _mm256_maskstore_ps(p.add(full), mask, r);
        }
    }
}

#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn to_f16(src: &[f32], dst: &mut [f16]) {
    let n = dst.len();
    assert!(src.len() >= n, "source shorter than destination");
    let full = n - n % 8;
    let (s, d) = (src.as_ptr(), dst.as_mut_ptr());
    for i in (0..full).step_by(8) {
        // SAFETY: i + 8 ≤ n ≤ both lengths.
        unsafe { _mm_storeu_si128(d.add(i).cast(), cvt_ph(_mm256_loadu_ps(s.add(i)))) };
    }
    if full < n {
        let mut buf = [0.0f32; 8];
        buf[..n - full].copy_from_slice(&src[full..n]);
        let mut h = [0u16; 8];
        // SAFETY: register operations and a store into a local buffer of 8.
        unsafe {
            let v = cvt_ph(_mm256_loadu_ps(buf.as_ptr()));
            _mm_storeu_si128(h.as_mut_ptr().cast(), v);
        }
        for (o, &b) in dst[full..].iter_mut().zip(&h) {
            *o = f16::from_bits(b);
        }
    }
}

/// [`crate::kernels::rope_rotate`] with FMA enabled, so each `fmaf` is one instruction
/// rather than a library call.
///
/// # Safety
/// The CPU must have AVX2, FMA and F16C.
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn rope_rotate(x: &mut [f32], head_dim: usize, cs: &[f32]) {
    crate::kernels::rope_rotate(x, head_dim, cs);
}
