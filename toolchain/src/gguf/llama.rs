//! The llama model-file contract (DESIGN §4): hyperparameter and tokenizer keys, written in
//! the order and with the value types llama.cpp's own converter uses.

use super::writer::{GgufWriter, WriteError};
use crate::error::Result;

/// ChatML as a Jinja template, so llama.cpp's chat mode recognises it. Each `\n` is a real
/// newline character inside a Jinja string literal.
pub const CHATML_TEMPLATE: &str = concat!(
    "{% for message in messages %}",
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}",
    "{% endfor %}",
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
);

/// The ChatML turn delimiters.
pub const IM_START: &str = "<|im_start|>";
pub const IM_END: &str = "<|im_end|>";

/// `general.file_type`: llama.cpp's `llama_ftype` for the weight types mote writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum FileType {
    AllF32 = 0,
    MostlyF16 = 1,
    MostlyQ4_0 = 2,
    MostlyQ8_0 = 7,
}

impl FileType {
    pub fn is_quantized(self) -> bool {
        !matches!(self, FileType::AllF32 | FileType::MostlyF16)
    }
}

/// `tokenizer.ggml.token_type` values (llama.cpp's `llama_token_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum TokenType {
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}

/// Hyperparameters of a llama model, as GGUF stores them.
#[derive(Debug, Clone, PartialEq)]
pub struct LlamaParams {
    pub name: String,
    pub context_length: u32,
    pub embedding_length: u32,
    pub block_count: u32,
    pub feed_forward_length: u32,
    pub head_count: u32,
    pub head_count_kv: u32,
    pub vocab_size: u32,
    pub rms_norm_eps: f32,
    pub rope_freq_base: f32,
    pub file_type: FileType,
}

impl LlamaParams {
    /// Per-head dimension, which is also `llama.rope.dimension_count` (all of it is rotated).
    pub fn head_dim(&self) -> u32 {
        self.embedding_length / self.head_count
    }

    /// Write `general.*` and `llama.*` keys.
    pub fn write(&self, w: &mut GgufWriter<'_>) -> Result<()> {
        w.add_string("general.architecture", "llama")?;
        w.add_string("general.name", self.name.as_str())?;
        w.add_u32("llama.context_length", self.context_length)?;
        w.add_u32("llama.embedding_length", self.embedding_length)?;
        w.add_u32("llama.block_count", self.block_count)?;
        w.add_u32("llama.feed_forward_length", self.feed_forward_length)?;
        w.add_u32("llama.rope.dimension_count", self.head_dim())?;
        w.add_u32("llama.attention.head_count", self.head_count)?;
        w.add_u32("llama.attention.head_count_kv", self.head_count_kv)?;
        w.add_f32("llama.attention.layer_norm_rms_epsilon", self.rms_norm_eps)?;
        w.add_f32("llama.rope.freq_base", self.rope_freq_base)?;
        w.add_u32("llama.vocab_size", self.vocab_size)?;
        w.add_u32("general.file_type", self.file_type as u32)?;
        if self.file_type.is_quantized() {
            w.add_u32("general.quantization_version", 2)?;
        }
        Ok(())
    }
}

/// A SentencePiece-style vocabulary (`tokenizer.ggml.model = "llama"`).
#[derive(Debug, Clone, PartialEq)]
pub struct SpmVocab {
    /// Pieces with `▁` (U+2581) for a space and `<0xXX>` byte-fallback tokens.
    pub tokens: Vec<String>,
    pub scores: Vec<f32>,
    pub token_types: Vec<TokenType>,
    pub bos: u32,
    pub eos: u32,
    pub unk: u32,
    pub add_bos: bool,
    pub add_eos: bool,
}

impl SpmVocab {
    /// Write the `tokenizer.*` keys, with `chat_template` if given.
    pub fn write(&self, w: &mut GgufWriter<'_>, chat_template: Option<&str>) -> Result<()> {
        let n = self.tokens.len();
        if self.scores.len() != n || self.token_types.len() != n {
            return Err(
                WriteError::Vocab("tokens, scores and token types differ in length").into(),
            );
        }
        if [self.bos, self.eos, self.unk]
            .iter()
            .any(|&id| id as usize >= n)
        {
            return Err(WriteError::Vocab("a special token id is outside the vocabulary").into());
        }
        w.add_string("tokenizer.ggml.model", "llama")?;
        // llama.cpp ignores the pre-tokenizer for "llama" vocabularies; its converter writes it.
        w.add_string("tokenizer.ggml.pre", "default")?;
        w.add_array("tokenizer.ggml.tokens", self.tokens.clone())?;
        w.add_array("tokenizer.ggml.scores", self.scores.clone())?;
        let types: Vec<i32> = self.token_types.iter().map(|&t| t as i32).collect();
        w.add_array("tokenizer.ggml.token_type", types)?;
        w.add_u32("tokenizer.ggml.bos_token_id", self.bos)?;
        w.add_u32("tokenizer.ggml.eos_token_id", self.eos)?;
        w.add_u32("tokenizer.ggml.unknown_token_id", self.unk)?;
        w.add_bool("tokenizer.ggml.add_bos_token", self.add_bos)?;
        w.add_bool("tokenizer.ggml.add_eos_token", self.add_eos)?;
        if let Some(t) = chat_template {
            w.add_string("tokenizer.chat_template", t)?;
        }
        Ok(())
    }
}

impl SpmVocab {
    /// Read a "llama" (SentencePiece-style) vocabulary from a GGUF file's metadata.
    pub fn from_gguf(g: &mote_runtime::Gguf<'_>) -> std::result::Result<Self, String> {
        let model = g.get("tokenizer.ggml.model").and_then(|v| v.as_str());
        if model != Some("llama") {
            return Err(format!(
                "tokenizer.ggml.model is {model:?}; only \"llama\" vocabularies are supported"
            ));
        }
        let array = |key: &str| {
            g.get(key)
                .and_then(|v| v.as_array())
                .ok_or_else(|| format!("no array {key}"))
        };
        let tokens: Vec<String> = array("tokenizer.ggml.tokens")?
            .strings()
            .map(|b| {
                std::str::from_utf8(b)
                    .map(str::to_owned)
                    .map_err(|_| "a token of tokenizer.ggml.tokens is not UTF-8".to_string())
            })
            .collect::<std::result::Result<_, _>>()?;
        let n = tokens.len();
        let scores_a = array("tokenizer.ggml.scores")?;
        let types_a = array("tokenizer.ggml.token_type")?;
        if scores_a.len() != n || types_a.len() != n {
            return Err("tokens, scores and token types differ in length".into());
        }
        let scores = (0..n)
            .map(|i| scores_a.f32(i).ok_or("tokenizer.ggml.scores is not f32"))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let token_types = (0..n)
            .map(|i| match types_a.i32(i) {
                Some(1) => Ok(TokenType::Normal),
                Some(2) => Ok(TokenType::Unknown),
                Some(3) => Ok(TokenType::Control),
                Some(4) => Ok(TokenType::UserDefined),
                Some(5) => Ok(TokenType::Unused),
                Some(6) => Ok(TokenType::Byte),
                other => Err(format!("token {i} has type {other:?}")),
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let id = |key: &str, default: u32| {
            g.get(key)
                .and_then(|v| v.as_u64())
                .map_or(default, |v| v as u32)
        };
        let flag =
            |key: &str, default: bool| g.get(key).and_then(|v| v.as_bool()).unwrap_or(default);
        Ok(SpmVocab {
            tokens,
            scores,
            token_types,
            bos: id("tokenizer.ggml.bos_token_id", 1),
            eos: id("tokenizer.ggml.eos_token_id", 2),
            unk: id("tokenizer.ggml.unknown_token_id", 0),
            add_bos: flag("tokenizer.ggml.add_bos_token", true),
            add_eos: flag("tokenizer.ggml.add_eos_token", false),
        })
    }
}
