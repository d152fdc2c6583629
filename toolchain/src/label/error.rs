//! What labeling can fail with: bad requests from the page (each maps to one HTTP status
//! in [`super::server`]) and the toolchain's file and data errors.

use crate::error::Error;

#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    /// A labeler name that is not 1–32 letters, digits, `_` or `-`.
    #[error("bad labeler name `{0}`: use 1 to 32 letters, digits, `_` or `-`")]
    BadName(String),

    /// No item has this id in the samples file.
    #[error("no item `{0}`")]
    UnknownItem(String),

    /// A submission that does not make a valid record.
    #[error("{0}")]
    Invalid(String),

    /// A submission that contradicts what the labeler already wrote.
    #[error("{0}")]
    Conflict(String),

    /// Undo with nothing written.
    #[error("nothing to undo")]
    NothingToUndo,

    /// The server cannot start as asked (address, token).
    #[error("{0}")]
    Config(String),

    /// A file could not be read or written, or holds a bad record.
    #[error(transparent)]
    Toolchain(#[from] Error),
}

pub type LabelResult<T> = std::result::Result<T, LabelError>;
