//! The llama model in candle, for training: one implementation with optional heads (LM,
//! scalar reward, value), built from primitive ops so that every weight gets a gradient.

mod config;
pub mod fused;
mod init;
mod kernels;
mod llama;
mod ops;
pub mod rope_layout;

pub use config::{LlamaConfig, RewardNorm};
pub use init::{init_missing, init_weights};
pub use llama::{Heads, Llama};
pub use ops::{causal_mask, rms_norm, Rope};
