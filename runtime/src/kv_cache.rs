//! The key/value cache: per layer, per position, one `kv_dim` row of K and of V.
//!
//! Attention reads it the way llama.cpp's graph does without flash attention:
//! `kq = mul_mat(K, q)` (one `vec_dot` per cached position over `head_dim`) and
//! `kqv = mul_mat(Vᵀ, softmax(kq))` (one `vec_dot` per output dimension over positions,
//! llama.cpp storing V transposed). With an f16 cache ggml first rounds the f32 operand
//! (`q`, the softmax weights) to f16, since f16 matrices dot against f16 vectors.

use crate::config::MAX_HEAD_DIM;
use crate::kernels::AttnKernels;
use crate::math::{f16_to_f32, f32_to_f16};
use half::f16;

/// Element type of the KV cache, chosen at session creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KvType {
    #[default]
    F32,
    /// Half the memory; what microcontrollers use.
    F16,
    /// 8-bit values with an f16 scale per block of 32 within each head (the last block of
    /// a head may be shorter): about a quarter of f32's memory.
    Q8,
}

/// Values per scale in the Q8 cache.
pub const Q8_BLOCK: usize = 32;

/// Q8 scale blocks per head of `head_dim` values.
pub const fn q8_blocks_per_head(head_dim: usize) -> usize {
    head_dim.div_ceil(Q8_BLOCK)
}

/// K or V storage: `[n_layers][ctx][kv_dim]`.
pub enum KvStore<'s> {
    F32(&'s mut [f32]),
    F16(&'s mut [f16]),
    Q8 {
        /// `[n_layers][ctx][kv_dim]`
        q: &'s mut [i8],
        /// `[n_layers][ctx][n_kv_heads][blocks per head]`
        d: &'s mut [f16],
        head_dim: usize,
    },
}

/// Quantize `x` (one block) to `q` with scale `amax/127`, rounding half to even.
fn q8_block(x: &[f32], q: &mut [i8]) -> f16 {
    let amax = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let id = if amax > 0.0 { 127.0 / amax } else { 0.0 };
    for (o, &v) in q.iter_mut().zip(x) {
        *o = crate::quant::scalar::nearest_int(v * id).clamp(-127, 127) as i8;
    }
    f32_to_f16(amax / 127.0)
}

/// `x` as ggml rounds an f32 operand for an f16 dot product.
#[inline(always)]
fn round_f16(x: f32) -> f32 {
    f16_to_f32(f32_to_f16(x))
}

impl KvStore<'_> {
    /// Write one row at `index = (layer · ctx + pos) · kv_dim`.
    pub fn write(&mut self, index: usize, row: &[f32]) {
        match self {
            KvStore::F32(s) => s[index..index + row.len()].copy_from_slice(row),
            KvStore::F16(s) => {
                for (d, &v) in s[index..index + row.len()].iter_mut().zip(row) {
                    *d = f32_to_f16(v);
                }
            }
            KvStore::Q8 { q, d, head_dim } => {
                let bph = q8_blocks_per_head(*head_dim);
                for (h, x) in row.chunks_exact(*head_dim).enumerate() {
                    let at = index + h * *head_dim;
                    let scales = &mut d[(at / *head_dim) * bph..][..bph];
                    for ((xb, qb), sc) in x
                        .chunks(Q8_BLOCK)
                        .zip(q[at..at + *head_dim].chunks_mut(Q8_BLOCK))
                        .zip(scales)
                    {
                        *sc = q8_block(xb, qb);
                    }
                }
            }
        }
    }

    /// Attention scores before scaling for positions `0..scores.len()` of one head: the
    /// key row of position `t` starts at `index + t · stride`, `q` is the head's query, in
    /// `ggml_vec_dot_f32` (f16 cache: `ggml_vec_dot_f16` of `q` rounded to f16) order.
    pub fn scores(
        &self,
        ak: &AttnKernels,
        index: usize,
        stride: usize,
        q: &[f32],
        scores: &mut [f32],
    ) {
        match self {
            KvStore::F32(s) => (ak.scores_f32)(&s[index..], stride, q, scores),
            KvStore::F16(s) => {
                let mut qr = [0.0f32; MAX_HEAD_DIM];
                let qr = &mut qr[..q.len()];
                qr.iter_mut().zip(q).for_each(|(o, &v)| *o = round_f16(v));
                (ak.scores_f16)(&s[index..], stride, qr, scores)
            }
            KvStore::Q8 { q: kq, d, head_dim } => {
                let bph = q8_blocks_per_head(*head_dim);
                for (t, out) in scores.iter_mut().enumerate() {
                    let at = index + t * stride;
                    let scales = &d[(at / *head_dim) * bph..][..bph];
                    let k = &kq[at..at + q.len()];
                    let mut sum = 0.0f32;
                    for ((kb, qb), sc) in k.chunks(Q8_BLOCK).zip(q.chunks(Q8_BLOCK)).zip(scales) {
                        let dot: f32 = kb.iter().zip(qb).map(|(&a, &b)| a as f32 * b).sum();
                        sum += f16_to_f32(*sc) * dot;
                    }
                    *out = sum;
                }
            }
        }
    }

    /// Attention output for one head: `out[d] = Σ_t w[t] · row_t[d]`, where row `t` starts
    /// at `index + t · stride`, summed over positions as ggml's `vec_dot` over one row of
    /// the transposed V cache. llama.cpp's KV view spans a multiple of 256 cells, the ones
    /// past the last position with weight 0, so the sum runs over `w.len()` rounded up to a
    /// whole `vec_dot` step (32) with zeros, and never reaches the leftover loop.
    /// `w` is the softmax row; an f16 cache rounds it to f16 in place first.
    pub fn weighted_sum(
        &self,
        ak: &AttnKernels,
        index: usize,
        stride: usize,
        w: &mut [f32],
        out: &mut [f32],
    ) {
        if let KvStore::Q8 { q, d, head_dim } = self {
            // No ggml counterpart to mirror: accumulate position by position.
            let bph = q8_blocks_per_head(*head_dim);
            out.fill(0.0);
            for (t, &wt) in w.iter().enumerate() {
                let at = index + t * stride;
                let scales = &d[(at / *head_dim) * bph..][..bph];
                let row = &q[at..at + out.len()];
                for ((ob, qb), sc) in out
                    .chunks_mut(Q8_BLOCK)
                    .zip(row.chunks(Q8_BLOCK))
                    .zip(scales)
                {
                    let c = wt * f16_to_f32(*sc);
                    ob.iter_mut().zip(qb).for_each(|(o, &v)| *o += c * v as f32);
                }
            }
            return;
        }
        match self {
            KvStore::F32(s) => (ak.values_f32)(&s[index..], stride, w, out),
            KvStore::F16(s) => {
                w.iter_mut().for_each(|v| *v = round_f16(*v));
                (ak.values_f16)(&s[index..], stride, w, out)
            }
            KvStore::Q8 { .. } => {} // handled above
        }
    }
}
