//! Checkpoint → GGUF (DESIGN §4): HF names to GGUF names, q/k rows to GGUF's RoPE order,
//! 2-D weights in the chosen type (as `llama-quantize --pure` would store them), norms F32.

pub use report::{quality_report, QualityReport, QualityRow};

pub mod report;

use std::path::Path;

use candle_core::Tensor;

use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};
use crate::gguf::llama::{SpmVocab, CHATML_TEMPLATE};
use crate::gguf::GgufWriter;
use crate::model::rope_layout;
use crate::quantize::{quantize_row, Quant};

/// GGUF name of each HF tensor of a layer, and whether its rows are q/k (RoPE-permuted).
const LAYER_NAMES: [(&str, &str, bool); 9] = [
    ("input_layernorm", "attn_norm", false),
    ("self_attn.q_proj", "attn_q", true),
    ("self_attn.k_proj", "attn_k", true),
    ("self_attn.v_proj", "attn_v", false),
    ("self_attn.o_proj", "attn_output", false),
    ("post_attention_layernorm", "ffn_norm", false),
    ("mlp.gate_proj", "ffn_gate", false),
    ("mlp.up_proj", "ffn_up", false),
    ("mlp.down_proj", "ffn_down", false),
];

/// The (HF name, GGUF name, q/k) triples of a model's language-model weights, in GGUF
/// file order.
pub fn tensor_names(n_layers: usize, tied: bool) -> Vec<(String, String, bool)> {
    let mut v = vec![(
        "model.embed_tokens.weight".to_string(),
        "token_embd.weight".to_string(),
        false,
    )];
    for l in 0..n_layers {
        for (hf, gg, qk) in LAYER_NAMES {
            v.push((
                format!("model.layers.{l}.{hf}.weight"),
                format!("blk.{l}.{gg}.weight"),
                qk,
            ));
        }
    }
    v.push((
        "model.norm.weight".into(),
        "output_norm.weight".into(),
        false,
    ));
    if !tied {
        v.push(("lm_head.weight".into(), "output.weight".into(), false));
    }
    v
}

/// Row-major f32 values of a tensor.
fn values(t: &Tensor) -> Result<Vec<f32>> {
    Ok(t.flatten_all()?.to_vec1::<f32>()?)
}

/// Write `ckpt`'s language model to `out` as a GGUF file in `quant`, with `vocab` and the
/// ChatML template. Returns the file size.
pub fn export_gguf(ckpt: &Checkpoint, vocab: &SpmVocab, quant: Quant, out: &Path) -> Result<u64> {
    let c = &ckpt.config;
    if vocab.tokens.len() != c.vocab_size {
        return Err(Error::checkpoint(
            out,
            format!(
                "the tokenizer has {} tokens, the model {}",
                vocab.tokens.len(),
                c.vocab_size
            ),
        ));
    }
    let mut w = GgufWriter::new();
    c.llama_params(quant.file_type()).write(&mut w)?;
    vocab.write(&mut w, Some(CHATML_TEMPLATE))?;
    let hd = c.head_dim();
    for (hf, gg, qk) in tensor_names(c.num_hidden_layers, c.tie_word_embeddings) {
        let t = ckpt
            .tensor(&hf)
            .ok_or_else(|| Error::checkpoint(out, format!("the checkpoint lacks {hf:?}")))?;
        let dims = t.dims().to_vec();
        let mut v = values(&t)?;
        if dims.len() == 1 {
            w.add_f32_tensor(&gg, &[dims[0] as u64], &v)?;
            continue;
        }
        let (rows, cols) = (dims[0], dims[1]);
        if qk {
            v = rope_layout::hf_to_gguf(&v, cols, hd);
        }
        let ty = quant.tensor_type(cols);
        let mut bytes = Vec::new();
        for row in v.chunks_exact(cols) {
            quantize_row(ty, row, &mut bytes)
                .map_err(|e| Error::checkpoint(out, format!("{gg}: {e}")))?;
        }
        w.add_tensor(&gg, &[cols as u64, rows as u64], ty, bytes)?;
    }
    w.write(out)
}

/// The GGUF vocabulary of a checkpoint's `tokenizer.json` (`dir` names it in errors).
pub fn checkpoint_vocab(ckpt: &Checkpoint, dir: &Path) -> Result<SpmVocab> {
    let tok = ckpt.tokenizer(dir)?;
    crate::tokenizer::spm_vocab(&tok)
}
