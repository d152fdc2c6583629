//! F16 and F32 weights: `ggml_vec_dot_f16` / `ggml_vec_dot_f32`, two rows at a time.
//!
//! Element `i` of each 32-element step is fused into register `(i % 32) / 8`, lane `i % 8`;
//! the four registers are reduced with `reduce_f32x8x4`; the leftovers follow the scalar
//! reference (F16: products summed in f64; F32: blocks of 8, then 4, rounded products
//! added in order, then FMAs).

use super::simd::{fma1, load16, prefetch, reduce_f32x8x4};
use super::Rows;
use core::arch::x86_64::*;
use half::f16;

/// `GGML_F32_STEP`: four registers of eight lanes.
const STEP: usize = 32;
/// How many rows ahead the weights are prefetched.
const AHEAD: usize = 4;

/// As `SCALAR.f16`.
///
/// # Safety
/// The CPU has AVX2, FMA and F16C.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn rows_f16(w: &[u8], x: &[f16], out: &mut [f32]) {
    let rows = Rows::new(w, out.len());
    let n = x.len().min(rows.row_bytes / 2);
    let mut pairs = out.chunks_exact_mut(2);
    let mut r = 0;
    for o in &mut pairs {
        // SAFETY: rows `r`, `r + 1` exist and hold `n` f16 values; `n ≤ x.len()`.
        let s = unsafe {
            dot_f16::<2>(
                [rows.row(r), rows.row(r + 1)],
                x,
                n,
                rows.row(r + AHEAD),
                rows.row_bytes,
            )
        };
        o.copy_from_slice(&s);
        r += 2;
    }
    for o in pairs.into_remainder() {
        // SAFETY: as above, for row `r`.
        let [s] = unsafe { dot_f16::<1>([rows.row(r)], x, n, rows.row(r + AHEAD), rows.row_bytes) };
        *o = s;
    }
}

/// `R` rows' dots; the `R` rows from `ahead` (`row_bytes` apart) are prefetched.
///
/// # Safety
/// The CPU has AVX2, FMA and F16C; each `p[i]` is followed by `2·n` readable bytes;
/// `n ≤ x.len()`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn dot_f16<const R: usize>(
    p: [*const u8; R],
    x: &[f16],
    n: usize,
    ahead: *const u8,
    row_bytes: usize,
) -> [f32; R] {
    let np = n - n % STEP;
    let xp = x.as_ptr().cast::<u8>();
    let mut acc = [[_mm256_setzero_ps(); 4]; R];
    for i in (0..np).step_by(STEP) {
        for k in 0..R {
            prefetch(ahead.wrapping_add(k * row_bytes + 2 * i));
        }
        for j in 0..4 {
            let o = 2 * (i + 8 * j);
            // SAFETY: elements `i + 8j .. +8 ≤ np ≤ n` of `x`.
            let xv = _mm256_cvtph_ps(unsafe { load16(xp.add(o)) });
            for (a, &pr) in acc.iter_mut().zip(&p) {
                // SAFETY: the same elements of the row.
                let wv = _mm256_cvtph_ps(unsafe { load16(pr.add(o)) });
                a[j] = _mm256_fmadd_ps(wv, xv, a[j]);
            }
        }
    }
    core::array::from_fn(|i| {
        let mut sum = f64::from(reduce_f32x8x4(&acc[i]));
        for k in np..n {
            // SAFETY: element `k < n` of the row.
            let wk = f16::from_bits(unsafe { super::simd::u16_at(p[i].add(2 * k)) } as u16);
            let xk = x.get(k).copied().unwrap_or(f16::ZERO);
            sum += f64::from(wk.to_f32() * xk.to_f32());
        }
        sum as f32
    })
}

/// As `SCALAR.f32`.
///
/// # Safety
/// The CPU has AVX2, FMA and F16C.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn rows_f32(w: &[u8], x: &[f32], out: &mut [f32]) {
    let rows = Rows::new(w, out.len());
    let n = x.len().min(rows.row_bytes / 4);
    let mut pairs = out.chunks_exact_mut(2);
    let mut r = 0;
    for o in &mut pairs {
        // SAFETY: rows `r`, `r + 1` exist and hold `n` f32 values; `n ≤ x.len()`.
        let s = unsafe {
            dot_f32::<2>(
                [rows.row(r), rows.row(r + 1)],
                x,
                n,
                rows.row(r + AHEAD),
                rows.row_bytes,
            )
        };
        o.copy_from_slice(&s);
        r += 2;
    }
    for o in pairs.into_remainder() {
        // SAFETY: as above, for row `r`.
        let [s] = unsafe { dot_f32::<1>([rows.row(r)], x, n, rows.row(r + AHEAD), rows.row_bytes) };
        *o = s;
    }
}

/// `R` rows' dots; the `R` rows from `ahead` (`row_bytes` apart) are prefetched.
///
/// # Safety
/// The CPU has AVX2, FMA and F16C; each `p[i]` is followed by `4·n` readable bytes;
/// `n ≤ x.len()`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn dot_f32<const R: usize>(
    p: [*const u8; R],
    x: &[f32],
    n: usize,
    ahead: *const u8,
    row_bytes: usize,
) -> [f32; R] {
    let np = n - n % STEP;
    let xp = x.as_ptr();
    let mut acc = [[_mm256_setzero_ps(); 4]; R];
    for i in (0..np).step_by(STEP) {
        for k in 0..R {
            prefetch(ahead.wrapping_add(k * row_bytes + 4 * i));
            prefetch(ahead.wrapping_add(k * row_bytes + 4 * i + 64));
        }
        for j in 0..4 {
            let e = i + 8 * j;
            // SAFETY: elements `e .. e + 8 ≤ np ≤ n` of `x`.
            let xv = unsafe { _mm256_loadu_ps(xp.add(e)) };
            for (a, &pr) in acc.iter_mut().zip(&p) {
                // SAFETY: the same elements of the row.
                let wv = unsafe { _mm256_loadu_ps(pr.add(4 * e).cast()) };
                a[j] = _mm256_fmadd_ps(wv, xv, a[j]);
            }
        }
    }
    core::array::from_fn(|i| {
        // SAFETY: element `k < n` of the row.
        let wk = |k: usize| unsafe { p[i].add(4 * k).cast::<f32>().read_unaligned() };
        let xk = |k: usize| x.get(k).copied().unwrap_or(0.0);
        let mut sum = reduce_f32x8x4(&acc[i]);
        let mut k = np;
        while n - k >= 8 {
            for e in k..k + 8 {
                sum += wk(e) * xk(e);
            }
            k += 8;
        }
        if n - k >= 4 {
            for e in k..k + 4 {
                sum += wk(e) * xk(e);
            }
            k += 4;
        }
        for e in k..n {
            sum = fma1(wk(e), xk(e), sum);
        }
        sum
    })
}
