//! GGUF → trainable checkpoint: every weight dequantized to f32, q/k rows back in HF's
//! rotate-half order, HF names.

use std::path::Path;

use candle_core::{Device, Tensor, Var};
use candle_nn::VarMap;
use mote_runtime::model::Matrix;
use mote_runtime::quant::scalar::dequantize_row;

use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};
use crate::init_random::ModelConfig;
use crate::model::{rope_layout, LlamaConfig};
use crate::model_file::ModelFile;

fn matrix_values(m: &Matrix<'_>) -> Vec<f32> {
    let mut out = vec![0.0f32; m.rows * m.cols];
    for (r, row) in out.chunks_exact_mut(m.cols).enumerate() {
        dequantize_row(m.ty, m.row(r), row);
    }
    out
}

fn norm_values(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Read the llama model in `path` into a checkpoint (without a tokenizer; the caller adds
/// one made from the file's vocabulary).
pub fn import_gguf(path: &Path, dev: &Device) -> Result<Checkpoint> {
    let file = ModelFile::open(path)?;
    let g = file.gguf()?;
    let m = file.model()?;
    let c = &m.config;
    let name = g
        .get("general.name")
        .and_then(|v| v.as_str())
        .unwrap_or("mote")
        .to_owned();
    let config = LlamaConfig::from_model_config(&ModelConfig {
        name,
        dim: c.dim,
        n_layers: c.n_layers,
        n_heads: c.n_heads,
        n_kv_heads: Some(c.n_kv_heads),
        hidden: c.hidden,
        vocab: c.vocab,
        ctx: c.ctx_len,
        tied: m.tied,
        rope_base: c.rope_base,
        rms_eps: c.rms_eps,
    });
    if c.rope_dims != c.head_dim {
        return Err(Error::checkpoint(
            path,
            format!(
                "RoPE over {} of {} head dims is not supported",
                c.rope_dims, c.head_dim
            ),
        ));
    }
    config.validate().map_err(|w| Error::checkpoint(path, w))?;
    let weights = VarMap::new();
    {
        let mut data = weights
            .data()
            .lock()
            .map_err(|_| Error::checkpoint(path, "weights lock poisoned"))?;
        let mut put = |name: String, vals: Vec<f32>, shape: Vec<usize>| -> Result<()> {
            let t = Tensor::from_vec(vals, shape, dev)?;
            data.insert(name, Var::from_tensor(&t)?);
            Ok(())
        };
        let mat = |mx: &Matrix<'_>| (matrix_values(mx), vec![mx.rows, mx.cols]);
        let (v, s) = mat(&m.token_embd);
        put("model.embed_tokens.weight".into(), v, s)?;
        for l in 0..c.n_layers {
            let ly = m.layer(l);
            let p = |s: &str| format!("model.layers.{l}.{s}");
            put(
                p("input_layernorm.weight"),
                norm_values(ly.attn_norm),
                vec![c.dim],
            )?;
            put(
                p("post_attention_layernorm.weight"),
                norm_values(ly.ffn_norm),
                vec![c.dim],
            )?;
            for (mx, n, qk) in [
                (&ly.wq, "self_attn.q_proj.weight", true),
                (&ly.wk, "self_attn.k_proj.weight", true),
                (&ly.wv, "self_attn.v_proj.weight", false),
                (&ly.wo, "self_attn.o_proj.weight", false),
                (&ly.w_gate, "mlp.gate_proj.weight", false),
                (&ly.w_up, "mlp.up_proj.weight", false),
                (&ly.w_down, "mlp.down_proj.weight", false),
            ] {
                let (mut v, s) = mat(mx);
                if qk {
                    v = rope_layout::gguf_to_hf(&v, mx.cols, c.head_dim);
                }
                put(p(n), v, s)?;
            }
        }
        put(
            "model.norm.weight".into(),
            norm_values(m.output_norm),
            vec![c.dim],
        )?;
        if !m.tied {
            let (v, s) = mat(&m.output);
            put("lm_head.weight".into(), v, s)?;
        }
    }
    Ok(Checkpoint {
        config,
        weights,
        tokenizer_json: None,
    })
}
