//! An inference session: the arena plan, the KV cache and the forward pass.
//!
//! Reads top to bottom like a llama forward pass: embed, then per layer attention and
//! SwiGLU MLP with residuals, then the output norm and head. Every buffer carries its shape.

use crate::arena::{region_bytes, Bump};
use crate::error::{Error, Result};
use crate::kernels::{matvec, rmsnorm, rope, silu_mul, softmax, Activations, Kernels};
use crate::kv_cache::{KvStore, KvType};
use crate::model::Model;
use crate::quant::{scalar, BlockQ8K, BlockQ8_0, GgmlType, QK8_0, QK_K};
use crate::sampler::{Candidate, Sampler};
use half::f16;

/// Per-session choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// Positions the KV cache holds.
    pub ctx_len: usize,
    pub kv_type: KvType,
    /// The kernel table; results are identical across tables, only speed differs.
    pub kernels: &'static Kernels,
}

impl SessionConfig {
    /// `ctx_len` positions, an f32 KV cache and the fastest kernels this CPU runs.
    pub fn new(ctx_len: usize) -> Self {
        SessionConfig {
            ctx_len,
            kv_type: KvType::F32,
            kernels: Kernels::best(),
        }
    }

    pub fn with_kv_type(self, kv_type: KvType) -> Self {
        SessionConfig { kv_type, ..self }
    }

    pub fn with_kernels(self, kernels: &'static Kernels) -> Self {
        SessionConfig { kernels, ..self }
    }
}

/// Element counts of every arena region, in carving order. `arena_bytes` and
/// `Session::new` both derive from this one plan.
struct Plan {
    dim: usize,
    kv_dim: usize,
    hidden: usize,
    att: usize,
    vocab: usize,
    q8_0: usize,
    q8_k: usize,
    f16: usize,
    kv: usize,
    kv_type: KvType,
    ctx: usize,
}

impl Plan {
    fn new(m: &Model<'_>, sc: &SessionConfig) -> Result<Self> {
        let c = &m.config;
        if sc.ctx_len == 0 || sc.ctx_len > 1 << 24 {
            return Err(Error::BadParameter);
        }
        let width = c.dim.max(c.hidden);
        let mats = m.weight_types().skip(1); // the embedding is only dequantized
        let (mut q8_0, mut q8_k, mut f16) = (0, 0, 0);
        for ty in mats {
            match ty.traits().vec_dot_type {
                GgmlType::Q8_0 => q8_0 = width / QK8_0,
                GgmlType::Q8K => q8_k = width / QK_K,
                GgmlType::F16 => f16 = width,
                _ => {}
            }
        }
        let kv = c
            .n_layers
            .checked_mul(sc.ctx_len)
            .and_then(|n| n.checked_mul(c.kv_dim()))
            .ok_or(Error::BadParameter)?;
        Ok(Plan {
            dim: c.dim,
            kv_dim: c.kv_dim(),
            hidden: c.hidden,
            att: c.n_heads * sc.ctx_len,
            vocab: c.vocab,
            q8_0,
            q8_k,
            f16,
            kv,
            kv_type: sc.kv_type,
            ctx: sc.ctx_len,
        })
    }

    fn bytes(&self) -> usize {
        let f = region_bytes::<f32>;
        4 * f(self.dim)
            + 2 * f(self.kv_dim)
            + 2 * f(self.hidden)
            + f(self.att)
            + f(self.vocab)
            + region_bytes::<BlockQ8_0>(self.q8_0)
            + region_bytes::<BlockQ8K>(self.q8_k)
            + region_bytes::<f16>(self.f16)
            + 2 * match self.kv_type {
                KvType::F32 => region_bytes::<f32>(self.kv),
                KvType::F16 => region_bytes::<f16>(self.kv),
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
pub struct Session<'s, 'w> {
    model: &'s Model<'w>,
    kernels: &'static Kernels,
    ctx: usize,
    pos: usize,
    /// Residual stream `[dim]`.
    x: &'s mut [f32],
    /// Normed input / matvec output `[dim]`.
    xb: &'s mut [f32],
    /// Attention output, all heads `[dim]`.
    xb2: &'s mut [f32],
    /// Query, all heads `[dim]`.
    q: &'s mut [f32],
    /// This position's key `[kv_dim]`.
    k: &'s mut [f32],
    /// This position's value `[kv_dim]`.
    v: &'s mut [f32],
    /// MLP gate `[hidden]`.
    hb: &'s mut [f32],
    /// MLP up `[hidden]`.
    hb2: &'s mut [f32],
    /// Attention scores `[n_heads][ctx]`.
    att: &'s mut [f32],
    /// Output `[vocab]`.
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
    /// Lay a session out in `arena` (64-byte aligned, at least `model.arena_bytes_for(sc)`).
    pub fn new(model: &'s Model<'w>, arena: &'s mut [u8], sc: SessionConfig) -> Result<Self> {
        let p = Plan::new(model, &sc)?;
        let mut a = Bump::new(arena, p.bytes())?;
        let x = a.take(p.dim);
        let xb = a.take(p.dim);
        let xb2 = a.take(p.dim);
        let q = a.take(p.dim);
        let k = a.take(p.kv_dim);
        let v = a.take(p.kv_dim);
        let hb = a.take(p.hidden);
        let hb2 = a.take(p.hidden);
        let att = a.take(p.att);
        let logits = a.take(p.vocab);
        let acts = Activations {
            q8_0: a.take(p.q8_0),
            q8_k: a.take(p.q8_k),
            f16: a.take(p.f16),
        };
        let (key_cache, value_cache) = match p.kv_type {
            KvType::F32 => (KvStore::F32(a.take(p.kv)), KvStore::F32(a.take(p.kv))),
            KvType::F16 => (KvStore::F16(a.take(p.kv)), KvStore::F16(a.take(p.kv))),
        };
        let candidates = a.take(p.vocab);
        let tokens = a.take(p.ctx);
        Ok(Session {
            model,
            kernels: sc.kernels,
            ctx: p.ctx,
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
        for i in start..old_pos - count {
            self.eval(self.tokens[i])?;
        }
        Ok(())
    }

    /// Sample the next token from the current logits.
    pub fn sample(&mut self, sampler: &mut Sampler) -> Result<u32> {
        sampler.sample(self.logits, &self.tokens[..self.pos], self.candidates)
    }

    /// Run `token` at the next position; returns its logits `[vocab]`.
    pub fn eval(&mut self, token: u32) -> Result<&[f32]> {
        let m = self.model;
        let c = &m.config;
        let k = self.kernels;
        if token as usize >= c.vocab {
            return Err(Error::BadToken(token));
        }
        if self.pos >= self.ctx {
            return Err(Error::ContextFull);
        }
        let pos = self.pos;
        let (hd, kv_dim) = (c.head_dim, c.kv_dim());
        let group = c.n_heads / c.n_kv_heads;
        let scale = 1.0 / crate::math::sqrtf(hd as f32);

        // Embedding: x = token_embd[token]  [dim]
        let e = &m.token_embd;
        scalar::dequantize_row(e.ty, e.row(token as usize), self.x);

        for l in 0..c.n_layers {
            let w = m.layer(l);

            // Attention: xb = rmsnorm(x); q, k, v = Wq·xb, Wk·xb, Wv·xb
            rmsnorm(self.xb, self.x, w.attn_norm, c.rms_eps);
            self.acts
                .prepare_all(k, self.xb, &[w.wq.ty, w.wk.ty, w.wv.ty]);
            matvec(k, &w.wq, self.xb, &self.acts, self.q);
            matvec(k, &w.wk, self.xb, &self.acts, self.k);
            matvec(k, &w.wv, self.xb, &self.acts, self.v);
            rope(self.q, hd, c.rope_dims, pos, c.rope_base);
            rope(self.k, hd, c.rope_dims, pos, c.rope_base);

            // Cache this position's k, v at [l][pos]
            let layer_base = l * self.ctx * kv_dim;
            self.key_cache.write(layer_base + pos * kv_dim, self.k);
            self.value_cache.write(layer_base + pos * kv_dim, self.v);

            // Per head: softmax(q·K^T · scale) · V over positions 0..=pos (GQA: `group`
            // query heads share one kv head). As llama.cpp without flash attention: the
            // scores are `vec_dot`s rounded, then scaled (soft_max_ext's scale); each output
            // dimension is a `vec_dot` over positions (V transposed).
            for h in 0..c.n_heads {
                let qh = &self.q[h * hd..(h + 1) * hd];
                let kv_off = layer_base + (h / group) * hd;
                let att = &mut self.att[h * self.ctx..h * self.ctx + pos + 1];
                for (t, a) in att.iter_mut().enumerate() {
                    *a = self.key_cache.dot(kv_off + t * kv_dim, qh) * scale;
                }
                softmax(att);
                let out = &mut self.xb2[h * hd..(h + 1) * hd];
                self.value_cache.weighted_sum(kv_off, kv_dim, att, out);
            }

            // x += Wo · attention
            self.acts.prepare(k, self.xb2, w.wo.ty);
            matvec(k, &w.wo, self.xb2, &self.acts, self.xb);
            self.x
                .iter_mut()
                .zip(self.xb.iter())
                .for_each(|(x, &d)| *x += d);

            // MLP: x += W_down · (silu(W_gate·xb) ⊙ W_up·xb), xb = rmsnorm(x)
            rmsnorm(self.xb, self.x, w.ffn_norm, c.rms_eps);
            self.acts.prepare_all(k, self.xb, &[w.w_gate.ty, w.w_up.ty]);
            matvec(k, &w.w_gate, self.xb, &self.acts, self.hb);
            matvec(k, &w.w_up, self.xb, &self.acts, self.hb2);
            silu_mul(self.hb, self.hb2);
            self.acts.prepare(k, self.hb, w.w_down.ty);
            matvec(k, &w.w_down, self.hb, &self.acts, self.xb);
            self.x
                .iter_mut()
                .zip(self.xb.iter())
                .for_each(|(x, &d)| *x += d);
        }

        // Head: logits = W_out · rmsnorm(x)  [vocab]
        rmsnorm(self.xb, self.x, m.output_norm, c.rms_eps);
        self.acts.prepare(k, self.xb, m.output.ty);
        matvec(k, &m.output, self.xb, &self.acts, self.logits);

        self.tokens[pos] = token;
        self.pos += 1;
        Ok(self.logits)
    }
}
