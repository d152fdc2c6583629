//! Host library behind the `mote` CLI.

pub mod bench;
pub mod error;
pub mod gguf;
pub mod import;
pub mod init_random;
pub mod model_file;
pub mod quantize;
pub mod stream;

pub use error::{Error, Result};
