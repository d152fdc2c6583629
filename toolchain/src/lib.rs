//! Host library behind the `mote` CLI.

pub mod alloc;
pub mod bench;
pub mod checkpoint;
pub mod data;
pub mod error;
pub mod export;
pub mod flops;
pub mod gguf;
pub mod import;
pub mod init_random;
pub mod model;
pub mod model_file;
pub mod quantize;
pub mod tokenizer;
pub mod train;

pub use error::{Error, Result};
