//! The forward pass's numeric building blocks: matvec over any weight type, RMSNorm,
//! RoPE, softmax, SwiGLU. Each follows ggml's arithmetic (order of rounding, f64 sums)
//! so results match llama.cpp to float rounding.

mod activations;
mod matvec;
mod norm;

pub use activations::Activations;
pub use matvec::matvec;
pub use norm::{rmsnorm, rope, silu_mul, softmax};
