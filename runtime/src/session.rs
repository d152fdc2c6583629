//! An inference session: the arena plan, the KV cache and the forward pass.
//!
//! Reads top to bottom like a llama forward pass: embed, then per layer attention and
//! SwiGLU MLP with residuals, then the output norm and head. Every buffer carries its shape.

use crate::arena::{region_bytes, Bump};
use crate::error::{Error, Result};
use crate::kernels::attention::TILE;
use crate::kernels::{matmul, rmsnorm, rope_angles, rope_pairs, Activations, AttnKernels, Kernels};
use crate::kv_cache::{q8_blocks_per_head, KvStore, KvType};
use crate::model::{Matrix, Model};
use crate::parallel::{Disjoint, Parallel, SERIAL};
use crate::quant::{interleaved, scalar, BlockQ8K, BlockQ8_0, GgmlType, QK8_0, QK_K};
use crate::sampler::{Candidate, Sampler};
use half::f16;

/// Per-session choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// Positions the KV cache holds.
    pub ctx_len: usize,
    pub kv_type: KvType,
    /// Positions evaluated per pass over the weights when several are known at once (a
    /// prompt). 1 is the smallest arena; hosts use 32–64.
    pub batch: usize,
    /// The kernel table; results are identical across tables, only speed differs.
    pub kernels: &'static Kernels,
}

impl SessionConfig {
    /// `ctx_len` positions, an f32 KV cache, batch 1 and the fastest kernels this CPU runs.
    pub fn new(ctx_len: usize) -> Self {
        SessionConfig {
            ctx_len,
            kv_type: KvType::F32,
            batch: 1,
            kernels: Kernels::best(),
        }
    }

    pub fn with_kv_type(self, kv_type: KvType) -> Self {
        SessionConfig { kv_type, ..self }
    }

    pub fn with_kernels(self, kernels: &'static Kernels) -> Self {
        SessionConfig { kernels, ..self }
    }

    pub fn with_batch(self, batch: usize) -> Self {
        SessionConfig { batch, ..self }
    }
}

/// Element counts of every arena region, in carving order. `arena_bytes` and
/// `Session::new` both derive from this one plan.
struct Plan {
    batch: usize,
    dim: usize,
    kv_dim: usize,
    hidden: usize,
    width: usize,
    att: usize,
    /// RoPE cos/sin of the batch's positions `[B][2 · pairs]`.
    rope: usize,
    vocab: usize,
    q8_0: usize,
    q8_k: usize,
    f16: usize,
    kv: usize,
    /// Q8 cache scales `[n_layers][ctx][n_kv_heads][blocks per head]`.
    kv_scales: usize,
    kv_type: KvType,
    head_dim: usize,
    ctx: usize,
}

impl Plan {
    fn new(m: &Model<'_>, sc: &SessionConfig) -> Result<Self> {
        let c = &m.config;
        if sc.ctx_len == 0 || sc.ctx_len > 1 << 24 || sc.batch == 0 || sc.batch > 4096 {
            return Err(Error::BadParameter);
        }
        let width = c.dim.max(c.hidden);
        let mats = m.weight_types().skip(1); // the embedding is only dequantized
        let (mut q8_0, mut q8_k, mut f16) = (0, 0, 0);
        for ty in mats {
            match ty.traits().vec_dot_type {
                GgmlType::Q8_0 => q8_0 = sc.batch * (width / QK8_0),
                GgmlType::Q8K => q8_k = sc.batch * (width / QK_K),
                GgmlType::F16 => f16 = sc.batch * width,
                _ => {}
            }
        }
        let kv = c
            .n_layers
            .checked_mul(sc.ctx_len)
            .and_then(|n| n.checked_mul(c.kv_dim()))
            .ok_or(Error::BadParameter)?;
        Ok(Plan {
            batch: sc.batch,
            dim: c.dim,
            kv_dim: c.kv_dim(),
            hidden: c.hidden,
            width,
            att: c.n_heads * sc.ctx_len * sc.batch.min(TILE),
            rope: sc.batch * 2 * rope_pairs(c.head_dim, c.rope_dims),
            vocab: c.vocab,
            q8_0,
            q8_k,
            f16,
            kv,
            kv_scales: c.n_layers * sc.ctx_len * c.n_kv_heads * q8_blocks_per_head(c.head_dim),
            kv_type: sc.kv_type,
            head_dim: c.head_dim,
            ctx: sc.ctx_len,
        })
    }

    fn bytes(&self) -> usize {
        let f = region_bytes::<f32>;
        let b = self.batch;
        4 * f(b * self.dim)
            + 2 * f(b * self.kv_dim)
            + 2 * f(b * self.hidden)
            + f(self.att)
            + f(self.rope)
            + f(self.vocab)
            + region_bytes::<BlockQ8_0>(self.q8_0)
            + region_bytes::<BlockQ8K>(self.q8_k)
            + region_bytes::<f16>(self.f16)
            + 2 * match self.kv_type {
                KvType::F32 => region_bytes::<f32>(self.kv),
                KvType::F16 => region_bytes::<f16>(self.kv),
                KvType::Q8 => region_bytes::<i8>(self.kv) + region_bytes::<f16>(self.kv_scales),
            }
            + region_bytes::<Candidate>(self.vocab)
            + region_bytes::<u32>(self.ctx)
    }
}

impl Model<'_> {
    /// Exact arena bytes for a session of `ctx_len` positions with an f32 KV cache.
    pub fn arena_bytes(&self, ctx_len: usize) -> Result<usize> {
        self.arena_bytes_for(&SessionConfig::new(ctx_len))
    }

    /// Exact arena bytes for a session configured as `sc`.
    pub fn arena_bytes_for(&self, sc: &SessionConfig) -> Result<usize> {
        Ok(Plan::new(self, sc)?.bytes())
    }
}

/// One conversation's state: activations, KV cache and the tokens evaluated so far.
/// Buffers hold `batch` positions; `B` below is the number being evaluated.
pub struct Session<'s, 'w> {
    model: &'s Model<'w>,
    kernels: &'static Kernels,
    par: &'s dyn Parallel,
    ctx: usize,
    batch: usize,
    pos: usize,
    /// Residual stream `[B][dim]`.
    x: &'s mut [f32],
    /// Normed input / matvec output `[B][dim]`.
    xb: &'s mut [f32],
    /// Attention output, all heads `[B][dim]`.
    xb2: &'s mut [f32],
    /// Query, all heads `[B][dim]`.
    q: &'s mut [f32],
    /// Keys of the positions being evaluated `[B][kv_dim]`.
    k: &'s mut [f32],
    /// Values of the positions being evaluated `[B][kv_dim]`.
    v: &'s mut [f32],
    /// MLP gate `[B][hidden]`.
    hb: &'s mut [f32],
    /// MLP up `[B][hidden]`.
    hb2: &'s mut [f32],
    /// Attention scores, [`TILE`] query rows per head (one when `batch` is 1)
    /// `[n_heads · min(batch, TILE)][ctx]`.
    att: &'s mut [f32],
    /// RoPE cos/sin of the positions being evaluated `[B][2 · pairs]`.
    rope: &'s mut [f32],
    /// Output of the last position `[vocab]`.
    logits: &'s mut [f32],
    acts: Activations<'s>,
    /// `[n_layers][ctx][kv_dim]` each.
    key_cache: KvStore<'s>,
    value_cache: KvStore<'s>,
    /// Sampler scratch `[vocab]`.
    candidates: &'s mut [Candidate],
    /// Token at each position `[ctx]`.
    tokens: &'s mut [u32],
}

impl<'s, 'w> Session<'s, 'w> {
    /// Lay a session out in `arena` (64-byte aligned, at least `model.arena_bytes_for(sc)`),
    /// running on the calling thread.
    pub fn new(model: &'s Model<'w>, arena: &'s mut [u8], sc: SessionConfig) -> Result<Self> {
        Self::with_parallel(model, arena, sc, &SERIAL)
    }

    /// As [`Session::new`], splitting matrix rows and attention heads over `par`'s workers.
    /// Logits do not depend on the number of workers.
    pub fn with_parallel(
        model: &'s Model<'w>,
        arena: &'s mut [u8],
        sc: SessionConfig,
        par: &'s dyn Parallel,
    ) -> Result<Self> {
        let p = Plan::new(model, &sc)?;
        let mut a = Bump::new(arena, p.bytes())?;
        let b = p.batch;
        let x = a.take(b * p.dim);
        let xb = a.take(b * p.dim);
        let xb2 = a.take(b * p.dim);
        let q = a.take(b * p.dim);
        let k = a.take(b * p.kv_dim);
        let v = a.take(b * p.kv_dim);
        let hb = a.take(b * p.hidden);
        let hb2 = a.take(b * p.hidden);
        let att = a.take(p.att);
        let rope = a.take(p.rope);
        let logits = a.take(p.vocab);
        let acts = Activations {
            q8_0: a.take(p.q8_0),
            q8_k: a.take(p.q8_k),
            f16: a.take(p.f16),
            width: p.width,
        };
        let (key_cache, value_cache) = match p.kv_type {
            KvType::F32 => (KvStore::F32(a.take(p.kv)), KvStore::F32(a.take(p.kv))),
            KvType::F16 => (KvStore::F16(a.take(p.kv)), KvStore::F16(a.take(p.kv))),
            KvType::Q8 => {
                let head_dim = p.head_dim;
                let k = KvStore::Q8 {
                    q: a.take(p.kv),
                    d: a.take(p.kv_scales),
                    head_dim,
                };
                (
                    k,
                    KvStore::Q8 {
                        q: a.take(p.kv),
                        d: a.take(p.kv_scales),
                        head_dim,
                    },
                )
            }
        };
        let candidates = a.take(p.vocab);
        let tokens = a.take(p.ctx);
        Ok(Session {
            model,
            kernels: sc.kernels.for_weights(model.bytes_per_token()),
            par,
            ctx: p.ctx,
            batch: p.batch,
            pos: 0,
            x,
            xb,
            xb2,
            q,
            k,
            v,
            hb,
            hb2,
            att,
            rope,
            logits,
            acts,
            key_cache,
            value_cache,
            candidates,
            tokens,
        })
    }

    pub fn model(&self) -> &'s Model<'w> {
        self.model
    }

    /// The kernel table in use.
    pub fn kernels(&self) -> &'static Kernels {
        self.kernels
    }

    /// Positions the session holds.
    pub fn ctx_len(&self) -> usize {
        self.ctx
    }

    /// Tokens evaluated so far (the next position).
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The tokens at positions `0..pos`.
    pub fn tokens(&self) -> &[u32] {
        &self.tokens[..self.pos]
    }

    /// Logits of the last evaluated position.
    pub fn logits(&self) -> &[f32] {
        self.logits
    }

    /// Forget every position from `n` on (the KV rows are simply overwritten later).
    pub fn truncate(&mut self, n: usize) {
        self.pos = self.pos.min(n);
    }

    /// Drop positions `start..start + count` and re-evaluate the tokens after them at their
    /// new positions (keeps a prefix such as a system prompt when the context fills).
    pub fn discard(&mut self, start: usize, count: usize) -> Result<()> {
        let end = start
            .checked_add(count)
            .filter(|&e| e <= self.pos)
            .ok_or(Error::BadParameter)?;
        let old_pos = self.pos;
        self.tokens.copy_within(end..old_pos, start);
        self.pos = start;
        self.run_positions(old_pos - count)
    }

    /// Sample the next token from the current logits.
    pub fn sample(&mut self, sampler: &mut Sampler) -> Result<u32> {
        sampler.sample(self.logits, &self.tokens[..self.pos], self.candidates)
    }

    /// Run `token` at the next position; returns its logits `[vocab]`.
    pub fn eval(&mut self, token: u32) -> Result<&[f32]> {
        self.eval_batch(&[token])
    }

    /// Run `tokens` at the next positions, `batch` at a time; returns the logits of the
    /// last one. Either all are evaluated or, on an error, none.
    pub fn eval_batch(&mut self, tokens: &[u32]) -> Result<&[f32]> {
        let vocab = self.model.config.vocab;
        if let Some(&t) = tokens.iter().find(|&&t| t as usize >= vocab) {
            return Err(Error::BadToken(t));
        }
        let end = self.pos + tokens.len();
        if end > self.ctx {
            return Err(Error::ContextFull);
        }
        self.tokens[self.pos..end].copy_from_slice(tokens);
        self.run_positions(end)?;
        Ok(self.logits)
    }

    /// Evaluate the tokens already stored at positions `pos..end`.
    fn run_positions(&mut self, end: usize) -> Result<()> {
        while self.pos < end {
            let n = (end - self.pos).min(self.batch);
            self.forward(n, self.pos + n == end);
            self.pos += n;
        }
        Ok(())
    }

    /// The forward pass for the `n` tokens at positions `pos..pos + n`; the logits of the
    /// last one when `logits`.
    fn forward(&mut self, n: usize, logits: bool) {
        let m = self.model;
        let c = &m.config;
        let (kern, par) = (self.kernels, self.par);
        let ak = AttnKernels::for_kernels(kern);
        let pos0 = self.pos;
        let (dim, hd, kv_dim, hidden) = (c.dim, c.head_dim, c.kv_dim(), c.hidden);
        let ctx = self.ctx;

        // Embedding: x_b = token_embd[token_b]  [B][dim]
        let e = &m.token_embd;
        for b in 0..n {
            let t = self.tokens[pos0 + b] as usize;
            let x = &mut self.x[b * dim..(b + 1) * dim];
            if m.tied && m.output.packed {
                // The head's packed copy holds the same rows; the file's are not read again.
                embed_packed(&m.output, t, x);
            } else {
                scalar::dequantize_row(e.ty, e.row(t), x);
            }
        }

        // One cos/sin table per position serves every layer's queries and keys.
        let rw = 2 * rope_pairs(hd, c.rope_dims);
        for b in 0..n {
            let cs = &mut self.rope[b * rw..(b + 1) * rw];
            rope_angles(cs, hd, c.rope_dims, pos0 + b, c.rope_base);
        }
        for l in 0..c.n_layers {
            let w = m.layer(l);

            // Attention: xb = rmsnorm(x); q, k, v = Wq·xb, Wk·xb, Wv·xb  [B][·]
            for b in 0..n {
                let xb = &mut self.xb[b * dim..(b + 1) * dim];
                rmsnorm(xb, &self.x[b * dim..(b + 1) * dim], w.attn_norm, c.rms_eps);
                self.acts
                    .prepare_all(kern, b, xb, &[w.wq.ty, w.wk.ty, w.wv.ty]);
            }
            matmul(
                par,
                kern,
                &mut [
                    (&w.wq, &mut *self.q),
                    (&w.wk, &mut *self.k),
                    (&w.wv, &mut *self.v),
                ],
                n,
                self.xb,
                dim,
                &self.acts,
            );

            // RoPE, then cache each position's k, v at [l][pos]
            let layer_base = l * ctx * kv_dim;
            for b in 0..n {
                let p = pos0 + b;
                let cs = &self.rope[b * rw..(b + 1) * rw];
                (ak.rope_rotate)(&mut self.q[b * dim..(b + 1) * dim], hd, cs);
                let kb = &mut self.k[b * kv_dim..(b + 1) * kv_dim];
                (ak.rope_rotate)(kb, hd, cs);
                self.key_cache.write(ak, layer_base + p * kv_dim, kb);
                let vb = &self.v[b * kv_dim..(b + 1) * kv_dim];
                self.value_cache.write_values(ak, layer_base, ctx, p, vb);
            }
            self.key_cache.prepare_queries(ak, &mut self.q[..n * dim]);

            // Per head: softmax(q·K^T · scale) · V over positions 0..=p (GQA: `group` query
            // heads share one kv head), tiles of queries split across workers.
            attention(
                par,
                kern,
                c,
                &self.key_cache,
                &self.value_cache,
                self.q,
                self.att,
                self.xb2,
                layer_base,
                pos0,
                n,
                ctx,
            );

            // x += Wo · attention
            for b in 0..n {
                self.acts
                    .prepare(kern, b, &self.xb2[b * dim..(b + 1) * dim], w.wo.ty);
            }
            matmul(
                par,
                kern,
                &mut [(&w.wo, &mut *self.xb)],
                n,
                self.xb2,
                dim,
                &self.acts,
            );
            self.x[..n * dim]
                .iter_mut()
                .zip(self.xb.iter())
                .for_each(|(x, &d)| *x += d);

            // MLP: x += W_down · (silu(W_gate·xb) ⊙ W_up·xb), xb = rmsnorm(x)
            for b in 0..n {
                let xb = &mut self.xb[b * dim..(b + 1) * dim];
                rmsnorm(xb, &self.x[b * dim..(b + 1) * dim], w.ffn_norm, c.rms_eps);
                self.acts
                    .prepare_all(kern, b, xb, &[w.w_gate.ty, w.w_up.ty]);
            }
            matmul(
                par,
                kern,
                &mut [(&w.w_gate, &mut *self.hb), (&w.w_up, &mut *self.hb2)],
                n,
                self.xb,
                dim,
                &self.acts,
            );
            for b in 0..n {
                let hb = &mut self.hb[b * hidden..(b + 1) * hidden];
                (ak.silu_mul)(hb, &self.hb2[b * hidden..(b + 1) * hidden]);
                self.acts.prepare(kern, b, hb, w.w_down.ty);
            }
            matmul(
                par,
                kern,
                &mut [(&w.w_down, &mut *self.xb)],
                n,
                self.hb,
                hidden,
                &self.acts,
            );
            self.x[..n * dim]
                .iter_mut()
                .zip(self.xb.iter())
                .for_each(|(x, &d)| *x += d);
        }

        if logits {
            // Head: logits = W_out · rmsnorm(x_last)  [vocab]
            let last = &self.x[(n - 1) * dim..n * dim];
            rmsnorm(&mut self.xb[..dim], last, m.output_norm, c.rms_eps);
            self.acts.prepare(kern, 0, &self.xb[..dim], m.output.ty);
            matmul(
                par,
                kern,
                &mut [(&m.output, &mut *self.logits)],
                1,
                self.xb,
                dim,
                &self.acts,
            );
        }
    }
}

/// Attention for positions `pos0..pos0 + n` of one layer. As llama.cpp without flash
/// attention: the scores are `vec_dot`s rounded, then scaled (soft_max_ext's scale); each
/// output dimension is a `vec_dot` over positions (V transposed).
///
/// The queries of one kv head (its `group` query heads at every position, position-major)
/// go to the kernels up to [`TILE`] at a time, so each key and value row is read once for
/// all of them; every query is computed exactly as alone. Tiles are dealt to the workers
/// round-robin, each worker with [`TILE`] score rows of its own.
#[allow(clippy::too_many_arguments)]
fn attention(
    par: &dyn Parallel,
    k: &Kernels,
    c: &crate::config::Config,
    keys: &KvStore<'_>,
    values: &KvStore<'_>,
    q: &[f32],
    att: &mut [f32],
    out: &mut [f32],
    layer_base: usize,
    pos0: usize,
    n: usize,
    ctx: usize,
) {
    let (dim, hd, kv_dim) = (c.dim, c.head_dim, c.kv_dim());
    let group = c.n_heads / c.n_kv_heads;
    let scale = 1.0 / crate::math::sqrtf(hd as f32);
    let ak = AttnKernels::for_kernels(k);
    let per_kv = n * group;
    let tile = TILE.min(per_kv);
    let tiles = per_kv.div_ceil(tile);
    let items = c.n_kv_heads * tiles;
    // `att` holds n_heads · min(batch, TILE) ≥ tile rows (n ≤ batch).
    let workers = par.threads().min(att.len() / ctx / tile).min(items);
    let att = Disjoint::new(att);
    let out = Disjoint::new(&mut out[..n * dim]);
    // Query `i` of kv head `g`: position pos0 + i / group, head g·group + i % group.
    let query = |g: usize, i: usize| (i / group, g * group + i % group);
    par.run(&|t| {
        if t >= workers {
            return;
        }
        // SAFETY: score rows t·tile..(t + 1)·tile belong to worker t alone.
        let scratch = unsafe { att.slice(t * tile * ctx..(t + 1) * tile * ctx) };
        for item in (t..items).step_by(workers) {
            let (g, first) = (item / tiles, (item % tiles) * tile);
            let m = tile.min(per_kv - first);
            let kv_off = layer_base + g * hd;
            let qs: [&[f32]; TILE] = core::array::from_fn(|j| {
                if j < m {
                    let (b, h) = query(g, first + j);
                    &q[b * dim + h * hd..][..hd]
                } else {
                    &[]
                }
            });
            // Keys 0..=p of the tile's last position: each query uses its own prefix.
            let nk = pos0 + query(g, first + m - 1).0 + 1;
            let sc = &mut scratch[..m * nk];
            keys.scores(ak, kv_off, kv_dim, &qs[..m], nk, sc);
            let mut rows: [&mut [f32]; TILE] = Default::default();
            for (j, (row, r)) in sc.chunks_mut(nk).zip(rows.iter_mut()).enumerate() {
                *r = &mut row[..pos0 + query(g, first + j).0 + 1];
            }
            (ak.softmax)(&mut rows[..m], scale, values.f16_weights());
            let w: [&[f32]; TILE] = core::array::from_fn(|j| &*rows[j]);
            let mut o: [&mut [f32]; TILE] = Default::default();
            for (j, oj) in o.iter_mut().enumerate().take(m) {
                let (b, h) = query(g, first + j);
                // SAFETY: the output of (position b, head h) belongs to this tile alone,
                // and each tile to one worker.
                *oj = unsafe { out.slice(b * dim + h * hd..b * dim + (h + 1) * hd) };
            }
            let head = g * hd;
            values.weighted_sum(ak, layer_base, ctx, kv_dim, head, &w[..m], &mut o[..m]);
        }
    });
}

/// Row `t` of the packed matrix `w` (Q4_0 or Q8_0), dequantized into `x`, block by block.
fn embed_packed(w: &Matrix<'_>, t: usize, x: &mut [f32]) {
    let bs = w.ty.row_bytes(QK8_0).unwrap_or(0);
    let nb = w.cols / QK8_0;
    let mut blk = [0u8; 34];
    for (b, xs) in x.chunks_exact_mut(QK8_0).enumerate() {
        if interleaved::block_of(w.data, bs, nb, t, b, &mut blk) {
            scalar::dequantize_row(w.ty, &blk[..bs], xs);
        }
    }
}
