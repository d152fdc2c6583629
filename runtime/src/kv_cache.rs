//! The key/value cache: per layer, per position, one `kv_dim` row of K and of V.
//!
//! Attention reads it the way llama.cpp's graph does without flash attention:
//! `kq = mul_mat(K, q)` (one `vec_dot` per cached position over `head_dim`) and
//! `kqv = mul_mat(Vᵀ, softmax(kq))` (one `vec_dot` per output dimension over positions).
//! With an f16 cache ggml first rounds the f32 operand (`q`, the softmax weights) to f16,
//! since f16 matrices dot against f16 vectors.
//!
//! Keys are stored by position, `[n_layers][ctx][kv_dim]`. An f32 or f16 value cache is
//! stored transposed within each layer, `[n_layers][kv_dim][ctx]`, as llama.cpp stores V:
//! each output dimension's sum then reads its positions contiguously, in the lanes ggml's
//! `vec_dot` gives them. The Q8 value cache keeps rows (its scales go per row block).

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

impl KvStore<'_> {
    /// Write one row at `index = (layer · ctx + pos) · kv_dim`.
    pub fn write(&mut self, ak: &AttnKernels, index: usize, row: &[f32]) {
        match self {
            KvStore::F32(s) => s[index..index + row.len()].copy_from_slice(row),
            KvStore::F16(s) => (ak.to_f16)(row, &mut s[index..index + row.len()]),
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

    /// Queries as [`KvStore::scores`] takes them: an f16 cache dots f16 keys with `q`
    /// rounded to f16 (in place here), the others take `q` as it is.
    pub fn prepare_queries(&self, ak: &AttnKernels, q: &mut [f32]) {
        if let KvStore::F16(_) = self {
            (ak.round_f16)(q)
        }
    }

    /// Attention scores before scaling for positions `0..n` of one head, for each query
    /// `q[j]` (at most [`TILE`], prepared by [`KvStore::prepare_queries`]): the key row of
    /// position `t` starts at `index + t · stride`; `scores[j·n + t]` gets its dot with
    /// `q[j]` in `ggml_vec_dot_f32` (f16 cache: `ggml_vec_dot_f16`) order.
    ///
    /// [`TILE`]: crate::kernels::attention::TILE
    pub fn scores(
        &self,
        ak: &AttnKernels,
        index: usize,
        stride: usize,
        q: &[&[f32]],
        n: usize,
        scores: &mut [f32],
    ) {
        match self {
            KvStore::F32(s) => (ak.scores_f32)(&s[index..], stride, q, n, scores),
            KvStore::F16(s) => (ak.scores_f16)(&s[index..], stride, q, n, scores),
            KvStore::Q8 { q: kq, d, head_dim } => {
                let bph = q8_blocks_per_head(*head_dim);
                for (qj, row) in q.iter().zip(scores.chunks_mut(n.max(1))) {
                    for (t, out) in row[..n].iter_mut().enumerate() {
                        let at = index + t * stride;
                        let scales = &d[(at / *head_dim) * bph..][..bph];
                        let k = &kq[at..at + qj.len()];
                        let mut sum = 0.0f32;
                        for ((kb, qb), sc) in
                            k.chunks(Q8_BLOCK).zip(qj.chunks(Q8_BLOCK)).zip(scales)
                        {
                            let dot: f32 = kb.iter().zip(qb).map(|(&a, &b)| a as f32 * b).sum();
                            sum += f16_to_f32(*sc) * dot;
                        }
                        *out = sum;
                    }
                }
            }
        }
    }

    /// Write the values of position `pos` to the layer at `layer_base = layer · ctx ·
    /// kv_dim` (`row` has `kv_dim` values): dimension `d` to `layer_base + d · ctx + pos`
    /// (f32, f16), or the row to `layer_base + pos · kv_dim` (Q8).
    pub fn write_values(
        &mut self,
        ak: &AttnKernels,
        layer_base: usize,
        ctx: usize,
        pos: usize,
        row: &[f32],
    ) {
        let col = |s: usize| layer_base + s * ctx + pos;
        match self {
            KvStore::F32(s) => {
                for (d, &v) in row.iter().enumerate() {
                    s[col(d)] = v;
                }
            }
            KvStore::F16(s) => {
                let mut h = [f16::ZERO; 32];
                for (c, part) in row.chunks(h.len()).enumerate() {
                    (ak.to_f16)(part, &mut h[..part.len()]);
                    for (i, &v) in h[..part.len()].iter().enumerate() {
                        s[col(c * h.len() + i)] = v;
                    }
                }
            }
            KvStore::Q8 { .. } => self.write(ak, layer_base + pos * row.len(), row),
        }
    }

    /// Whether weights for [`KvStore::weighted_sum`] go rounded to f16 (an f16 cache: ggml
    /// dots f16 values with f16 weights).
    pub fn f16_weights(&self) -> bool {
        matches!(self, KvStore::F16(_))
    }

    /// Attention output for one head and each weight row `w[j]` (at most [`TILE`]), from a
    /// value cache written by [`KvStore::write_values`]: `out[j][d] = Σ_t w[j][t] ·
    /// v_t[head + d]`, `v_t` the values of position `t` in the layer at `layer_base`,
    /// summed over positions as ggml's `vec_dot` over one row of the transposed V cache.
    /// llama.cpp's KV view spans a multiple of 256 cells, the ones past the last position
    /// with weight 0, so the sum runs over `w[j].len()` rounded up to a whole `vec_dot` step
    /// (32) with zeros, and never reaches the leftover loop.
    /// `w` holds softmax rows, rounded to f16 values if [`KvStore::f16_weights`].
    ///
    /// [`TILE`]: crate::kernels::attention::TILE
    #[allow(clippy::too_many_arguments)]
    pub fn weighted_sum(
        &self,
        ak: &AttnKernels,
        layer_base: usize,
        ctx: usize,
        kv_dim: usize,
        head: usize,
        w: &[&[f32]],
        out: &mut [&mut [f32]],
    ) {
        let index = layer_base + head * ctx;
        match self {
            KvStore::F32(s) => (ak.values_f32)(&s[index..], ctx, w, out),
            KvStore::F16(s) => (ak.values_f16)(&s[index..], ctx, w, out),
            KvStore::Q8 { q, d, head_dim } => {
                // No ggml counterpart to mirror: accumulate position by position.
                let bph = q8_blocks_per_head(*head_dim);
                for (w, out) in w.iter().zip(out.iter_mut()) {
                    out.fill(0.0);
                    for (t, &wt) in w.iter().enumerate() {
                        let at = layer_base + t * kv_dim + head;
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
                }
            }
        }
    }
}
