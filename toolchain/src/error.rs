//! The toolchain library's error type. Only the `mote` binary uses `anyhow`.
//!
//! Every message is complete on its own and names the file it is about, so printing an
//! error with `{}` is enough; no variant repeats its cause through `source()`.

use std::io;
use std::path::{Path, PathBuf};

use crate::gguf::WriteError;

/// Everything the toolchain library can fail with.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Opening, reading, writing or renaming a file failed.
    #[error("{}: {error}", path.display())]
    Io { path: PathBuf, error: io::Error },

    /// An input file is not in the format it should be in.
    #[error("{}: at byte {offset}: {what}", path.display())]
    Format {
        path: PathBuf,
        /// Byte offset in the file where the problem was found.
        offset: u64,
        what: String,
    },

    /// The runtime rejected a model file's contents.
    #[error("{}: {error}", path.display())]
    Model {
        path: PathBuf,
        error: mote_runtime::Error,
    },

    /// A GGUF file being assembled would break the format's rules.
    #[error("cannot write GGUF: {0}")]
    GgufWrite(#[from] WriteError),

    /// The runtime rejected a model or an input.
    #[error(transparent)]
    Runtime(#[from] mote_runtime::Error),

    /// A tensor operation failed (a shape that does not fit, an input too long).
    #[error("tensor operation: {0}")]
    Candle(#[from] candle_core::Error),

    /// A checkpoint directory lacks a part or holds a wrong one.
    #[error("{}: {what}", path.display())]
    Checkpoint { path: PathBuf, what: String },

    /// The Hugging Face `tokenizers` library failed, or a tokenizer is not in the layout
    /// mote uses.
    #[error("tokenizer: {0}")]
    Tokenizer(String),

    /// The requested vocabulary cannot hold the special tokens, byte tokens and characters.
    #[error("vocabulary size {requested} is too small: the corpus needs at least {needed}")]
    VocabTooSmall { requested: usize, needed: usize },

    /// A record of a data file is bad. `line` is 1-based; `field` is the JSON path of the
    /// offending field (`messages[2].role`), or `None` when the whole line is at fault.
    #[error("{}:{line}: {}{what}", path.display(), field.as_ref().map(|f| format!("field `{f}`: ")).unwrap_or_default())]
    Data {
        path: PathBuf,
        line: usize,
        field: Option<String>,
        what: String,
    },

    /// A training configuration value is out of range or contradicts the run being resumed.
    #[error("training config: {0}")]
    TrainConfig(String),

    /// Training produced a non-finite loss or gradient norm; nothing after the last good
    /// checkpoint was written.
    #[error("step {step}: {what} is {value}; training stopped, last good checkpoint: {}",
        checkpoint.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "none".into()))]
    NonFinite {
        step: u64,
        what: &'static str,
        value: f64,
        checkpoint: Option<PathBuf>,
    },
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, error: io::Error) -> Self {
        Error::Io {
            path: path.into(),
            error,
        }
    }

    /// A checkpoint problem in `path`.
    pub fn checkpoint(path: &Path, what: impl Into<String>) -> Self {
        Error::Checkpoint {
            path: path.to_path_buf(),
            what: what.into(),
        }
    }

    /// A format error in `path` at byte `offset`.
    pub fn format(path: &Path, offset: u64, what: impl Into<String>) -> Self {
        Error::Format {
            path: path.to_path_buf(),
            offset,
            what: what.into(),
        }
    }

    /// A bad record at `line` of `path`, in `field` (or the whole line).
    pub fn data(path: &Path, line: usize, field: Option<&str>, what: impl Into<String>) -> Self {
        Error::Data {
            path: path.to_path_buf(),
            line,
            field: field.map(str::to_owned),
            what: what.into(),
        }
    }
}

/// Result alias used across the toolchain library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
