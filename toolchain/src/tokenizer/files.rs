//! The output of `mote tokenizer train`: a directory with
//!
//! - `tokenizer.json`: the Hugging Face tokenizer ([`super::hf_tokenizer`]);
//! - `tokenizer_config.json`: its special tokens and the ChatML template, for `transformers`;
//! - `vocab.json`: every token with its id, score and type, one per line, for people;
//! - `vocab.gguf`: a llama GGUF with the vocabulary and a tiny zero-weight model, so that
//!   llama.cpp's `llama-tokenize` and `mote tokenize` can load the tokenizer.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::{corpus, hf_tokenizer, train, SpmVocab, TokenType};
use crate::error::{Error, Result};
use crate::gguf::llama::{FileType, LlamaParams, CHATML_TEMPLATE};
use crate::gguf::GgufWriter;

/// What [`train_to_dir`] did.
#[derive(Debug, Clone)]
pub struct TrainReport {
    pub dir: PathBuf,
    pub n_texts: usize,
    /// Tokens in the vocabulary (at most the size asked for).
    pub n_tokens: usize,
    /// Learned pieces of more than one character.
    pub n_merged: usize,
}

impl fmt::Display for TrainReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} texts -> {} tokens ({} merged pieces) in {}",
            self.n_texts,
            self.n_tokens,
            self.n_merged,
            self.dir.display()
        )
    }
}

/// Train a tokenizer of at most `vocab_size` tokens on `inputs` and write the files of
/// this module into `dir` (created if missing).
pub fn train_to_dir(
    inputs: &[impl AsRef<Path>],
    vocab_size: usize,
    dir: &Path,
) -> Result<TrainReport> {
    let texts = corpus::read_texts(inputs)?;
    let v = train(&texts, vocab_size)?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    write_files(&v, dir)?;
    let n_merged = v
        .tokens
        .iter()
        .zip(&v.token_types)
        .filter(|(s, &t)| t == TokenType::Normal && s.chars().count() > 1)
        .count();
    Ok(TrainReport {
        dir: dir.to_path_buf(),
        n_texts: texts.len(),
        n_tokens: v.tokens.len(),
        n_merged,
    })
}

/// Write every file of the output directory for `v`.
pub fn write_files(v: &SpmVocab, dir: &Path) -> Result<()> {
    let t = hf_tokenizer(v)?;
    let json = t
        .to_string(true)
        .map_err(|e| Error::Tokenizer(format!("cannot serialize tokenizer.json: {e}")))?;
    write(&dir.join("tokenizer.json"), json + "\n")?;
    write(&dir.join("tokenizer_config.json"), tokenizer_config(v))?;
    write(&dir.join("vocab.json"), vocab_json(v))?;
    write_vocab_gguf(v, &dir.join("vocab.gguf"))?;
    Ok(())
}

fn write(path: &Path, text: String) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
}

/// `tokenizer_config.json` for `transformers`' `PreTrainedTokenizerFast`.
fn tokenizer_config(v: &SpmVocab) -> String {
    let token = |id: u32| v.tokens[id as usize].as_str();
    let config = json!({
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": token(v.bos),
        "eos_token": token(v.eos),
        "unk_token": token(v.unk),
        "add_bos_token": v.add_bos,
        "add_eos_token": v.add_eos,
        "clean_up_tokenization_spaces": false,
        "chat_template": CHATML_TEMPLATE,
    });
    format!("{config:#}\n")
}

/// Every token on its own line: `{"id", "piece", "score", "type"}`.
fn vocab_json(v: &SpmVocab) -> String {
    let mut out = String::from("[\n");
    for (i, piece) in v.tokens.iter().enumerate() {
        let ty = match v.token_types[i] {
            TokenType::Normal => "normal",
            TokenType::Unknown => "unknown",
            TokenType::Control => "control",
            TokenType::UserDefined => "user_defined",
            TokenType::Unused => "unused",
            TokenType::Byte => "byte",
        };
        let line = json!({"id": i, "piece": piece, "score": v.scores[i], "type": ty});
        let sep = if i + 1 < v.tokens.len() { "," } else { "" };
        out.push_str(&format!("  {line}{sep}\n"));
    }
    out.push_str("]\n");
    out
}

/// Width of the zero-weight model in `vocab.gguf`.
const PROBE_DIM: u64 = 32;

/// Write a llama GGUF that carries `v` (and the ChatML template) with a one-layer model of
/// zero weights: the smallest file llama.cpp's tools and mote-runtime load as a model.
pub fn write_vocab_gguf(v: &SpmVocab, path: &Path) -> Result<u64> {
    let d = PROBE_DIM;
    let n_vocab = v.tokens.len() as u64;
    let params = LlamaParams {
        name: "mote-tokenizer".into(),
        context_length: 256,
        embedding_length: d as u32,
        block_count: 1,
        feed_forward_length: d as u32,
        head_count: 1,
        head_count_kv: 1,
        vocab_size: n_vocab as u32,
        rms_norm_eps: 1e-5,
        rope_freq_base: 10_000.0,
        file_type: FileType::AllF32,
    };
    let mut w = GgufWriter::new();
    params.write(&mut w)?;
    v.write(&mut w, Some(CHATML_TEMPLATE))?;
    let ones = vec![1.0f32; d as usize];
    let zeros = |n: u64| vec![0.0f32; n as usize];
    w.add_f32_tensor("token_embd.weight", &[d, n_vocab], &zeros(d * n_vocab))?;
    w.add_f32_tensor("blk.0.attn_norm.weight", &[d], &ones)?;
    for m in ["attn_q", "attn_k", "attn_v", "attn_output"] {
        w.add_f32_tensor(&format!("blk.0.{m}.weight"), &[d, d], &zeros(d * d))?;
    }
    w.add_f32_tensor("blk.0.ffn_norm.weight", &[d], &ones)?;
    for m in ["ffn_gate", "ffn_up", "ffn_down"] {
        w.add_f32_tensor(&format!("blk.0.{m}.weight"), &[d, d], &zeros(d * d))?;
    }
    w.add_f32_tensor("output_norm.weight", &[d], &ones)?;
    w.write(path)
}
