//! The runtime's one error type: small, `Copy`, no strings, so it works without a heap.

use core::fmt;

/// Everything that can go wrong in the runtime. Every input-driven failure is one of these;
/// the runtime never panics on input.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    // --- GGUF container ---
    /// The file does not start with the `GGUF` magic.
    BadMagic,
    /// A GGUF version other than 2 or 3.
    UnsupportedVersion(u32),
    /// The file ends inside the named section.
    Truncated(Section),
    /// A count, length or dimension exceeds what the file or the runtime can hold.
    TooLarge(Section),
    /// A metadata value type id that GGUF does not define.
    BadValueType(u32),
    /// A key or string value that is not valid UTF-8.
    InvalidUtf8(Section),
    /// `general.alignment` is zero, not a power of two, or absurdly large.
    BadAlignment,
    /// A tensor has more than four dimensions, or a zero dimension.
    BadDimensions,
    /// A tensor type id this runtime does not run.
    UnknownTensorType(u32),
    /// A tensor's row length is not a multiple of its type's block size.
    RaggedBlocks,
    /// A tensor's offset is not a multiple of the data alignment.
    MisalignedTensor,
    /// A tensor starts before the previous one ends.
    OverlappingTensors,
    /// A tensor does not start where the previous one ends (after padding).
    TensorGap,
    /// A tensor's data runs past the end of the file.
    TensorOutOfBounds,
    /// Two tensors or two keys share a name.
    DuplicateName,

    // --- model contract ---
    /// A required metadata key is missing.
    MissingKey(Key),
    /// A metadata key has the wrong type or an impossible value.
    BadKey(Key),
    /// `general.architecture` is not `llama`.
    UnsupportedArchitecture,
    /// A required tensor is missing.
    MissingTensor(TensorRole),
    /// A tensor's shape disagrees with the model config.
    ShapeMismatch(TensorRole),
    /// A tensor's type is not allowed in its role (e.g. a quantized norm).
    BadTensorType(TensorRole),
    /// More layers than the runtime's fixed layer table holds.
    TooManyLayers,

    // --- memory ---
    /// The arena is smaller than `Model::arena_bytes` asks for.
    ArenaTooSmall { needed: usize, got: usize },
    /// The arena does not start on a 64-byte boundary.
    ArenaMisaligned,
    /// A caller-provided table is too small.
    BufferTooSmall { needed: usize, got: usize },

    // --- inference ---
    /// A token id outside the vocabulary.
    BadToken(u32),
    /// A position at or beyond the session's context length.
    ContextFull,
    /// One chat turn alone is longer than the context.
    TurnTooLong { tokens: usize, ctx: usize },
    /// A sampler or session parameter out of range (e.g. negative temperature).
    BadParameter,

    // --- tokenizer ---
    /// `tokenizer.ggml.model` names a tokenizer this runtime does not implement.
    UnsupportedTokenizer,
    /// The tokenizer metadata is inconsistent (array lengths, missing byte tokens).
    BadVocab,
    /// The output buffer for token ids is full.
    TooManyTokens,

    // --- host I/O (std) ---
    /// The model file could not be opened or mapped.
    Io,

    // --- GGUF metadata ---
    /// A metadata array whose elements are themselves arrays.
    NestedArray,
}

/// Which part of a GGUF file an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Header,
    MetadataKey,
    MetadataValue,
    TensorInfo,
    TensorData,
}

/// Metadata keys the model contract requires (DESIGN §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Architecture,
    ContextLength,
    EmbeddingLength,
    BlockCount,
    FeedForwardLength,
    HeadCount,
    HeadCountKv,
    RopeDimensionCount,
    RmsEpsilon,
    RopeFreqBase,
    TokenizerModel,
    TokenizerTokens,
    TokenizerScores,
    TokenizerTokenType,
    SpecialTokenId,
}

/// The role a tensor plays in the llama graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TensorRole {
    TokenEmbedding,
    Output,
    OutputNorm,
    AttnNorm(u16),
    AttnQ(u16),
    AttnK(u16),
    AttnV(u16),
    AttnOutput(u16),
    FfnNorm(u16),
    FfnGate(u16),
    FfnUp(u16),
    FfnDown(u16),
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Section::Header => "header",
            Section::MetadataKey => "metadata key",
            Section::MetadataValue => "metadata value",
            Section::TensorInfo => "tensor info",
            Section::TensorData => "tensor data",
        })
    }
}

impl Key {
    /// The GGUF key name (`llama.` keys use the architecture prefix).
    pub fn name(self) -> &'static str {
        match self {
            Key::Architecture => "general.architecture",
            Key::ContextLength => "llama.context_length",
            Key::EmbeddingLength => "llama.embedding_length",
            Key::BlockCount => "llama.block_count",
            Key::FeedForwardLength => "llama.feed_forward_length",
            Key::HeadCount => "llama.attention.head_count",
            Key::HeadCountKv => "llama.attention.head_count_kv",
            Key::RopeDimensionCount => "llama.rope.dimension_count",
            Key::RmsEpsilon => "llama.attention.layer_norm_rms_epsilon",
            Key::RopeFreqBase => "llama.rope.freq_base",
            Key::TokenizerModel => "tokenizer.ggml.model",
            Key::TokenizerTokens => "tokenizer.ggml.tokens",
            Key::TokenizerScores => "tokenizer.ggml.scores",
            Key::TokenizerTokenType => "tokenizer.ggml.token_type",
            Key::SpecialTokenId => "tokenizer.ggml.*_token_id",
        }
    }
}

impl fmt::Display for TensorRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (layer, name) = match *self {
            TensorRole::TokenEmbedding => return f.write_str("token_embd.weight"),
            TensorRole::Output => return f.write_str("output.weight"),
            TensorRole::OutputNorm => return f.write_str("output_norm.weight"),
            TensorRole::AttnNorm(l) => (l, "attn_norm"),
            TensorRole::AttnQ(l) => (l, "attn_q"),
            TensorRole::AttnK(l) => (l, "attn_k"),
            TensorRole::AttnV(l) => (l, "attn_v"),
            TensorRole::AttnOutput(l) => (l, "attn_output"),
            TensorRole::FfnNorm(l) => (l, "ffn_norm"),
            TensorRole::FfnGate(l) => (l, "ffn_gate"),
            TensorRole::FfnUp(l) => (l, "ffn_up"),
            TensorRole::FfnDown(l) => (l, "ffn_down"),
        };
        write!(f, "blk.{layer}.{name}.weight")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::BadMagic => f.write_str("not a GGUF file (bad magic)"),
            Error::UnsupportedVersion(v) => write!(f, "unsupported GGUF version {v} (2 and 3 are)"),
            Error::Truncated(s) => write!(f, "file truncated in the {s} section"),
            Error::TooLarge(s) => write!(f, "absurd count, length or size in the {s} section"),
            Error::BadValueType(t) => write!(f, "unknown metadata value type {t}"),
            Error::InvalidUtf8(s) => write!(f, "invalid UTF-8 in the {s} section"),
            Error::BadAlignment => f.write_str("general.alignment is not a sane power of two"),
            Error::BadDimensions => f.write_str("tensor has zero or more than 4 dimensions"),
            Error::UnknownTensorType(t) => write!(f, "unsupported tensor type {t}"),
            Error::RaggedBlocks => {
                f.write_str("tensor row length is not a multiple of its block size")
            }
            Error::MisalignedTensor => f.write_str("tensor offset is not aligned"),
            Error::OverlappingTensors => f.write_str("tensors overlap"),
            Error::TensorGap => f.write_str("tensor does not start where the previous one ends"),
            Error::TensorOutOfBounds => f.write_str("tensor data runs past the end of the file"),
            Error::DuplicateName => f.write_str("duplicate key or tensor name"),
            Error::MissingKey(k) => write!(f, "missing metadata key {}", k.name()),
            Error::BadKey(k) => write!(f, "metadata key {} has a wrong type or value", k.name()),
            Error::UnsupportedArchitecture => f.write_str("general.architecture is not llama"),
            Error::MissingTensor(t) => write!(f, "missing tensor {t}"),
            Error::ShapeMismatch(t) => {
                write!(f, "tensor {t} has a shape that disagrees with the config")
            }
            Error::BadTensorType(t) => write!(f, "tensor {t} has a type not allowed in its role"),
            Error::TooManyLayers => f.write_str("more layers than the runtime supports"),
            Error::ArenaTooSmall { needed, got } => {
                write!(f, "arena too small: need {needed} bytes, got {got}")
            }
            Error::ArenaMisaligned => f.write_str("arena must start on a 64-byte boundary"),
            Error::BufferTooSmall { needed, got } => {
                write!(f, "buffer too small: need {needed}, got {got}")
            }
            Error::BadToken(t) => write!(f, "token id {t} is outside the vocabulary"),
            Error::ContextFull => f.write_str("context is full"),
            Error::TurnTooLong { tokens, ctx } => {
                write!(
                    f,
                    "one turn needs {tokens} tokens but the context holds {ctx}"
                )
            }
            Error::BadParameter => f.write_str("parameter out of range"),
            Error::UnsupportedTokenizer => f.write_str("unsupported tokenizer model"),
            Error::BadVocab => f.write_str("inconsistent tokenizer vocabulary"),
            Error::TooManyTokens => f.write_str("token buffer is full"),
            Error::Io => f.write_str("I/O error reading the model"),
            Error::NestedArray => f.write_str("nested metadata arrays are not supported"),
        }
    }
}

impl core::error::Error for Error {}

/// Result alias used across the runtime.
pub type Result<T> = core::result::Result<T, Error>;
