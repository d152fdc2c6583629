//! Attention over the KV cache, the way llama.cpp's graph computes it without flash
//! attention: scores `K·q` are `vec_dot`s over `head_dim`, outputs `Vᵀ·w` are `vec_dot`s
//! over positions (V transposed). With an f16 cache the f32 operand (`q`, the weights) is
//! rounded to f16 first; callers pass it already rounded, as f32.
//!
//! The kernels take up to [`TILE`] queries at once (prompt positions, and the query heads of
//! a GQA group, share the keys and values), each computed exactly as if alone.
//!
//! One scalar reference and an AVX2 version that computes the same bits; [`AttnKernels`]
//! picks one for the session's kernel table.

use super::dispatch::Kernels;
use crate::math::{f16_to_f32, f32_to_f16};
use crate::quant::scalar::{by_index, by_step, ggml_dot_f16, ggml_dot_f32, F32_STEP};
use half::f16;

/// Most queries one kernel call takes.
pub const TILE: usize = 4;

/// Scores of `q.len()` (1..=[`TILE`]) queries of one length `hd` against `n` keys:
/// `scores[j·n + t] = keys[t·stride ..][..hd] · q[j]`, in `ggml_vec_dot_f32` order.
pub type ScoresF32 = fn(keys: &[f32], stride: usize, q: &[&[f32]], n: usize, scores: &mut [f32]);
/// As [`ScoresF32`] over an f16 cache (`ggml_vec_dot_f16` order); `q` already rounded to f16
/// values.
pub type ScoresF16 = fn(keys: &[f16], stride: usize, q: &[&[f32]], n: usize, scores: &mut [f32]);
/// For each of `w.len()` (1..=[`TILE`]) weight rows, over values stored transposed (as
/// llama.cpp's V cache: dimension `d` of position `t` at `values[d·stride + t]`):
/// `out[j][d] = Σ_t w[j][t] · values[d·stride + t]` over `w[j].len()` positions, padded
/// with zeros to a whole `vec_dot` step (llama.cpp's KV view spans whole 256-cell blocks).
/// All `out[j]` have one length.
pub type ValuesF32 = fn(values: &[f32], stride: usize, w: &[&[f32]], out: &mut [&mut [f32]]);
/// As [`ValuesF32`] over an f16 cache; `w` already rounded to f16 values.
pub type ValuesF16 = fn(values: &[f16], stride: usize, w: &[&[f32]], out: &mut [&mut [f32]]);

/// One instruction set's attention kernels, and the element-wise ops around them.
pub struct AttnKernels {
    pub scores_f32: ScoresF32,
    pub scores_f16: ScoresF16,
    pub values_f32: ValuesF32,
    pub values_f16: ValuesF16,
    /// For each row: `x *= scale` (llama.cpp's `soft_max_ext` scale), then
    /// [`super::softmax`]; with `f16`, every weight then rounded to f16 (what an f16 value
    /// cache dots against).
    pub softmax: fn(rows: &mut [&mut [f32]], scale: f32, f16: bool),
    /// [`super::silu_mul`]: same bits, compiled for the instruction set.
    pub silu_mul: fn(&mut [f32], &[f32]),
    /// [`super::rope_rotate`]: same bits, compiled for the instruction set (one FMA
    /// instruction per `fmaf`).
    pub rope_rotate: fn(x: &mut [f32], head_dim: usize, cs: &[f32]),
    /// Every value rounded to the nearest f16 (ties to even), kept as f32.
    pub round_f16: fn(&mut [f32]),
    /// `dst[i] = f16(src[i])`, rounding to nearest even, for `i < dst.len() ≤ src.len()`.
    pub to_f16: fn(src: &[f32], dst: &mut [f16]),
}

/// The scalar reference.
pub static SCALAR: AttnKernels = AttnKernels {
    scores_f32: |keys, stride, q, n, scores| {
        for (qj, row) in q.iter().zip(scores.chunks_mut(n.max(1))) {
            for (t, s) in row[..n].iter_mut().enumerate() {
                let k = &keys[t * stride..t * stride + qj.len()];
                *s = ggml_dot_f32(qj.len(), by_step(k, |v| v), by_step(qj, |v| v));
            }
        }
    },
    scores_f16: |keys, stride, q, n, scores| {
        for (qj, row) in q.iter().zip(scores.chunks_mut(n.max(1))) {
            for (t, s) in row[..n].iter_mut().enumerate() {
                let k = &keys[t * stride..t * stride + qj.len()];
                *s = ggml_dot_f16(qj.len(), by_step(k, f16_to_f32), by_step(qj, |v| v));
            }
        }
    },
    values_f32: |values, stride, w, out| {
        for (w, out) in w.iter().zip(out.iter_mut()) {
            let n = w.len();
            let padded = n.div_ceil(F32_STEP) * F32_STEP;
            for (d, o) in out.iter_mut().enumerate() {
                let v = |t: usize| if t < n { values[d * stride + t] } else { 0.0 };
                let w = |t: usize| if t < n { w[t] } else { 0.0 };
                *o = ggml_dot_f32(padded, by_index(v), by_index(w));
            }
        }
    },
    values_f16: |values, stride, w, out| {
        for (w, out) in w.iter().zip(out.iter_mut()) {
            let n = w.len();
            let padded = n.div_ceil(F32_STEP) * F32_STEP;
            for (d, o) in out.iter_mut().enumerate() {
                let v = |t: usize| {
                    if t < n {
                        f16_to_f32(values[d * stride + t])
                    } else {
                        0.0
                    }
                };
                let w = |t: usize| if t < n { w[t] } else { 0.0 };
                *o = ggml_dot_f16(padded, by_index(v), by_index(w));
            }
        }
    },
    softmax: |rows, scale, f16| {
        for x in rows.iter_mut() {
            x.iter_mut().for_each(|v| *v *= scale);
            super::softmax(x);
            if f16 {
                x.iter_mut().for_each(|v| *v = f16_to_f32(f32_to_f16(*v)));
            }
        }
    },
    silu_mul: super::silu_mul,
    rope_rotate: super::rope_rotate,
    round_f16: |x| x.iter_mut().for_each(|v| *v = f16_to_f32(f32_to_f16(*v))),
    to_f16: |src, dst| {
        dst.iter_mut()
            .zip(src)
            .for_each(|(d, &s)| *d = f32_to_f16(s))
    },
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
mod x86;

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(seed: &mut u64) -> f32 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*seed >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 2.0
    }

    fn refs(v: &[std::vec::Vec<f32>]) -> std::vec::Vec<&[f32]> {
        v.iter().map(|r| r.as_slice()).collect()
    }

    #[test]
    fn native_attention_equals_scalar_bit_for_bit() {
        use std::vec::Vec;
        let tables: [&AttnKernels; 2] = [&SCALAR, AttnKernels::for_kernels(Kernels::best())];
        let mut seed = 7;
        for &(hd, stride, n, m) in &[
            (16, 32, 1, 1),
            (48, 288, 37, 4),
            (64, 64, 100, 3),
            (32, 128, 33, 2),
            (80, 160, 5, 4),
            (13, 13, 70, 1),
            (8, 32, 9, 4),
        ] {
            let cache: Vec<f32> = (0..stride * n + hd).map(|_| lcg(&mut seed)).collect();
            let cache16: Vec<f16> = cache.iter().map(|&v| f16::from_f32(v)).collect();
            // Values transposed: dimension d of position t at d·(n + 3) + t.
            let vcache: Vec<f32> = (0..hd * (n + 3)).map(|_| lcg(&mut seed)).collect();
            let vcache16: Vec<f16> = vcache.iter().map(|&v| f16::from_f32(v)).collect();
            let q: Vec<Vec<f32>> = (0..m)
                .map(|_| (0..hd).map(|_| lcg(&mut seed)).collect())
                .collect();
            let q16: Vec<Vec<f32>> = q
                .iter()
                .map(|r| r.iter().map(|&v| f16::from_f32(v).to_f32()).collect())
                .collect();
            // Ragged weight rows, as consecutive prompt positions have.
            let w: Vec<Vec<f32>> = (0..m)
                .map(|j| {
                    let len = n - (m - 1 - j).min(n - 1);
                    (0..len).map(|_| lcg(&mut seed).abs() / n as f32).collect()
                })
                .collect();
            let w16: Vec<Vec<f32>> = w
                .iter()
                .map(|r| r.iter().map(|&v| f16::from_f32(v).to_f32()).collect())
                .collect();
            let mut outs: [[Vec<f32>; 4]; 2] = Default::default();
            for (k, o) in tables.iter().zip(outs.iter_mut()) {
                let mut s32 = std::vec![0.0f32; m * n];
                let mut s16 = std::vec![0.0f32; m * n];
                (k.scores_f32)(&cache, stride, &refs(&q), n, &mut s32);
                (k.scores_f16)(&cache16, stride, &refs(&q16), n, &mut s16);
                let mut v32 = std::vec![std::vec![0.0f32; hd]; m];
                let mut v16 = std::vec![std::vec![0.0f32; hd]; m];
                let mut o32: Vec<&mut [f32]> = v32.iter_mut().map(|r| r.as_mut_slice()).collect();
                (k.values_f32)(&vcache, n + 3, &refs(&w), &mut o32);
                let mut o16: Vec<&mut [f32]> = v16.iter_mut().map(|r| r.as_mut_slice()).collect();
                (k.values_f16)(&vcache16, n + 3, &refs(&w16), &mut o16);
                *o = [s32, s16, v32.concat(), v16.concat()];
            }
            for (a, b) in outs[0].iter().zip(&outs[1]) {
                let bits = |v: &Vec<f32>| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(a), bits(b), "hd {hd} stride {stride} n {n} m {m}");
            }
        }
    }
}
