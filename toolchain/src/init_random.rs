//! Model configs (`models/configs/*.toml`) and random-weight llama models built from them,
//! for benchmarks and tests of any model size.
//!
//! A config is one `[model]` table:
//!
//! ```toml
//! [model]
//! name = "stories15m"
//! dim = 288          # embedding width
//! n_layers = 6
//! n_heads = 6
//! n_kv_heads = 6     # optional, default n_heads (fewer = grouped-query attention)
//! hidden = 768       # feed-forward width
//! vocab = 32000
//! ctx = 256          # context length
//! tied = true        # optional, default false: output head shares token_embd
//! rope_base = 10000.0  # optional, default 10000
//! rms_eps = 1e-5       # optional, default 1e-5
//! ```
//!
//! The random model is a complete GGUF file per the model-file contract: every `llama.*`
//! key, a SentencePiece-style vocabulary of `vocab` tokens ([`synthetic_vocab`]) and the
//! ChatML template. Weights depend only on the seed and the tensor's name, so the same seed
//! gives the same file, and files of different [`Quant`]s hold the same weights quantized
//! differently. They are drawn as a real initialisation would (normal, std 0.02; the two
//! projections back into the residual stream scaled by `1/sqrt(2·n_layers)`); norms are
//! 1.0. Tensors are generated row by row while the file is written, so a model never needs
//! to fit in memory.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use mote_runtime::quant::GgmlType;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::gguf::llama::{LlamaParams, SpmVocab, TokenType, CHATML_TEMPLATE, IM_END, IM_START};
use crate::gguf::{GgufWriter, TensorData};
use crate::quantize::{quantize_row, Quant};

/// Standard deviation of every weight matrix at initialisation.
pub const INIT_STD: f32 = 0.02;
/// The fixed head of the synthetic vocabulary: unk, bos, eos, the ChatML delimiters.
pub const UNK_ID: u32 = 0;
pub const BOS_ID: u32 = 1;
pub const EOS_ID: u32 = 2;
pub const IM_START_ID: u32 = 3;
pub const IM_END_ID: u32 = 4;
/// Id of the byte token `<0x00>`; `<0xXX>` is `FIRST_BYTE_ID + 0xXX`.
pub const FIRST_BYTE_ID: u32 = 5;
/// Smallest vocabulary: the special and byte tokens plus `▁`.
pub const MIN_VOCAB: usize = FIRST_BYTE_ID as usize + 256 + 1;

// Bounds that keep every size computation far from overflow and within what GGUF readers
// accept; far above any model this project makes.
const MAX_DIM: usize = 1 << 16;
const MAX_HIDDEN: usize = 1 << 18;
const MAX_HEADS: usize = 1 << 10;
const MAX_LAYERS: usize = 4096;
const MAX_VOCAB: usize = 1 << 22;
const MAX_CTX: usize = 1 << 24;

fn default_rope_base() -> f32 {
    10_000.0
}

fn default_rms_eps() -> f32 {
    1e-5
}

/// A llama model's geometry, as written in a `models/configs/*.toml` file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// `general.name` of the files made from it.
    pub name: String,
    /// Embedding width.
    pub dim: usize,
    pub n_layers: usize,
    pub n_heads: usize,
    /// Key/value heads; fewer than `n_heads` is grouped-query attention. Default `n_heads`.
    #[serde(default)]
    pub n_kv_heads: Option<usize>,
    /// Feed-forward (SwiGLU) width.
    pub hidden: usize,
    pub vocab: usize,
    /// Context length.
    pub ctx: usize,
    /// The output head is the token embedding.
    #[serde(default)]
    pub tied: bool,
    #[serde(default = "default_rope_base")]
    pub rope_base: f32,
    #[serde(default = "default_rms_eps")]
    pub rms_eps: f32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    model: ModelConfig,
}

/// A config value out of range: which field, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("model.{field}: {what}")]
pub struct ConfigError {
    pub field: &'static str,
    pub what: String,
}

impl ModelConfig {
    /// Read and check a config file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text, path)
    }

    /// Parse and check the text of a config file; `path` is only for error messages, which
    /// point at the offending key.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| {
            let at = e.span().map_or(0, |s| s.start);
            Error::format(path, at as u64, e.message().trim_end().to_owned())
        })?;
        let c = file.model;
        c.validate()
            .map_err(|e| Error::format(path, key_offset(text, e.field), e.to_string()))?;
        Ok(c)
    }

    /// Key/value heads (`n_kv_heads`, or `n_heads` when not given).
    pub fn kv_heads(&self) -> usize {
        self.n_kv_heads.unwrap_or(self.n_heads)
    }

    /// Per-head width, `dim / n_heads`.
    pub fn head_dim(&self) -> usize {
        self.dim / self.n_heads
    }

    /// Width of one key or value row, `kv_heads · head_dim`.
    pub fn kv_dim(&self) -> usize {
        self.kv_heads() * self.head_dim()
    }

    /// Weights in the model, norms included.
    pub fn n_params(&self) -> u64 {
        let (dim, kv, hidden) = (self.dim as u64, self.kv_dim() as u64, self.hidden as u64);
        let layer = 2 * dim + 2 * dim * dim + 2 * dim * kv + 3 * dim * hidden;
        let head = if self.tied {
            0
        } else {
            self.vocab as u64 * dim
        };
        self.vocab as u64 * dim + self.n_layers as u64 * layer + dim + head
    }

    /// Check every value: shapes the runtime and llama.cpp can run, sizes in bounds.
    pub fn validate(&self) -> std::result::Result<(), ConfigError> {
        let err = |field, what: String| Err(ConfigError { field, what });
        let range = |field, v: usize, lo: usize, hi: usize| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                err(field, format!("{v} is outside {lo}..={hi}"))
            }
        };
        if self.name.trim().is_empty() {
            return err("name", "is empty".into());
        }
        range("dim", self.dim, 1, MAX_DIM)?;
        range("n_layers", self.n_layers, 1, MAX_LAYERS)?;
        range("n_heads", self.n_heads, 1, MAX_HEADS)?;
        range("hidden", self.hidden, 1, MAX_HIDDEN)?;
        range("vocab", self.vocab, MIN_VOCAB, MAX_VOCAB)?;
        range("ctx", self.ctx, 1, MAX_CTX)?;
        if !self.dim.is_multiple_of(self.n_heads) || !self.head_dim().is_multiple_of(2) {
            let what = format!(
                "dim {} must split into {} heads of an even width (RoPE rotates pairs)",
                self.dim, self.n_heads
            );
            return err("n_heads", what);
        }
        let kv = self.kv_heads();
        if kv == 0 || !self.n_heads.is_multiple_of(kv) {
            let what = format!("{kv} must divide n_heads = {}", self.n_heads);
            return err("n_kv_heads", what);
        }
        for (field, v) in [("rope_base", self.rope_base), ("rms_eps", self.rms_eps)] {
            if !(v.is_finite() && v > 0.0) {
                return err(field, format!("{v} must be a positive number"));
            }
        }
        Ok(())
    }

    /// The GGUF hyperparameters of a file with this geometry and weight format.
    pub fn llama_params(&self, quant: Quant) -> LlamaParams {
        LlamaParams {
            name: self.name.clone(),
            context_length: self.ctx as u32,
            embedding_length: self.dim as u32,
            block_count: self.n_layers as u32,
            feed_forward_length: self.hidden as u32,
            head_count: self.n_heads as u32,
            head_count_kv: self.kv_heads() as u32,
            vocab_size: self.vocab as u32,
            rms_norm_eps: self.rms_eps,
            rope_freq_base: self.rope_base,
            file_type: quant.file_type(),
        }
    }
}

/// Byte offset of `model.<field>` in a config's text (its key), or 0 if it is not there.
fn key_offset(text: &str, field: &str) -> u64 {
    let Ok(root) = toml::de::DeTable::parse(text) else {
        return 0;
    };
    let Some(model) = root.get_ref().iter().find(|(k, _)| k.get_ref() == "model") else {
        return 0;
    };
    let at = match model.1.get_ref() {
        toml::de::DeValue::Table(t) => t
            .iter()
            .find(|(k, _)| k.get_ref() == field)
            .map_or(model.0.span().start, |(k, _)| k.span().start),
        _ => model.0.span().start,
    };
    at as u64
}

/// The `i`-th synthetic piece: `▁`, then for lengths 1, 2, 3, …, every string of `a`–`z`
/// in order, each first with a leading `▁` and then without (`▁a`, `a`, `▁b`, `b`, …).
/// All distinct, and every piece longer than one character is the concatenation of two
/// earlier ones, so the tokenizer's merges can build it.
fn synthetic_piece(i: usize) -> String {
    let Some(j) = i.checked_sub(1) else {
        return "\u{2581}".into();
    };
    // j / 2 indexes the words of a–z by length, then alphabetically; j % 2 picks the form.
    let (mut k, mut len, mut count) = (j / 2, 1, 26usize);
    while k >= count {
        k -= count;
        len += 1;
        count *= 26;
    }
    let mut letters = vec!['a'; len];
    for l in letters.iter_mut().rev() {
        *l = char::from(b'a' + (k % 26) as u8);
        k /= 26;
    }
    let word: String = letters.into_iter().collect();
    if j.is_multiple_of(2) {
        format!("\u{2581}{word}")
    } else {
        word
    }
}

/// A SentencePiece-style vocabulary of `n` tokens (`n >= MIN_VOCAB`): `<unk>`, `<s>`,
/// `</s>`, `<|im_start|>`, `<|im_end|>`, the 256 byte tokens `<0x00>`…`<0xFF>`, then
/// synthetic normal pieces with scores 0, −1, −2, … (earlier pieces merge first).
pub fn synthetic_vocab(n: usize) -> SpmVocab {
    let mut tokens: Vec<String> = ["<unk>", "<s>", "</s>", IM_START, IM_END]
        .into_iter()
        .map(String::from)
        .collect();
    let mut token_types = vec![
        TokenType::Unknown,
        TokenType::Control,
        TokenType::Control,
        TokenType::Control,
        TokenType::Control,
    ];
    for b in 0..=255u8 {
        tokens.push(format!("<0x{b:02X}>"));
        token_types.push(TokenType::Byte);
    }
    let mut scores = vec![0.0f32; tokens.len()];
    for i in 0..n.saturating_sub(tokens.len()) {
        tokens.push(synthetic_piece(i));
        token_types.push(TokenType::Normal);
        scores.push(0.0 - i as f32);
    }
    SpmVocab {
        tokens,
        scores,
        token_types,
        bos: BOS_ID,
        eos: EOS_ID,
        unk: UNK_ID,
        add_bos: true,
        add_eos: false,
    }
}

/// The weights of one tensor: a SplitMix64 stream keyed by the seed and the tensor's name,
/// turned into normal values by Marsaglia's polar method (in f64, with `libm`'s `log`, so
/// the values are the same on every platform).
pub(crate) struct NormalStream {
    state: u64,
    spare: Option<f64>,
}

impl NormalStream {
    pub(crate) fn new(seed: u64, tensor: &str) -> Self {
        // FNV-1a of the name, mixed with the seed.
        let name_hash = tensor.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        let mut s = NormalStream {
            state: seed,
            spare: None,
        };
        s.state = s.next_u64() ^ name_hash;
        s
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [−1, 1).
    fn signed_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 52) as f64) - 1.0
    }

    /// A standard normal value.
    fn next(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        loop {
            let (u, v) = (self.signed_unit(), self.signed_unit());
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                let m = (-2.0 * libm::log(s) / s).sqrt();
                self.spare = Some(v * m);
                return u * m;
            }
        }
    }

    pub(crate) fn fill(&mut self, row: &mut [f32], std: f32) {
        for x in row {
            *x = (self.next() * f64::from(std)) as f32;
        }
    }
}

/// One tensor of the model: name, GGUF dims (`ne[0]` first) and its initial values.
struct Spec {
    name: String,
    dims: Vec<u64>,
    /// `None`: all ones (a norm). `Some(std)`: normal with that std.
    std: Option<f32>,
}

/// The tensors of a llama model: the embedding, each block in forward order, then the head.
fn tensor_specs(c: &ModelConfig) -> Vec<Spec> {
    let (dim, kv, hidden, vocab) = (
        c.dim as u64,
        c.kv_dim() as u64,
        c.hidden as u64,
        c.vocab as u64,
    );
    let residual_std = INIT_STD / (2.0 * c.n_layers as f32).sqrt();
    let t = |name: String, dims: &[u64], std| Spec {
        name,
        dims: dims.to_vec(),
        std,
    };
    let mut v = vec![t("token_embd.weight".into(), &[dim, vocab], Some(INIT_STD))];
    for l in 0..c.n_layers {
        let n = |s: &str| format!("blk.{l}.{s}.weight");
        v.push(t(n("attn_norm"), &[dim], None));
        v.push(t(n("attn_q"), &[dim, dim], Some(INIT_STD)));
        v.push(t(n("attn_k"), &[dim, kv], Some(INIT_STD)));
        v.push(t(n("attn_v"), &[dim, kv], Some(INIT_STD)));
        v.push(t(n("attn_output"), &[dim, dim], Some(residual_std)));
        v.push(t(n("ffn_norm"), &[dim], None));
        v.push(t(n("ffn_gate"), &[dim, hidden], Some(INIT_STD)));
        v.push(t(n("ffn_up"), &[dim, hidden], Some(INIT_STD)));
        v.push(t(n("ffn_down"), &[hidden, dim], Some(residual_std)));
    }
    v.push(t("output_norm.weight".into(), &[dim], None));
    if !c.tied {
        v.push(t("output.weight".into(), &[dim, vocab], Some(INIT_STD)));
    }
    v
}

/// A matrix stored in another type than the file's, because its rows are not whole blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fallback {
    pub tensor: String,
    /// Values per row.
    pub ne0: u64,
    pub wanted: GgmlType,
    pub used: GgmlType,
}

/// What [`init_random`] wrote.
#[derive(Debug, Clone)]
pub struct InitReport {
    pub path: PathBuf,
    pub config: ModelConfig,
    pub quant: Quant,
    pub seed: u64,
    pub n_tensors: usize,
    pub n_params: u64,
    pub file_bytes: u64,
    pub fallbacks: Vec<Fallback>,
}

impl fmt::Display for InitReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        writeln!(
            f,
            "{}: dim {}, {} layers, {} heads ({} kv), hidden {}, vocab {}, ctx {}, {} output",
            c.name,
            c.dim,
            c.n_layers,
            c.n_heads,
            c.kv_heads(),
            c.hidden,
            c.vocab,
            c.ctx,
            if c.tied { "tied" } else { "untied" },
        )?;
        // Fallbacks grouped by role and type change, e.g. all ffn_down of every layer.
        let mut groups: BTreeMap<(String, u64, &str, usize, &str), usize> = BTreeMap::new();
        for fb in &self.fallbacks {
            let role = match fb.tensor.split_once('.') {
                Some(("blk", rest)) => {
                    format!("blk.*.{}", rest.split_once('.').map_or(rest, |r| r.1))
                }
                _ => fb.tensor.clone(),
            };
            let (wanted, used) = (fb.wanted.traits(), fb.used.traits());
            let key = (role, fb.ne0, wanted.name, wanted.block_size, used.name);
            *groups.entry(key).or_default() += 1;
        }
        for ((role, ne0, wanted, block, used), n) in groups {
            writeln!(
                f,
                "note: {role} ({n} tensor{}): rows of {ne0} values are not whole {wanted} \
                 blocks of {block}; stored as {used}, as llama-quantize does",
                if n == 1 { "" } else { "s" },
            )?;
        }
        write!(
            f,
            "{} weights, {} tensors, {} (seed {}) -> {} ({:.2} MiB)",
            self.n_params,
            self.n_tensors,
            self.quant,
            self.seed,
            self.path.display(),
            self.file_bytes as f64 / (1024.0 * 1024.0)
        )
    }
}

/// Write a llama model with random weights for `config` to `out` (atomically): 2-D weights
/// in `quant`'s type (F16 where rows are not whole blocks), norms F32.
pub fn init_random(
    config: &ModelConfig,
    quant: Quant,
    seed: u64,
    out: &Path,
) -> Result<InitReport> {
    config.validate().map_err(|e| {
        Error::format(
            Path::new(&format!("model config {:?}", config.name)),
            0,
            e.to_string(),
        )
    })?;
    let mut w = GgufWriter::new();
    config.llama_params(quant).write(&mut w)?;
    synthetic_vocab(config.vocab).write(&mut w, Some(CHATML_TEMPLATE))?;

    let specs = tensor_specs(config);
    let n_tensors = specs.len();
    let mut fallbacks = Vec::new();
    for spec in specs {
        let ne0 = spec.dims[0];
        let rows = spec.dims[1..].iter().product::<u64>();
        let Some(std) = spec.std else {
            let ones = vec![1.0f32; ne0 as usize];
            w.add_f32_tensor(&spec.name, &spec.dims, &ones)?;
            continue;
        };
        let ty = quant.tensor_type(ne0 as usize);
        if ty != quant.matrix_type() {
            fallbacks.push(Fallback {
                tensor: spec.name.clone(),
                ne0,
                wanted: quant.matrix_type(),
                used: ty,
            });
        }
        let name = spec.name.clone();
        let stream = move |sink: &mut dyn Write| -> io::Result<()> {
            let mut values = NormalStream::new(seed, &name);
            let mut row = vec![0.0f32; ne0 as usize];
            let mut bytes = Vec::new();
            for _ in 0..rows {
                values.fill(&mut row, std);
                bytes.clear();
                quantize_row(ty, &row, &mut bytes).map_err(io::Error::other)?;
                sink.write_all(&bytes)?;
            }
            Ok(())
        };
        w.add_tensor(
            &spec.name,
            &spec.dims,
            ty,
            TensorData::Stream(Box::new(stream)),
        )?;
    }
    let file_bytes = w.write(out)?;
    Ok(InitReport {
        path: out.to_path_buf(),
        config: config.clone(),
        quant,
        seed,
        n_tensors,
        n_params: config.n_params(),
        file_bytes,
        fallbacks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_pieces_are_distinct_and_ordered() {
        let first: Vec<String> = (0..5).map(synthetic_piece).collect();
        assert_eq!(first, ["\u{2581}", "\u{2581}a", "a", "\u{2581}b", "b"]);
        assert_eq!(synthetic_piece(52), "z");
        assert_eq!(synthetic_piece(53), "\u{2581}aa");
        assert_eq!(synthetic_piece(54), "aa");
        assert_eq!(synthetic_piece(1 + 2 * (26 + 26 * 26)), "\u{2581}aaa");
        let v = synthetic_vocab(32000);
        let unique: std::collections::HashSet<&String> = v.tokens.iter().collect();
        assert_eq!(unique.len(), 32000);
        assert_eq!(v.tokens[FIRST_BYTE_ID as usize + 0x41], "<0x41>");
        assert_eq!(v.tokens[MIN_VOCAB - 1], "\u{2581}");
        assert_eq!(v.scores[MIN_VOCAB], -1.0);
    }

    #[test]
    fn normal_stream_has_the_right_moments() {
        let mut s = NormalStream::new(7, "t");
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| s.next()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "variance {var}");
        let a = NormalStream::new(7, "t").next();
        assert_eq!(a, xs[0], "deterministic");
        assert_ne!(NormalStream::new(7, "u").next(), a, "keyed by name");
        assert_ne!(NormalStream::new(8, "t").next(), a, "keyed by seed");
    }

    #[test]
    fn params_are_counted() {
        let c = ModelConfig {
            name: "x".into(),
            dim: 288,
            n_layers: 6,
            n_heads: 6,
            n_kv_heads: None,
            hidden: 768,
            vocab: 32000,
            ctx: 256,
            tied: true,
            rope_base: 10_000.0,
            rms_eps: 1e-5,
        };
        // llama2.c's stories15M: 15,191,712 parameters.
        assert_eq!(c.n_params(), 15_191_712);
        let total: u64 = tensor_specs(&c)
            .iter()
            .map(|s| s.dims.iter().product::<u64>())
            .sum();
        assert_eq!(total, c.n_params());
    }
}
