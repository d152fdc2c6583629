//! The llama forward pass with Hugging Face tensor names, so a `VarMap` of the model saves
//! straight to an HF `model.safetensors`.

use candle_core::{Result, Tensor, D};
use candle_nn::VarBuilder;

use super::config::LlamaConfig;
use super::fused::{causal_softmax, merge_heads, rms_norm, split_heads, swiglu};
use super::ops::Rope;

/// Which heads sit on top of the transformer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heads {
    /// Next-token logits (`lm_head.weight`, or the embedding when tied).
    pub lm: bool,
    /// A scalar reward read at the last token (`score.weight`, as transformers'
    /// `LlamaForSequenceClassification` with one label).
    pub reward: bool,
    /// A value per token for PPO (`value_head.weight`, `value_head.bias`).
    pub value: bool,
}

impl Heads {
    pub const LM: Heads = Heads {
        lm: true,
        reward: false,
        value: false,
    };
    pub const REWARD: Heads = Heads {
        lm: false,
        reward: true,
        value: false,
    };
}

/// A matrix `[out, in]` applied to the last dimension, as one GEMM over all positions.
#[derive(Debug, Clone)]
struct Proj(Tensor);

impl Proj {
    fn load(vb: &VarBuilder, out: usize, inp: usize, name: &str) -> Result<Self> {
        Ok(Proj(vb.get((out, inp), name)?))
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if x.rank() == 2 {
            return x.matmul(&self.0.t()?);
        }
        let dims = x.dims().to_vec();
        let inp = *dims.last().unwrap_or(&0);
        let rows = x.elem_count() / inp.max(1);
        let y = x.reshape((rows, inp))?.matmul(&self.0.t()?)?;
        let mut out = dims;
        if let Some(last) = out.last_mut() {
            *last = self.0.dim(0)?;
        }
        y.reshape(out)
    }
}

#[derive(Debug, Clone)]
struct Block {
    attn_norm: Tensor,
    q: Proj,
    k: Proj,
    v: Proj,
    o: Proj,
    ffn_norm: Tensor,
    gate: Proj,
    up: Proj,
    down: Proj,
}

/// A llama model with optional heads.
#[derive(Debug, Clone)]
pub struct Llama {
    cfg: LlamaConfig,
    embed: Tensor,
    blocks: Vec<Block>,
    norm: Tensor,
    lm_head: Option<Tensor>,
    score: Option<Tensor>,
    value: Option<(Tensor, Tensor)>,
    rope: Rope,
}

impl Llama {
    /// Build the model from `vb` (a `VarMap`'s builder creates missing weights).
    pub fn new(cfg: &LlamaConfig, heads: Heads, vb: VarBuilder) -> Result<Self> {
        let (d, hd, kv) = (cfg.hidden_size, cfg.head_dim(), cfg.kv_heads());
        let embed = vb.get((cfg.vocab_size, d), "model.embed_tokens.weight")?;
        let mut blocks = Vec::with_capacity(cfg.num_hidden_layers);
        for l in 0..cfg.num_hidden_layers {
            let p = |s: &str| format!("model.layers.{l}.{s}");
            blocks.push(Block {
                attn_norm: vb.get(d, &p("input_layernorm.weight"))?,
                q: Proj::load(&vb, d, d, &p("self_attn.q_proj.weight"))?,
                k: Proj::load(&vb, kv * hd, d, &p("self_attn.k_proj.weight"))?,
                v: Proj::load(&vb, kv * hd, d, &p("self_attn.v_proj.weight"))?,
                o: Proj::load(&vb, d, d, &p("self_attn.o_proj.weight"))?,
                ffn_norm: vb.get(d, &p("post_attention_layernorm.weight"))?,
                gate: Proj::load(&vb, cfg.intermediate_size, d, &p("mlp.gate_proj.weight"))?,
                up: Proj::load(&vb, cfg.intermediate_size, d, &p("mlp.up_proj.weight"))?,
                down: Proj::load(&vb, d, cfg.intermediate_size, &p("mlp.down_proj.weight"))?,
            });
        }
        let norm = vb.get(d, "model.norm.weight")?;
        let lm_head = match (heads.lm, cfg.tie_word_embeddings) {
            (true, false) => Some(vb.get((cfg.vocab_size, d), "lm_head.weight")?),
            (true, true) => Some(embed.clone()),
            (false, _) => None,
        };
        let score = if heads.reward {
            Some(vb.get((1, d), "score.weight")?)
        } else {
            None
        };
        let value = if heads.value {
            Some((
                vb.get((1, d), "value_head.weight")?,
                vb.get(1, "value_head.bias")?,
            ))
        } else {
            None
        };
        let rope = Rope::new(hd, cfg.max_position_embeddings, cfg.rope_theta, vb.device())?;
        Ok(Llama {
            cfg: cfg.clone(),
            embed,
            blocks,
            norm,
            lm_head,
            score,
            value,
            rope,
        })
    }

    pub fn config(&self) -> &LlamaConfig {
        &self.cfg
    }

    /// Final hidden states `[batch, seq, dim]` (after the output norm) for token ids
    /// `[batch, seq]` at positions `0..seq`. Right padding is harmless: attention is causal.
    pub fn hidden(&self, ids: &Tensor) -> Result<Tensor> {
        let (b, t) = ids.dims2()?;
        self.trunk(ids)?.reshape((b, t, ()))
    }

    /// [`Llama::hidden`] as `[batch·seq, dim]`. Activations stay 2-D so that projections are
    /// single GEMMs and no reshape adds a node (and a copy in the backward pass) to the graph.
    fn trunk(&self, ids: &Tensor) -> Result<Tensor> {
        let (b, t) = ids.dims2()?;
        if t > self.rope.max_positions() {
            candle_core::bail!(
                "sequence of {t} tokens exceeds the context of {}",
                self.rope.max_positions()
            );
        }
        let cfg = &self.cfg;
        let (h, kvh, hd) = (cfg.num_attention_heads, cfg.kv_heads(), cfg.head_dim());
        let eps = cfg.rms_norm_eps;
        let scale = 1.0 / (hd as f64).sqrt();
        let rope = Some(self.rope.tables());
        let mut x = self.embed.embedding(&ids.flatten_all()?)?;
        for blk in &self.blocks {
            let n = rms_norm(&x, &blk.attn_norm, eps)?;
            let q = split_heads(&blk.q.forward(&n)?, b, h, rope, false)?;
            let k = blk.k.forward(&n)?;
            // Keys come out transposed, [b, h, hd, t], ready for q·kᵀ.
            let kt = if kvh == h {
                split_heads(&k, b, h, rope, true)?
            } else {
                repeat_kv(split_heads(&k, b, kvh, rope, false)?, h / kvh)?.t()?
            };
            let v = split_heads(&blk.v.forward(&n)?, b, kvh, None, false)?;
            let v = repeat_kv(v, h / kvh)?;
            let att = causal_softmax(&q.matmul(&kt)?, scale)?;
            let y = merge_heads(&att.matmul(&v)?)?;
            x = (x + blk.o.forward(&y)?)?;
            let n = rms_norm(&x, &blk.ffn_norm, eps)?;
            let ff = swiglu(&blk.gate.forward(&n)?, &blk.up.forward(&n)?)?;
            x = (x + blk.down.forward(&ff)?)?;
        }
        rms_norm(&x, &self.norm, eps)
    }

    /// Next-token logits `[batch, seq, vocab]` from hidden states.
    pub fn logits(&self, hidden: &Tensor) -> Result<Tensor> {
        let w = self
            .lm_head
            .as_ref()
            .ok_or_else(|| candle_core::Error::Msg("the model has no LM head".into()))?;
        Proj(w.clone()).forward(hidden)
    }

    /// Logits for token ids `[batch, seq]`.
    pub fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        let (b, t) = ids.dims2()?;
        let w = self
            .lm_head
            .as_ref()
            .ok_or_else(|| candle_core::Error::Msg("the model has no LM head".into()))?;
        Proj(w.clone())
            .forward(&self.trunk(ids)?)?
            .reshape((b, t, ()))
    }

    /// One scalar reward per sequence, read at position `last[b]` (its last real token).
    pub fn rewards(&self, hidden: &Tensor, last: &[u32]) -> Result<Tensor> {
        let w = self
            .score
            .as_ref()
            .ok_or_else(|| candle_core::Error::Msg("the model has no reward head".into()))?;
        let (b, t, d) = hidden.dims3()?;
        if last.len() != b || last.iter().any(|&i| i as usize >= t) {
            candle_core::bail!("last-token indices {last:?} do not fit a batch of {b}×{t}");
        }
        let idx: Vec<u32> = (0..b as u32)
            .zip(last)
            .map(|(r, &i)| r * t as u32 + i)
            .collect();
        let idx = Tensor::from_vec(idx, b, hidden.device())?;
        let h = hidden.reshape((b * t, d))?.index_select(&idx, 0)?;
        h.matmul(&w.t()?)?.squeeze(1)
    }

    /// One value per position `[batch, seq]`.
    pub fn values(&self, hidden: &Tensor) -> Result<Tensor> {
        let (w, bias) = self
            .value
            .as_ref()
            .ok_or_else(|| candle_core::Error::Msg("the model has no value head".into()))?;
        Proj(w.clone())
            .forward(hidden)?
            .broadcast_add(bias)?
            .squeeze(D::Minus1)
    }
}

/// Repeat each key/value head `n` times for grouped-query attention.
fn repeat_kv(x: Tensor, n: usize) -> Result<Tensor> {
    if n == 1 {
        return Ok(x);
    }
    let (b, kvh, t, hd) = x.dims4()?;
    x.unsqueeze(2)?
        .expand((b, kvh, n, t, hd))?
        .reshape((b, kvh * n, t, hd))
}
