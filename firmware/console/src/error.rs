//! The console's error type.

use core::fmt;

/// Why a console could not be set up.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleError {
    /// `mem` is smaller than [`crate::Console::memory_needed`].
    MemoryTooSmall { needed: usize, got: usize },
    /// A [`crate::ConsoleConfig`] field is out of range; names the field.
    BadConfig(&'static str),
    /// The runtime refused the model, the context or the system prompt.
    Runtime(mote_runtime::Error),
}

impl From<mote_runtime::Error> for ConsoleError {
    fn from(e: mote_runtime::Error) -> Self {
        ConsoleError::Runtime(e)
    }
}

impl fmt::Display for ConsoleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConsoleError::MemoryTooSmall { needed, got } => {
                write!(f, "console memory too small: {got} bytes, {needed} needed")
            }
            ConsoleError::BadConfig(field) => write!(f, "console config: bad `{field}`"),
            ConsoleError::Runtime(e) => write!(f, "runtime: {e}"),
        }
    }
}

impl core::error::Error for ConsoleError {}
