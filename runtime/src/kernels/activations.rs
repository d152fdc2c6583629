//! An activation vector in every format the next matvecs need (ggml's `vec_dot_type`).

use super::Kernels;
use crate::quant::{BlockQ8K, BlockQ8_0, GgmlType, QK8_0, QK_K};
use half::f16;

/// Quantized copies of one activation vector, filled once and shared by the matrices
/// that read it (q, k, v all read the same normed input).
pub struct Activations<'s> {
    pub q8_0: &'s mut [BlockQ8_0],
    pub q8_k: &'s mut [BlockQ8K],
    pub f16: &'s mut [f16],
}

impl Activations<'_> {
    /// Convert `x` into the format that weights of type `ty` dot against.
    pub fn prepare(&mut self, k: &Kernels, x: &[f32], ty: GgmlType) {
        match ty.traits().vec_dot_type {
            GgmlType::Q8_0 => (k.quantize_q8_0)(x, &mut self.q8_0[..x.len() / QK8_0]),
            GgmlType::Q8K => (k.quantize_q8_k)(x, &mut self.q8_k[..x.len() / QK_K]),
            GgmlType::F16 => {
                for (o, &v) in self.f16.iter_mut().zip(x) {
                    *o = f16::from_f32(v);
                }
            }
            _ => {}
        }
    }

    /// Prepare `x` for every type in `tys`, converting once per distinct format.
    pub fn prepare_all(&mut self, k: &Kernels, x: &[f32], tys: &[GgmlType]) {
        for (i, &ty) in tys.iter().enumerate() {
            let fmt = ty.traits().vec_dot_type;
            if tys[..i].iter().all(|t| t.traits().vec_dot_type != fmt) {
                self.prepare(k, x, ty);
            }
        }
    }
}
