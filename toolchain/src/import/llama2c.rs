//! llama2.c's legacy float32 checkpoint and its `tokenizer.bin` → an F32 llama GGUF.
//!
//! The checkpoint is what llama2.c's `export.py --version 0` writes and `run.c` reads:
//!
//! ```text
//! header   7 × i32 LE: dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len
//!          (vocab_size < 0: the classifier is untied and `wcls` follows at the end)
//! weights  f32 LE, in this order (kv_dim = dim · n_kv_heads / n_heads):
//!          token_embedding [vocab][dim]
//!          rms_att  [L][dim]          wq [L][dim][dim]     wk [L][kv_dim][dim]
//!          wv [L][kv_dim][dim]        wo [L][dim][dim]     rms_ffn [L][dim]
//!          w1 [L][hidden][dim]        w2 [L][dim][hidden]  w3 [L][hidden][dim]
//!          rms_final [dim]
//!          freq_cis_real [seq_len][head_dim/2], freq_cis_imag [seq_len][head_dim/2] (skipped)
//!          wcls [vocab][dim]          (only when untied)
//! ```
//!
//! Matrices are row-major `[out][in]`, which is GGUF's layout with `ne[0] = in`, so they
//! are copied as they are. llama2.c rotates adjacent pairs `(x[2i], x[2i+1])`, as GGUF's
//! NORM RoPE does, so q/k need no permutation. `w1`/`w2`/`w3` are gate/down/up.
//!
//! `tokenizer.bin` is `i32 max_token_length`, then for each of the model's `vocab_size`
//! tokens: `f32 score, i32 len, len bytes`. llama2.c's exporter wrote pieces with `▁` turned
//! into a space and BOS/EOS as `"\n<s>\n"`/`"\n</s>\n"`; both are undone here.
//!
//! Token types: `<unk>` is unknown, `<s>`/`</s>` are control, `<0xXX>` are bytes, and
//! everything else is normal, except the ChatML delimiters `<|im_start|>`/`<|im_end|>`: the
//! file declares a ChatML chat template, so when the vocabulary has these pieces they are
//! marked control, as the template needs them to be one special token each. Other
//! `<|…|>`-looking pieces stay normal; llama2.c keeps no record of which pieces were special.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use mote_runtime::error::TensorRole;

use crate::error::{Error, Result};
use crate::gguf::llama::{
    FileType, LlamaParams, SpmVocab, TokenType, CHATML_TEMPLATE, IM_END, IM_START,
};
use crate::gguf::{GgmlType, GgufWriter, TensorData};

/// Size of the legacy header: seven i32.
pub const HEADER_BYTES: u64 = 7 * 4;
/// llama2.c's fixed special-token ids (run.c hard-codes BOS = 1, EOS = 2).
pub const UNK_ID: u32 = 0;
pub const BOS_ID: u32 = 1;
pub const EOS_ID: u32 = 2;
/// llama2.c's defaults, which the legacy format does not store.
pub const RMS_NORM_EPS: f32 = 1e-5;
pub const ROPE_FREQ_BASE: f32 = 10000.0;

// Bounds on header values: far above any llama2.c model (Llama 2 70B has dim 8192,
// hidden 28672, 80 layers, vocab 32000), low enough that every size below fits in u64.
const MAX_DIM: i64 = 1 << 16;
const MAX_HIDDEN: i64 = 1 << 18;
const MAX_LAYERS: i64 = 512;
const MAX_VOCAB: i64 = 1 << 22;
const MAX_SEQ_LEN: i64 = 1 << 20;
const MAX_TOKEN_LEN: i64 = 1 << 16;
/// The newer llama2.c formats (`--version 1/2`) start with this magic ("ak42").
const AK42_MAGIC: u32 = 0x616b_3432;

const FIELDS: [&str; 7] = [
    "dim",
    "hidden_dim",
    "n_layers",
    "n_heads",
    "n_kv_heads",
    "vocab_size",
    "seq_len",
];

/// Model geometry from a llama2.c header (`vocab_size` is positive here; see `tied`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Llama2cConfig {
    pub dim: usize,
    pub hidden_dim: usize,
    pub n_layers: usize,
    pub n_heads: usize,
    pub n_kv_heads: usize,
    pub vocab_size: usize,
    pub seq_len: usize,
}

impl Llama2cConfig {
    pub fn head_dim(&self) -> usize {
        self.dim / self.n_heads
    }

    pub fn kv_dim(&self) -> usize {
        self.head_dim() * self.n_kv_heads
    }
}

/// What an import produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub config: Llama2cConfig,
    /// Weights in the output file (the tied embedding counted once).
    pub n_params: u64,
    /// The classifier shares the token embedding (no `output.weight` written).
    pub tied: bool,
}

/// Convert a llama2.c legacy checkpoint and its tokenizer into an F32 GGUF at `out`
/// (written atomically). `general.name` is the checkpoint's file stem.
pub fn import_llama2c(model: &Path, tokenizer: &Path, out: &Path) -> Result<ImportReport> {
    let (config, tied, layout) = read_checkpoint_layout(model)?;
    let vocab = read_tokenizer(tokenizer, config.vocab_size)?;

    let mut w = GgufWriter::new();
    let name = model
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "llama2c".to_owned());
    // Header values were bounded by `read_checkpoint_layout`, so they fit in u32.
    let params = LlamaParams {
        name,
        context_length: config.seq_len as u32,
        embedding_length: config.dim as u32,
        block_count: config.n_layers as u32,
        feed_forward_length: config.hidden_dim as u32,
        head_count: config.n_heads as u32,
        head_count_kv: config.n_kv_heads as u32,
        vocab_size: config.vocab_size as u32,
        rms_norm_eps: RMS_NORM_EPS,
        rope_freq_base: ROPE_FREQ_BASE,
        file_type: FileType::AllF32,
    };
    params.write(&mut w)?;
    vocab.write(&mut w, Some(CHATML_TEMPLATE))?;
    add_tensors(&mut w, model, &config, &layout)?;
    w.write(out)?;

    let c = &config;
    let (dim, kv, hidden, vocab) = (
        c.dim as u64,
        c.kv_dim() as u64,
        c.hidden_dim as u64,
        c.vocab_size as u64,
    );
    let per_layer = 2 * dim + 2 * dim * dim + 2 * dim * kv + 3 * dim * hidden;
    let n_params =
        vocab * dim + c.n_layers as u64 * per_layer + dim + if tied { 0 } else { vocab * dim };
    Ok(ImportReport {
        config,
        n_params,
        tied,
    })
}

impl std::fmt::Display for ImportReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.config;
        write!(
            f,
            "dim {}, hidden {}, {} layers, {} heads ({} kv), vocab {}, context {}; \
             {} parameters, {} output",
            c.dim,
            c.hidden_dim,
            c.n_layers,
            c.n_heads,
            c.n_kv_heads,
            c.vocab_size,
            c.seq_len,
            self.n_params,
            if self.tied { "tied" } else { "untied" }
        )
    }
}

/// Byte offsets of each weight section in the checkpoint.
#[derive(Debug, Clone, Copy)]
struct Layout {
    token_embedding: u64,
    rms_att: u64,
    wq: u64,
    wk: u64,
    wv: u64,
    wo: u64,
    rms_ffn: u64,
    w1: u64,
    w2: u64,
    w3: u64,
    rms_final: u64,
    wcls: Option<u64>,
    /// The file size the header implies.
    end: u64,
}

impl Layout {
    fn new(c: &Llama2cConfig, tied: bool) -> Layout {
        // Bounded header values: the largest term is below 2^46 floats, no overflow.
        let (dim, kv, hidden, l) = (
            c.dim as u64,
            c.kv_dim() as u64,
            c.hidden_dim as u64,
            c.n_layers as u64,
        );
        let vocab = c.vocab_size as u64;
        let mut at = HEADER_BYTES;
        let mut section = |floats: u64| {
            let start = at;
            at += floats * 4;
            start
        };
        let token_embedding = section(vocab * dim);
        let rms_att = section(l * dim);
        let wq = section(l * dim * dim);
        let wk = section(l * dim * kv);
        let wv = section(l * dim * kv);
        let wo = section(l * dim * dim);
        let rms_ffn = section(l * dim);
        let w1 = section(l * hidden * dim);
        let w2 = section(l * dim * hidden);
        let w3 = section(l * hidden * dim);
        let rms_final = section(dim);
        let half_head = c.head_dim() as u64 / 2;
        section(c.seq_len as u64 * half_head); // freq_cis_real
        section(c.seq_len as u64 * half_head); // freq_cis_imag
        let wcls = (!tied).then(|| section(vocab * dim));
        Layout {
            token_embedding,
            rms_att,
            wq,
            wk,
            wv,
            wo,
            rms_ffn,
            w1,
            w2,
            w3,
            rms_final,
            wcls,
            end: at,
        }
    }
}

/// Read and validate the header, and check the file is exactly as long as it implies.
fn read_checkpoint_layout(path: &Path) -> Result<(Llama2cConfig, bool, Layout)> {
    let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
    let len = f.metadata().map_err(|e| Error::io(path, e))?.len();
    if len < HEADER_BYTES {
        let what = format!(
            "file is {len} bytes, shorter than the {HEADER_BYTES}-byte llama2.c header (7 × i32)"
        );
        return Err(Error::format(path, 0, what));
    }
    let mut raw = [0u8; HEADER_BYTES as usize];
    f.read_exact(&mut raw).map_err(|e| Error::io(path, e))?;
    let header: [i32; 7] =
        std::array::from_fn(|i| i32::from_le_bytes(raw[4 * i..4 * i + 4].try_into().unwrap()));
    let (config, tied) = parse_header(path, &raw, header)?;
    let layout = Layout::new(&config, tied);
    if len != layout.end {
        let fields = FIELDS
            .iter()
            .zip(header)
            .map(|(n, v)| format!("{n} {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        let expected = layout.end;
        let (offset, what) = if len < expected {
            let what = format!(
                "file is {len} bytes but its header ({fields}) implies {expected}: \
                 it is truncated (missing {} bytes)",
                expected - len
            );
            (len, what)
        } else {
            let what = format!(
                "file is {len} bytes but its header ({fields}) implies {expected}: \
                 {} unexpected bytes after the weights (wrong header, or not a \
                 legacy float32 llama2.c checkpoint)",
                len - expected
            );
            (expected, what)
        };
        return Err(Error::format(path, offset, what));
    }
    Ok((config, tied, layout))
}

fn parse_header(path: &Path, raw: &[u8], h: [i32; 7]) -> Result<(Llama2cConfig, bool)> {
    if &raw[..4] == b"GGUF" {
        return Err(Error::format(
            path,
            0,
            "this is a GGUF file, not a llama2.c checkpoint",
        ));
    }
    if h[0] as u32 == AK42_MAGIC {
        let what = format!(
            "this is a llama2.c version-{} export (magic \"ak42\"); only the legacy float32 \
             format (export.py --version 0) is supported",
            h[1]
        );
        return Err(Error::format(path, 0, what));
    }
    let bad = |i: usize, why: &str| {
        let what = format!("header {} = {} {why}", FIELDS[i], h[i]);
        Error::format(path, 4 * i as u64, what)
    };
    let caps = [
        MAX_DIM,
        MAX_HIDDEN,
        MAX_LAYERS,
        MAX_DIM,
        MAX_DIM,
        MAX_VOCAB,
        MAX_SEQ_LEN,
    ];
    let mut v = [0usize; 7];
    for i in 0..7 {
        // A negative vocab_size is the untied-classifier flag.
        let x = if i == 5 {
            (h[i] as i64).abs()
        } else {
            h[i] as i64
        };
        if x <= 0 {
            return Err(bad(i, "is not positive"));
        }
        if x > caps[i] {
            return Err(bad(
                i,
                &format!(
                    "is implausibly large (limit {}): not a llama2.c checkpoint?",
                    caps[i]
                ),
            ));
        }
        v[i] = x as usize;
    }
    let c = Llama2cConfig {
        dim: v[0],
        hidden_dim: v[1],
        n_layers: v[2],
        n_heads: v[3],
        n_kv_heads: v[4],
        vocab_size: v[5],
        seq_len: v[6],
    };
    if !c.dim.is_multiple_of(c.n_heads) {
        return Err(bad(3, &format!("does not divide dim {}", c.dim)));
    }
    if c.n_kv_heads > c.n_heads || !c.n_heads.is_multiple_of(c.n_kv_heads) {
        return Err(bad(4, &format!("does not divide n_heads {}", c.n_heads)));
    }
    if !c.head_dim().is_multiple_of(2) {
        let why = format!(
            "gives an odd head size {} (RoPE rotates pairs)",
            c.head_dim()
        );
        return Err(bad(3, &why));
    }
    Ok((c, h[5] > 0))
}

/// Every tensor, as a byte range of the checkpoint streamed at write time.
fn add_tensors(w: &mut GgufWriter<'_>, model: &Path, c: &Llama2cConfig, at: &Layout) -> Result<()> {
    let (dim, kv, hidden, vocab) = (
        c.dim as u64,
        c.kv_dim() as u64,
        c.hidden_dim as u64,
        c.vocab_size as u64,
    );
    let mut add = |role: TensorRole, dims: &[u64], offset: u64| {
        let data = TensorData::File {
            path: model.to_path_buf(),
            offset,
        };
        w.add_tensor(&role.to_string(), dims, GgmlType::F32, data)
    };
    add(
        TensorRole::TokenEmbedding,
        &[dim, vocab],
        at.token_embedding,
    )?;
    for l in 0..c.n_layers {
        let (i, layer) = (l as u64, l as u16);
        let matrix = |base: u64, rows: u64, cols: u64| base + i * rows * cols * 4;
        add(
            TensorRole::AttnNorm(layer),
            &[dim],
            matrix(at.rms_att, 1, dim),
        )?;
        add(
            TensorRole::AttnQ(layer),
            &[dim, dim],
            matrix(at.wq, dim, dim),
        )?;
        add(TensorRole::AttnK(layer), &[dim, kv], matrix(at.wk, kv, dim))?;
        add(TensorRole::AttnV(layer), &[dim, kv], matrix(at.wv, kv, dim))?;
        add(
            TensorRole::AttnOutput(layer),
            &[dim, dim],
            matrix(at.wo, dim, dim),
        )?;
        add(
            TensorRole::FfnNorm(layer),
            &[dim],
            matrix(at.rms_ffn, 1, dim),
        )?;
        add(
            TensorRole::FfnGate(layer),
            &[dim, hidden],
            matrix(at.w1, hidden, dim),
        )?;
        add(
            TensorRole::FfnUp(layer),
            &[dim, hidden],
            matrix(at.w3, hidden, dim),
        )?;
        add(
            TensorRole::FfnDown(layer),
            &[hidden, dim],
            matrix(at.w2, dim, hidden),
        )?;
    }
    add(TensorRole::OutputNorm, &[dim], at.rms_final)?;
    if let Some(wcls) = at.wcls {
        add(TensorRole::Output, &[dim, vocab], wcls)?;
    }
    Ok(())
}

/// Read `tokenizer.bin` for a model with `vocab_size` tokens.
fn read_tokenizer(path: &Path, vocab_size: usize) -> Result<SpmVocab> {
    let len = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .len();
    // Each token takes at least 8 bytes; a file far larger than any vocabulary could need is
    // not a tokenizer (and is not worth reading into memory).
    let limit = 4 + vocab_size as u64 * (8 + MAX_TOKEN_LEN as u64);
    if len > limit {
        let what =
            format!("file is {len} bytes, more than a {vocab_size}-token tokenizer.bin can be");
        return Err(Error::format(path, 0, what));
    }
    let data = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_tokenizer(path, &data, vocab_size)
}

fn parse_tokenizer(path: &Path, data: &[u8], vocab_size: usize) -> Result<SpmVocab> {
    let mut pos = 0usize;
    let take4 = |pos: &mut usize, what: &dyn Fn() -> String| -> Result<[u8; 4]> {
        match data.get(*pos..*pos + 4) {
            Some(b) => {
                *pos += 4;
                Ok(b.try_into().unwrap())
            }
            None => Err(Error::format(path, data.len() as u64, what())),
        }
    };
    let truncated = |i: usize| {
        move || {
            format!(
                "file is truncated: it ends inside token {i} of the {vocab_size} the model's \
                 header declares"
            )
        }
    };

    let max_len = i32::from_le_bytes(take4(&mut pos, &|| {
        "file is truncated: it ends inside max_token_length".to_owned()
    })?) as i64;
    if max_len <= 0 || max_len > MAX_TOKEN_LEN {
        let what = format!("max_token_length = {max_len} is not in 1..={MAX_TOKEN_LEN}");
        return Err(Error::format(path, 0, what));
    }

    let mut tokens = Vec::with_capacity(vocab_size);
    let mut scores = Vec::with_capacity(vocab_size);
    for i in 0..vocab_size {
        let at = pos as u64;
        let score = f32::from_le_bytes(take4(&mut pos, &truncated(i))?);
        if !score.is_finite() {
            let what = format!("token {i} has a non-finite score {score}");
            return Err(Error::format(path, at, what));
        }
        let len_at = pos as u64;
        let len = i32::from_le_bytes(take4(&mut pos, &truncated(i))?) as i64;
        if len < 0 || len > max_len {
            let what =
                format!("token {i} has length {len}, outside 0..={max_len} (max_token_length)");
            return Err(Error::format(path, len_at, what));
        }
        let bytes = data
            .get(pos..pos + len as usize)
            .ok_or_else(|| Error::format(path, data.len() as u64, truncated(i)()))?;
        let piece = std::str::from_utf8(bytes).map_err(|e| {
            let what = format!("token {i} is not valid UTF-8 ({e})");
            Error::format(path, pos as u64, what)
        })?;
        pos += len as usize;
        tokens.push(undo_llama2c_piece(piece));
        scores.push(score);
    }
    if pos != data.len() {
        let what = format!(
            "{} bytes follow the {vocab_size} tokens the model's header declares: \
             the tokenizer does not belong to this model",
            data.len() - pos
        );
        return Err(Error::format(path, pos as u64, what));
    }

    let token_types = tokens.iter().map(|t| token_type(t)).collect();
    Ok(SpmVocab {
        tokens,
        scores,
        token_types,
        bos: BOS_ID,
        eos: EOS_ID,
        unk: UNK_ID,
        add_bos: true,
        add_eos: false,
    })
}

/// Undo llama2.c's export of a SentencePiece piece.
fn undo_llama2c_piece(piece: &str) -> String {
    match piece {
        "\n<s>\n" => "<s>".to_owned(),
        "\n</s>\n" => "</s>".to_owned(),
        _ => piece.replace(' ', "\u{2581}"),
    }
}

/// The GGUF token type of a piece (see the module docs for the rules).
fn token_type(piece: &str) -> TokenType {
    match piece {
        "<unk>" => TokenType::Unknown,
        "<s>" | "</s>" | IM_START | IM_END => TokenType::Control,
        _ if is_byte_piece(piece) => TokenType::Byte,
        _ => TokenType::Normal,
    }
}

/// `<0xXX>`: SentencePiece's byte-fallback pieces.
fn is_byte_piece(piece: &str) -> bool {
    let b = piece.as_bytes();
    b.len() == 6
        && b.starts_with(b"<0x")
        && b[5] == b'>'
        && b[3].is_ascii_hexdigit()
        && b[4].is_ascii_hexdigit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_bytes(h: [i32; 7]) -> Vec<u8> {
        h.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    #[test]
    fn header_validation_names_the_field() {
        let p = Path::new("m.bin");
        let check = |h: [i32; 7], needle: &str| {
            let err = parse_header(p, &header_bytes(h), h)
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{err:?} lacks {needle:?}");
            assert!(err.starts_with("m.bin: "), "{err}");
        };
        check([0, 192, 2, 4, 2, 512, 256], "dim = 0 is not positive");
        check(
            [64, 192, 2, 3, 1, 512, 256],
            "n_heads = 3 does not divide dim 64",
        );
        check(
            [64, 192, 2, 4, 3, 512, 256],
            "n_kv_heads = 3 does not divide n_heads 4",
        );
        check([64, 192, 2, 4, 8, 512, 256], "n_kv_heads = 8");
        check([64, 192, 2, 64, 64, 512, 256], "odd head size 1");
        check([64, 192, 2, 4, 2, 0, 256], "vocab_size = 0");
        check(
            [64, 192, -2, 4, 2, 512, 256],
            "n_layers = -2 is not positive",
        );
        check(
            [64, 192, 2, 4, 2, 512, 1 << 30],
            "seq_len = 1073741824 is implausibly large",
        );
        check([AK42_MAGIC as i32, 2, 0, 0, 0, 0, 0], "version-2 export");
    }

    #[test]
    fn negative_vocab_means_untied() {
        let p = Path::new("m.bin");
        let h = [64, 192, 2, 4, 2, -512, 256];
        let (c, tied) = parse_header(p, &header_bytes(h), h).unwrap();
        assert!(!tied);
        assert_eq!(c.vocab_size, 512);
        assert_eq!((c.head_dim(), c.kv_dim()), (16, 32));
        let h = [64, 192, 2, 4, 2, 512, 256];
        assert!(parse_header(p, &header_bytes(h), h).unwrap().1);
    }

    #[test]
    fn layout_matches_run_c() {
        let c = Llama2cConfig {
            dim: 8,
            hidden_dim: 16,
            n_layers: 2,
            n_heads: 2,
            n_kv_heads: 1,
            vocab_size: 10,
            seq_len: 4,
        };
        let l = Layout::new(&c, false);
        assert_eq!(l.token_embedding, 28);
        assert_eq!(l.rms_att, 28 + 4 * 80);
        assert_eq!(l.wq, l.rms_att + 4 * 16);
        assert_eq!(l.wk, l.wq + 4 * 128);
        assert_eq!(l.wv, l.wk + 4 * 64);
        assert_eq!(l.wo, l.wv + 4 * 64);
        assert_eq!(l.rms_ffn, l.wo + 4 * 128);
        assert_eq!(l.w1, l.rms_ffn + 4 * 16);
        assert_eq!(l.w2, l.w1 + 4 * 256);
        assert_eq!(l.w3, l.w2 + 4 * 256);
        assert_eq!(l.rms_final, l.w3 + 4 * 256);
        // head_dim 4: seq_len · 2 floats each of real and imaginary parts.
        assert_eq!(l.wcls, Some(l.rms_final + 4 * 8 + 4 * 16));
        assert_eq!(l.end, l.wcls.unwrap() + 4 * 80);
        assert_eq!(Layout::new(&c, true).end, l.wcls.unwrap());
    }

    #[test]
    fn pieces_and_types() {
        assert_eq!(undo_llama2c_piece("\n<s>\n"), "<s>");
        assert_eq!(undo_llama2c_piece("\n</s>\n"), "</s>");
        assert_eq!(undo_llama2c_piece(" the"), "\u{2581}the");
        assert_eq!(undo_llama2c_piece("  "), "\u{2581}\u{2581}");
        assert_eq!(token_type("<unk>"), TokenType::Unknown);
        assert_eq!(token_type("<s>"), TokenType::Control);
        assert_eq!(token_type("</s>"), TokenType::Control);
        assert_eq!(token_type("<|im_start|>"), TokenType::Control);
        assert_eq!(token_type("<|im_end|>"), TokenType::Control);
        assert_eq!(token_type("<|endoftext|>"), TokenType::Normal);
        assert_eq!(token_type("<0x0A>"), TokenType::Byte);
        assert_eq!(token_type("<0xfe>"), TokenType::Byte);
        assert_eq!(token_type("<0xG0>"), TokenType::Normal);
        assert_eq!(token_type("<0x0A"), TokenType::Normal);
        assert_eq!(token_type("\u{2581}a"), TokenType::Normal);
    }

    fn tok_file(max_len: i32, toks: &[(f32, &[u8])]) -> Vec<u8> {
        let mut out = max_len.to_le_bytes().to_vec();
        for (s, b) in toks {
            out.extend_from_slice(&s.to_le_bytes());
            out.extend_from_slice(&(b.len() as i32).to_le_bytes());
            out.extend_from_slice(b);
        }
        out
    }

    #[test]
    fn tokenizer_parse_and_errors() {
        let p = Path::new("tok.bin");
        let toks: [(f32, &[u8]); 4] = [
            (0.0, b"<unk>"),
            (0.0, b"\n<s>\n"),
            (0.0, b"\n</s>\n"),
            (-1.5, b" hi"),
        ];
        let v = parse_tokenizer(p, &tok_file(6, &toks), 4).unwrap();
        assert_eq!(v.tokens, ["<unk>", "<s>", "</s>", "\u{2581}hi"]);
        assert_eq!(v.scores, [0.0, 0.0, 0.0, -1.5]);
        use TokenType::*;
        assert_eq!(v.token_types, [Unknown, Control, Control, Normal]);

        let err = |data: &[u8], n: usize| parse_tokenizer(p, data, n).unwrap_err().to_string();
        let full = tok_file(6, &toks);
        let e = err(&full[..full.len() - 1], 4);
        assert!(
            e.contains("tok.bin") && e.contains("ends inside token 3"),
            "{e}"
        );
        let e = err(&full, 5);
        assert!(e.contains("ends inside token 4 of the 5"), "{e}");
        let e = err(&full, 3);
        assert!(e.contains("11 bytes follow the 3 tokens"), "{e}");
        let e = err(&tok_file(4, &toks), 4);
        assert!(e.contains("token 0 has length 5, outside 0..=4"), "{e}");
        let e = err(&tok_file(0, &toks), 4);
        assert!(e.contains("max_token_length = 0"), "{e}");
        let e = err(&tok_file(6, &[(f32::NAN, b"a")]), 1);
        assert!(e.contains("non-finite score"), "{e}");
        let e = err(&tok_file(6, &[(0.0, b"\xff")]), 1);
        assert!(e.contains("token 0 is not valid UTF-8"), "{e}");
        let e = err(&[1, 0], 1);
        assert!(e.contains("max_token_length"), "{e}");
    }
}
