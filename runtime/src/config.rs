//! Model hyper-parameters read from GGUF metadata (DESIGN §4), checked for sanity.

use crate::error::{Error, Key, Result};
use crate::gguf::Gguf;

/// Most layers a model may have (the layer table is fixed-size, no heap).
pub const MAX_LAYERS: usize = 64;
/// Widest attention head (attention keeps one head's query on the stack).
pub const MAX_HEAD_DIM: usize = 256;

/// Llama geometry. Everything the forward pass and the arena plan need.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
    /// Embedding width.
    pub dim: usize,
    pub n_layers: usize,
    pub n_heads: usize,
    pub n_kv_heads: usize,
    /// `dim / n_heads`.
    pub head_dim: usize,
    /// Feed-forward width.
    pub hidden: usize,
    pub vocab: usize,
    /// Context length the model was trained for.
    pub ctx_len: usize,
    /// Leading dimensions of each head that RoPE rotates.
    pub rope_dims: usize,
    pub rope_base: f32,
    pub rms_eps: f32,
}

impl Config {
    /// `n_kv_heads · head_dim`: width of one K or V row.
    pub fn kv_dim(&self) -> usize {
        self.n_kv_heads * self.head_dim
    }

    /// Read and check the `llama.*` keys. `vocab` comes from the embedding tensor.
    pub fn from_gguf(g: &Gguf<'_>, vocab: usize) -> Result<Self> {
        match g.get(Key::Architecture.name()).map(|v| v.as_str()) {
            None => return Err(Error::MissingKey(Key::Architecture)),
            Some(None) => return Err(Error::BadKey(Key::Architecture)),
            Some(Some("llama")) => {}
            Some(Some(_)) => return Err(Error::UnsupportedArchitecture),
        }
        let uint = |k: Key, max: u64| -> Result<Option<usize>> {
            match g.get(k.name()) {
                None => Ok(None),
                Some(v) => match v.as_u64() {
                    Some(n) if n >= 1 && n <= max => Ok(Some(n as usize)),
                    _ => Err(Error::BadKey(k)),
                },
            }
        };
        let req = |k: Key, max: u64| uint(k, max)?.ok_or(Error::MissingKey(k));
        let float = |k: Key| -> Result<Option<f32>> {
            match g.get(k.name()) {
                None => Ok(None),
                Some(v) => match v.as_f32() {
                    Some(x) if x.is_finite() && x > 0.0 => Ok(Some(x)),
                    _ => Err(Error::BadKey(k)),
                },
            }
        };

        let dim = req(Key::EmbeddingLength, 1 << 16)?;
        let n_layers = req(Key::BlockCount, u32::MAX as u64)?;
        if n_layers > MAX_LAYERS {
            return Err(Error::TooManyLayers);
        }
        let hidden = req(Key::FeedForwardLength, 1 << 18)?;
        let n_heads = req(Key::HeadCount, 1 << 10)?;
        let ctx_len = req(Key::ContextLength, 1 << 24)?;
        let n_kv_heads = uint(Key::HeadCountKv, 1 << 10)?.unwrap_or(n_heads);
        if dim % n_heads != 0 || (dim / n_heads) % 2 != 0 || dim / n_heads > MAX_HEAD_DIM {
            return Err(Error::BadKey(Key::HeadCount));
        }
        if n_kv_heads > n_heads || n_heads % n_kv_heads != 0 {
            return Err(Error::BadKey(Key::HeadCountKv));
        }
        let head_dim = dim / n_heads;
        let rope_dims = uint(Key::RopeDimensionCount, 1 << 16)?.unwrap_or(head_dim);
        if rope_dims > head_dim || rope_dims % 2 != 0 {
            return Err(Error::BadKey(Key::RopeDimensionCount));
        }
        let rms_eps = float(Key::RmsEpsilon)?.ok_or(Error::MissingKey(Key::RmsEpsilon))?;
        let rope_base = float(Key::RopeFreqBase)?.unwrap_or(10_000.0);
        Ok(Config {
            dim,
            n_layers,
            n_heads,
            n_kv_heads,
            head_dim,
            hidden,
            vocab,
            ctx_len,
            rope_dims,
            rope_base,
            rms_eps,
        })
    }
}
