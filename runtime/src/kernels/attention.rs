//! Attention over the KV cache, the way llama.cpp's graph computes it without flash
//! attention: scores `K·q` are `vec_dot`s over `head_dim`, outputs `Vᵀ·w` are `vec_dot`s
//! over positions (V transposed). With an f16 cache the f32 operand (`q`, the weights) is
//! rounded to f16 first; callers pass it already rounded, as f32.
//!
//! One scalar reference and an AVX2 version that computes the same bits; [`AttnKernels`]
//! picks one for the session's kernel table.

use super::dispatch::Kernels;
use crate::math::f16_to_f32;
use crate::quant::scalar::{by_index, by_step, ggml_dot_f16, ggml_dot_f32, F32_STEP};
use half::f16;

/// Scores for `scores.len()` positions: `scores[t] = keys[t·stride ..][..q.len()] · q`.
pub type ScoresF32 = fn(keys: &[f32], stride: usize, q: &[f32], scores: &mut [f32]);
/// As [`ScoresF32`] over an f16 cache; `q` already rounded to f16 values.
pub type ScoresF16 = fn(keys: &[f16], stride: usize, q: &[f32], scores: &mut [f32]);
/// `out[d] = Σ_t w[t] · values[t·stride + d]`, over `w.len()` positions padded with zeros to
/// a whole `vec_dot` step (llama.cpp's KV view spans whole 256-cell blocks).
pub type ValuesF32 = fn(values: &[f32], stride: usize, w: &[f32], out: &mut [f32]);
/// As [`ValuesF32`] over an f16 cache; `w` already rounded to f16 values.
pub type ValuesF16 = fn(values: &[f16], stride: usize, w: &[f32], out: &mut [f32]);

/// One instruction set's attention kernels, and the element-wise ops around them.
pub struct AttnKernels {
    pub scores_f32: ScoresF32,
    pub scores_f16: ScoresF16,
    pub values_f32: ValuesF32,
    pub values_f16: ValuesF16,
    /// [`super::softmax`]: same bits, compiled for the instruction set.
    pub softmax: fn(&mut [f32]),
    /// [`super::silu_mul`]: same bits, compiled for the instruction set.
    pub silu_mul: fn(&mut [f32], &[f32]),
}

/// The scalar reference.
pub static SCALAR: AttnKernels = AttnKernels {
    scores_f32: |keys, stride, q, scores| {
        for (t, s) in scores.iter_mut().enumerate() {
            let k = &keys[t * stride..t * stride + q.len()];
            *s = ggml_dot_f32(q.len(), by_step(k, |v| v), by_step(q, |v| v));
        }
    },
    scores_f16: |keys, stride, q, scores| {
        for (t, s) in scores.iter_mut().enumerate() {
            let k = &keys[t * stride..t * stride + q.len()];
            *s = ggml_dot_f16(q.len(), by_step(k, f16_to_f32), by_step(q, |v| v));
        }
    },
    values_f32: |values, stride, w, out| {
        let n = w.len();
        let padded = n.div_ceil(F32_STEP) * F32_STEP;
        for (d, o) in out.iter_mut().enumerate() {
            let v = |t: usize| if t < n { values[t * stride + d] } else { 0.0 };
            let w = |t: usize| if t < n { w[t] } else { 0.0 };
            *o = ggml_dot_f32(padded, by_index(v), by_index(w));
        }
    },
    values_f16: |values, stride, w, out| {
        let n = w.len();
        let padded = n.div_ceil(F32_STEP) * F32_STEP;
        for (d, o) in out.iter_mut().enumerate() {
            let v = |t: usize| {
                if t < n {
                    f16_to_f32(values[t * stride + d])
                } else {
                    0.0
                }
            };
            let w = |t: usize| if t < n { w[t] } else { 0.0 };
            *o = ggml_dot_f16(padded, by_index(v), by_index(w));
        }
    },
    softmax: super::softmax,
    silu_mul: super::silu_mul,
};

impl AttnKernels {
    /// The attention kernels matching a matvec table (scalar where there is no native one).
    pub fn for_kernels(k: &Kernels) -> &'static AttnKernels {
        match k.backend {
            #[cfg(target_arch = "x86_64")]
            super::dispatch::Backend::Avx2 | super::dispatch::Backend::Avx512 => &x86::AVX2,
            _ => &SCALAR,
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! AVX2+FMA+F16C versions. Only reachable through the AVX2 matvec table, which exists
    //! only after run-time detection of those features.

    use super::{AttnKernels, F32_STEP};
    use crate::quant::scalar;
    use core::arch::x86_64::*;
    use half::f16;

    pub static AVX2: AttnKernels = AttnKernels {
        scores_f32: |k, s, q, o| {
            // SAFETY: this table is only handed out with the AVX2 matvec table, which
            // `Kernels::get` returns only when avx2, fma and f16c were detected (the AVX-512
            // table requires them too).
            unsafe { scores::<false>(k.as_ptr().cast(), k.len(), s, q, o) }
        },
        scores_f16: |k, s, q, o| {
            // SAFETY: as above.
            unsafe { scores::<true>(k.as_ptr().cast(), k.len(), s, q, o) }
        },
        values_f32: |v, s, w, o| {
            // SAFETY: as above.
            unsafe { values::<false>(v.as_ptr().cast(), v.len(), s, w, o) }
        },
        values_f16: |v, s, w, o| {
            // SAFETY: as above.
            unsafe { values::<true>(v.as_ptr().cast(), v.len(), s, w, o) }
        },
        softmax: |x| {
            // SAFETY: as above.
            unsafe { softmax_fma(x) }
        },
        silu_mul: |g, u| {
            // SAFETY: as above.
            unsafe { silu_mul_fma(g, u) }
        },
    };

    /// The scalar softmax with `mul_add` lowered to the FMA instruction: same bits, no
    /// library calls.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn softmax_fma(x: &mut [f32]) {
        crate::kernels::softmax_inline(x)
    }

    /// The scalar SwiGLU with `mul_add` lowered to the FMA instruction.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn silu_mul_fma(g: &mut [f32], u: &[f32]) {
        crate::kernels::silu_mul_inline(g, u)
    }

    /// 8 cache values starting at element `i` (f16 or f32 storage) as f32.
    ///
    /// # Safety
    /// `i + 8` elements must lie inside the buffer at `base`; AVX/F16C available.
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

    /// One element `i` of the cache as f32.
    ///
    /// # Safety
    /// Element `i` must lie inside the buffer at `base`.
    #[inline(always)]
    unsafe fn load1<const HALF: bool>(base: *const u8, i: usize) -> f32 {
        // SAFETY: in bounds by the caller's contract; unaligned reads.
        unsafe {
            if HALF {
                f16::from_bits(base.add(2 * i).cast::<u16>().read_unaligned()).to_f32()
            } else {
                base.add(4 * i).cast::<f32>().read_unaligned()
            }
        }
    }

    /// `reduce_f32x8x4`: `(a0 + a2) + (a1 + a3)`, high half onto low, two horizontal adds.
    #[inline(always)]
    unsafe fn reduce4(a: &[__m256; 4]) -> f32 {
        // SAFETY: register-only AVX operations; the caller runs with AVX enabled.
        unsafe {
            let v = _mm256_add_ps(_mm256_add_ps(a[0], a[2]), _mm256_add_ps(a[1], a[3]));
            let t = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
            let t = _mm_hadd_ps(t, t);
            _mm_cvtss_f32(_mm_hadd_ps(t, t))
        }
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn scores<const HALF: bool>(
        base: *const u8,
        len: usize,
        stride: usize,
        q: &[f32],
        out: &mut [f32],
    ) {
        let n = q.len();
        let np = n - n % F32_STEP;
        for (t, o) in out.iter_mut().enumerate() {
            let row = t * stride;
            assert!(row + n <= len, "score row outside the cache");
            // SAFETY: every load below reads elements row..row + n, checked above; q has n.
            unsafe {
                let mut acc = [_mm256_setzero_ps(); 4];
                for i in (0..np).step_by(F32_STEP) {
                    for (j, a) in acc.iter_mut().enumerate() {
                        let k = load8::<HALF>(base, row + i + 8 * j);
                        *a = _mm256_fmadd_ps(k, _mm256_loadu_ps(q.as_ptr().add(i + 8 * j)), *a);
                    }
                }
                let mut sum = reduce4(&acc);
                if HALF {
                    // ggml_vec_dot_f16's leftovers, summed in f64.
                    let mut s = sum as f64;
                    for (i, &qi) in q.iter().enumerate().skip(np) {
                        s += (load1::<HALF>(base, row + i) * qi) as f64;
                    }
                    sum = s as f32;
                } else {
                    // ggml_vec_dot_f32's compiled leftovers: blocks of 8 then 4 of rounded
                    // products added in order, then fused for the last 1–3.
                    let mut i = np;
                    while n - i >= 8 {
                        (i..i + 8).for_each(|e| sum += load1::<HALF>(base, row + e) * q[e]);
                        i += 8;
                    }
                    if n - i >= 4 {
                        (i..i + 4).for_each(|e| sum += load1::<HALF>(base, row + e) * q[e]);
                        i += 4;
                    }
                    (i..n).for_each(|e| {
                        sum = crate::math::fmaf(load1::<HALF>(base, row + e), q[e], sum)
                    });
                }
                *o = sum;
            }
        }
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn values<const HALF: bool>(
        base: *const u8,
        len: usize,
        stride: usize,
        w: &[f32],
        out: &mut [f32],
    ) {
        let n = w.len();
        let padded = n.div_ceil(F32_STEP) * F32_STEP;
        let dims = out.len();
        assert!(
            n == 0 || (n - 1) * stride + dims <= len,
            "value rows outside the cache"
        );
        let full = dims - dims % 8;
        // Eight output dimensions at a time; accumulator `r` (0..32) holds the positions
        // `t ≡ r (mod 32)`, register `r / 8`, lane `r % 8`, as the scalar `vec_dot` does.
        for d0 in (0..full).step_by(8) {
            // SAFETY: loads read elements t·stride + d0 .. + 8 for t < n, inside the cache
            // (checked above); positions past n add 0·0 without reading.
            unsafe {
                let mut acc = [_mm256_setzero_ps(); F32_STEP];
                for (t, &wt) in w.iter().enumerate() {
                    let r = t % F32_STEP;
                    let vv = load8::<HALF>(base, t * stride + d0);
                    acc[r] = _mm256_fmadd_ps(vv, _mm256_set1_ps(wt), acc[r]);
                }
                // Padding positions: 0·0 added, as the scalar sum does (keeps signed zeros).
                let zero = _mm256_setzero_ps();
                for t in n..padded {
                    let r = t % F32_STEP;
                    acc[r] = _mm256_fmadd_ps(zero, zero, acc[r]);
                }
                // reduce_f32x8x4 for eight dimensions at once.
                let x: [__m256; 8] = core::array::from_fn(|l| {
                    _mm256_add_ps(
                        _mm256_add_ps(acc[l], acc[16 + l]),
                        _mm256_add_ps(acc[8 + l], acc[24 + l]),
                    )
                });
                let t: [__m256; 4] = core::array::from_fn(|i| _mm256_add_ps(x[i], x[i + 4]));
                let r = _mm256_add_ps(_mm256_add_ps(t[0], t[1]), _mm256_add_ps(t[2], t[3]));
                _mm256_storeu_ps(out.as_mut_ptr().add(d0), r);
            }
        }
        for (d, o) in out.iter_mut().enumerate().skip(full) {
            let v = |t: usize| {
                if t < n {
                    // SAFETY: element t·stride + d < len for t < n (checked above).
                    unsafe { load1::<HALF>(base, t * stride + d) }
                } else {
                    0.0
                }
            };
            let w = |t: usize| if t < n { w[t] } else { 0.0 };
            *o = scalar::ggml_dot_f32(padded, scalar::by_index(v), scalar::by_index(w));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(seed: &mut u64) -> f32 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*seed >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 2.0
    }

    #[test]
    fn native_attention_equals_scalar_bit_for_bit() {
        let tables: [&AttnKernels; 2] = [&SCALAR, AttnKernels::for_kernels(Kernels::best())];
        let mut seed = 7;
        for &(hd, stride, n) in &[
            (16, 32, 1),
            (48, 288, 37),
            (64, 64, 100),
            (32, 128, 33),
            (80, 160, 5),
            (13, 13, 70),
        ] {
            let cache: std::vec::Vec<f32> = (0..stride * n + hd).map(|_| lcg(&mut seed)).collect();
            let cache16: std::vec::Vec<f16> = cache.iter().map(|&v| f16::from_f32(v)).collect();
            let q: std::vec::Vec<f32> = (0..hd).map(|_| lcg(&mut seed)).collect();
            let q16: std::vec::Vec<f32> = q.iter().map(|&v| f16::from_f32(v).to_f32()).collect();
            let w: std::vec::Vec<f32> = (0..n).map(|_| lcg(&mut seed).abs() / n as f32).collect();
            let w16: std::vec::Vec<f32> = w.iter().map(|&v| f16::from_f32(v).to_f32()).collect();
            let mut outs = [
                [
                    std::vec![0.0f32; n],
                    std::vec![0.0; n],
                    std::vec![0.0; hd],
                    std::vec![0.0; hd],
                ],
                [
                    std::vec![0.0f32; n],
                    std::vec![0.0; n],
                    std::vec![0.0; hd],
                    std::vec![0.0; hd],
                ],
            ];
            for (k, o) in tables.iter().zip(outs.iter_mut()) {
                (k.scores_f32)(&cache, stride, &q, &mut o[0]);
                (k.scores_f16)(&cache16, stride, &q16, &mut o[1]);
                (k.values_f32)(&cache, stride, &w, &mut o[2]);
                (k.values_f16)(&cache16, stride, &w16, &mut o[3]);
            }
            for (a, b) in outs[0].iter().zip(&outs[1]) {
                let bits = |v: &std::vec::Vec<f32>| {
                    v.iter().map(|x| x.to_bits()).collect::<std::vec::Vec<_>>()
                };
                assert_eq!(bits(a), bits(b), "hd {hd} stride {stride} n {n}");
            }
        }
    }
}
