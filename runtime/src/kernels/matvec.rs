//! `out = W · x` for a weight matrix of any supported type.

use super::Activations;
use crate::model::Matrix;
use crate::quant::{scalar, GgmlType, QK8_0, QK_K};

/// One output per row of `w`. `x` is the f32 activation; `acts` must hold it already
/// converted to `w`'s dot type (see [`Activations::prepare`]).
pub fn matvec(w: &Matrix<'_>, x: &[f32], acts: &Activations<'_>, out: &mut [f32]) {
    let n = w.cols;
    let rb = w.row_bytes();
    let rows = w.data.chunks_exact(rb).zip(out.iter_mut());
    match w.ty {
        GgmlType::F32 => rows.for_each(|(r, o)| *o = scalar::vec_dot_f32(r, &x[..n])),
        GgmlType::F16 => rows.for_each(|(r, o)| *o = scalar::vec_dot_f16(r, &acts.f16[..n])),
        GgmlType::Q4_0 => {
            let a = &acts.q8_0[..n / QK8_0];
            rows.for_each(|(r, o)| *o = scalar::vec_dot_q4_0_q8_0(r, a))
        }
        GgmlType::Q8_0 => {
            let a = &acts.q8_0[..n / QK8_0];
            rows.for_each(|(r, o)| *o = scalar::vec_dot_q8_0_q8_0(r, a))
        }
        GgmlType::Q6K => {
            let a = &acts.q8_k[..n / QK_K];
            rows.for_each(|(r, o)| *o = scalar::vec_dot_q6k_q8k(r, a))
        }
        // Rejected at load: Q8_K is an activation format only.
        GgmlType::Q8K => out.fill(0.0),
    }
}
