//! mote-runtime: llama inference from GGUF weights, `no_std`, with one caller-provided arena.
//!
//! The flow: [`gguf::Gguf::parse`] validates a mapped file, [`Model::load`] resolves the
//! llama tensors against the config, [`Session::new`] lays out activations and the KV cache
//! in a caller's arena, and [`Session::forward`] turns a token into logits.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod error;
pub mod gguf;
pub mod quant;

pub use error::{Error, Result};
