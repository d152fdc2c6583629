//! The forward pass's numeric building blocks: matvec over any weight type, RMSNorm,
//! RoPE, softmax, SwiGLU.
//!
//! Each reproduces the arithmetic of llama.cpp's CPU backend as built for x86-64 with
//! AVX2+FMA+F16C (the build that made the reference goldens): the same accumulation lanes
//! and summation order, fused multiply-adds where that build uses them (FMA intrinsics, and
//! `a*b + c` in C that GCC contracted), and ggml's own `expf` approximation. Activations
//! are rounded to f16 or quantized to Q8_0/Q8_K before a dot product, and a value close to
//! a rounding boundary rounds the other way after a one-ulp difference upstream; matching
//! the arithmetic exactly keeps those roundings, and hence the logits, identical.

#[cfg(target_arch = "aarch64")]
mod aarch64;
mod activations;
#[cfg(target_arch = "arm")]
mod arm_dsp;
pub mod attention;
pub mod dispatch;
mod matvec;
mod norm;
mod rope;
mod softmax;
mod swiglu;
#[cfg(target_arch = "x86_64")]
mod x86;

pub use activations::Activations;
pub use attention::AttnKernels;
pub use dispatch::{Backend, Kernels};
pub use matvec::{matmul, matvec, matvec_rows};
pub use norm::rmsnorm;
pub use rope::{pairs as rope_pairs, rope, rope_angles, rope_rotate};
pub use softmax::{softmax, softmax_inline};
pub use swiglu::{silu_mul, silu_mul_inline};
