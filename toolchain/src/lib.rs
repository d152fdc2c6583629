//! Host library behind the `mote` CLI.

pub mod alloc;
pub mod bench;
pub mod checkpoint;
pub mod console;
pub mod data;
pub mod error;
pub mod eval;
pub mod export;
pub mod flash;
pub mod flops;
pub mod gguf;
pub mod import;
pub mod init_random;
pub mod label;
pub mod model;
pub mod model_file;
pub mod ppo;
pub mod quantize;
pub mod recipe;
pub mod reward;
pub mod sample;
pub mod stream;
pub mod tokenizer;
pub mod train;
pub mod world;

pub use error::{Error, Result};
