//! `out = W · x` for a weight matrix of any supported type, in the kernel llama.cpp's CPU
//! backend (x86-64, AVX2) picks for a single token.

use super::Activations;
use crate::model::Matrix;
use crate::quant::{scalar, GgmlType, QK8_0, QK_K};

/// One output per row of `w`. `x` is the f32 activation; `acts` must hold it already
/// converted to `w`'s dot type (see [`Activations::prepare`]).
///
/// For a single token llama.cpp never takes its tinyBLAS (`llamafile_sgemm`) path, which
/// needs at least two columns; each row is one `vec_dot`, except that Q4_0 matrices with a
/// multiple of 8 rows live repacked (CPU_REPACK, `q4_0_8x8`) and use that layout's GEMV.
/// That includes an output head tied to a Q4_0 token embedding: llama.cpp gives the head
/// its own repacked copy (only the embedding lookup reads the plain rows).
pub fn matvec(w: &Matrix<'_>, x: &[f32], acts: &Activations<'_>, out: &mut [f32]) {
    let repacked = w.rows.is_multiple_of(8);
    let n = w.cols;
    let rb = w.row_bytes();
    let rows = w.data.chunks_exact(rb).zip(out.iter_mut());
    match w.ty {
        GgmlType::F32 => rows.for_each(|(r, o)| *o = scalar::vec_dot_f32(r, &x[..n])),
        GgmlType::F16 => rows.for_each(|(r, o)| *o = scalar::vec_dot_f16(r, &acts.f16[..n])),
        GgmlType::Q4_0 if repacked => {
            let a = &acts.q8_0[..n / QK8_0];
            rows.for_each(|(r, o)| *o = scalar::vec_dot_q4_0_q8_0_repacked(r, a))
        }
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
