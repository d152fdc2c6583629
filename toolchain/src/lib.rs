//! Host library behind the `mote` CLI.

pub mod bench;
pub mod data;
pub mod error;
pub mod gguf;
pub mod import;
pub mod init_random;
pub mod model_file;
pub mod quantize;
pub mod train;

pub use error::{Error, Result};
