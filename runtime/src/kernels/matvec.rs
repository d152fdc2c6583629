//! `out = W · x` for a weight matrix of any supported type, in the kernel llama.cpp's CPU
//! backend (x86-64, AVX2) picks for a single token.

use super::{Activations, Kernels};
use crate::model::Matrix;
use crate::quant::{GgmlType, QK8_0, QK_K};

/// One output per row of `w` for rows `rows.start..rows.end` (written to `out`, which has
/// one entry per row of that range). `x` is the f32 activation; `acts` must hold it already
/// converted to `w`'s dot type (see [`Activations::prepare`]).
///
/// For a single token llama.cpp never takes its tinyBLAS (`llamafile_sgemm`) path, which
/// needs at least two columns; each row is one `vec_dot`, except that Q4_0 matrices with a
/// multiple of 8 rows live repacked (CPU_REPACK, `q4_0_8x8`) and use that layout's GEMV.
/// That includes an output head tied to a Q4_0 token embedding: llama.cpp gives the head
/// its own repacked copy (only the embedding lookup reads the plain rows).
pub fn matvec_rows(
    k: &Kernels,
    w: &Matrix<'_>,
    rows: core::ops::Range<usize>,
    x: &[f32],
    acts: &Activations<'_>,
    out: &mut [f32],
) {
    let n = w.cols;
    let rb = w.row_bytes();
    let data = &w.data[rows.start * rb..rows.end * rb];
    match w.ty {
        GgmlType::F32 => (k.f32)(data, &x[..n], out),
        GgmlType::F16 => (k.f16)(data, &acts.f16[..n], out),
        GgmlType::Q4_0 if w.rows.is_multiple_of(8) => {
            (k.q4_0_repacked)(data, &acts.q8_0[..n / QK8_0], out)
        }
        GgmlType::Q4_0 => (k.q4_0)(data, &acts.q8_0[..n / QK8_0], out),
        GgmlType::Q8_0 => (k.q8_0)(data, &acts.q8_0[..n / QK8_0], out),
        GgmlType::Q6K => (k.q6_k)(data, &acts.q8_k[..n / QK_K], out),
        // Rejected at load: Q8_K is an activation format only.
        GgmlType::Q8K => out.fill(0.0),
    }
}

/// All rows of `w`.
pub fn matvec(k: &Kernels, w: &Matrix<'_>, x: &[f32], acts: &Activations<'_>, out: &mut [f32]) {
    matvec_rows(k, w, 0..w.rows, x, acts, &mut out[..w.rows]);
}
