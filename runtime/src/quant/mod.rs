//! Tensor types, block layouts and the dot-product kernels ggml defines for them.

pub mod blocks;
pub mod interleaved;
pub mod scalar;
mod types;

pub use blocks::{BlockQ4_0, BlockQ6K, BlockQ8K, BlockQ8_0, QK8_0, QK_K};
pub use types::{GgmlType, TypeTraits};
