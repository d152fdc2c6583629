//! Activation vectors in every format the next matvecs need (ggml's `vec_dot_type`), one
//! slot per position of a batch.

use super::Kernels;
use crate::math::f32_to_f16;
use crate::quant::{BlockQ8K, BlockQ8_0, GgmlType, QK8_0, QK_K};
use half::f16;

/// Quantized copies of up to `batch` activation vectors of at most `width` values, filled
/// once and shared by the matrices that read them (q, k, v all read the same normed input).
pub struct Activations<'s> {
    /// `[batch][width / 32]`
    pub q8_0: &'s mut [BlockQ8_0],
    /// `[batch][width / 256]`
    pub q8_k: &'s mut [BlockQ8K],
    /// `[batch][width]`
    pub f16: &'s mut [f16],
    /// Widest activation (max of dim and hidden).
    pub width: usize,
}

impl Activations<'_> {
    /// Slot `b`'s Q8_0 blocks.
    pub fn q8_0(&self, b: usize) -> &[BlockQ8_0] {
        let n = self.width / QK8_0;
        &self.q8_0[b * n..(b + 1) * n]
    }

    /// Slot `b`'s Q8_K blocks.
    pub fn q8_k(&self, b: usize) -> &[BlockQ8K] {
        let n = self.width / QK_K;
        &self.q8_k[b * n..(b + 1) * n]
    }

    /// Slot `b`'s f16 values.
    pub fn f16(&self, b: usize) -> &[f16] {
        &self.f16[b * self.width..(b + 1) * self.width]
    }

    /// Convert `x` into slot `b` in the format that weights of type `ty` dot against.
    pub fn prepare(&mut self, k: &Kernels, b: usize, x: &[f32], ty: GgmlType) {
        match ty.traits().vec_dot_type {
            GgmlType::Q8_0 => {
                let at = b * (self.width / QK8_0);
                (k.quantize_q8_0)(x, &mut self.q8_0[at..at + x.len() / QK8_0])
            }
            GgmlType::Q8K => {
                let at = b * (self.width / QK_K);
                (k.quantize_q8_k)(x, &mut self.q8_k[at..at + x.len() / QK_K])
            }
            GgmlType::F16 => {
                let at = b * self.width;
                for (o, &v) in self.f16[at..at + x.len()].iter_mut().zip(x) {
                    *o = f32_to_f16(v);
                }
            }
            _ => {}
        }
    }

    /// Prepare `x` into slot `b` for every type in `tys`, converting once per format.
    pub fn prepare_all(&mut self, k: &Kernels, b: usize, x: &[f32], tys: &[GgmlType]) {
        for (i, &ty) in tys.iter().enumerate() {
            let fmt = ty.traits().vec_dot_type;
            if tys[..i].iter().all(|t| t.traits().vec_dot_type != fmt) {
                self.prepare(k, b, x, ty);
            }
        }
    }
}
