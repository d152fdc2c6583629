//! mote-runtime: llama inference from GGUF weights, `no_std`, with one caller-provided arena.
//!
//! The flow: [`gguf::Gguf::parse`] validates a mapped file, [`Model::load`] resolves the
//! llama tensors against the config, [`Session::new`] lays out activations and the KV cache
//! in a caller's arena, and [`Session::eval`] turns a token into logits.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod arena;
pub mod chat;
pub mod config;
pub mod error;
pub mod gguf;
pub mod kernels;
pub mod kv_cache;
mod math;
pub mod model;
pub mod parallel;
pub mod quant;
pub mod sampler;
pub mod session;
#[cfg(feature = "std")]
pub mod thread_pool;
pub mod tokenizer;

#[cfg(feature = "alloc")]
pub use arena::OwnedArena;
pub use arena::ARENA_ALIGN;
pub use config::Config;
pub use error::{Error, Result};
pub use gguf::Gguf;
pub use kv_cache::KvType;
pub use model::Model;
pub use sampler::{Sampler, SamplerConfig};
pub use session::{Session, SessionConfig};
pub use tokenizer::{Decoder, Tokenizer};
