//! `out = W · x` for a weight matrix of any supported type, in the kernel llama.cpp's CPU
//! backend (x86-64, AVX2) picks for a single token; and the batched, threaded form.

use super::dispatch::{MmQ8_0, RowsQ8_0};
use super::{Activations, Kernels};
use crate::model::Matrix;
use crate::parallel::{share, Disjoint, Parallel};
use crate::quant::interleaved::{self, GROUP_ROWS};
use crate::quant::{GgmlType, QK8_0, QK_K};
use core::ops::Range;

/// Rows of a weight block that stay in L1 while every position of a batch reads them.
const ROW_BLOCK: usize = 16;
/// Rows per call of a multi-position kernel.
const MM_ROWS: usize = 64;
/// Positions per call of a multi-position kernel.
const MM_POS: usize = 16;

/// The multi-position kernel for `w`, if `k` has one for its type and layout.
fn mm_kernel(k: &Kernels, w: &Matrix<'_>) -> Option<MmQ8_0> {
    match w.ty {
        GgmlType::Q4_0 if w.packed => k.q4_0_packed.map(|p| p.mm),
        GgmlType::Q8_0 if w.packed => k.q8_0_packed.map(|p| p.mm),
        GgmlType::Q4_0 if w.rows.is_multiple_of(8) => k.q4_0_repacked_mm,
        GgmlType::Q8_0 => k.q8_0_mm,
        _ => None,
    }
}

/// Rows `rows` of `w` for positions `0..n` through the multi-position kernel `mm`, written
/// to `out` at `b·w.rows + r`.
///
/// # Safety
/// No other live slice of `out` overlaps rows `rows` of any position `b < n`.
unsafe fn mm_rows(
    mm: MmQ8_0,
    w: &Matrix<'_>,
    rows: Range<usize>,
    n: usize,
    acts: &Activations<'_>,
    out: &Disjoint<'_>,
) {
    let rb = w.row_bytes();
    let stride = acts.width / QK8_0;
    let mut buf = [0.0f32; MM_ROWS * MM_POS];
    let mut start = rows.start;
    while start < rows.end {
        let end = (start + MM_ROWS).min(rows.end);
        let nr = end - start;
        let data = &w.data[start * rb..end * rb];
        let mut b0 = 0;
        while b0 < n {
            let pn = (n - b0).min(MM_POS);
            let o = &mut buf[..pn * nr];
            mm(data, &acts.q8_0[b0 * stride..], stride, pn, o);
            for (p, v) in o.chunks_exact(nr).enumerate() {
                let at = (b0 + p) * w.rows;
                // SAFETY: the caller owns rows `rows` of every position.
                unsafe { out.slice(at + start..at + end) }.copy_from_slice(v);
            }
            b0 += pn;
        }
        start = end;
    }
}

/// One output per row of `w` for rows `rows` (written to `out`, one entry per row of the
/// range), for the activation in slot `b`. `x` is the f32 activation; `acts` must hold it
/// already converted to `w`'s dot type (see [`Activations::prepare`]).
///
/// For a single token llama.cpp never takes its tinyBLAS (`llamafile_sgemm`) path, which
/// needs at least two columns; each row is one `vec_dot`, except that Q4_0 matrices with a
/// multiple of 8 rows live repacked (CPU_REPACK, `q4_0_8x8`) and use that layout's GEMV.
/// That includes an output head tied to a Q4_0 token embedding: llama.cpp gives the head
/// its own repacked copy (only the embedding lookup reads the plain rows). A matrix packed
/// at load ([`Model::pack`](crate::Model::pack)) gives the same bits. Batched
/// positions use the same per-row arithmetic, so a prompt gives the logits it would give
/// token by token.
pub fn matvec_rows(
    k: &Kernels,
    w: &Matrix<'_>,
    rows: Range<usize>,
    x: &[f32],
    acts: &Activations<'_>,
    b: usize,
    out: &mut [f32],
) {
    let n = w.cols;
    let rb = w.row_bytes();
    let data = &w.data[rows.start * rb..rows.end * rb];
    match w.ty {
        GgmlType::F32 => (k.f32)(data, &x[..n], out),
        GgmlType::F16 => (k.f16)(data, &acts.f16(b)[..n], out),
        GgmlType::Q4_0 if w.packed => {
            let rows = k
                .q4_0_packed
                .map_or(interleaved::rows_q4_0 as RowsQ8_0, |p| p.rows);
            rows(data, &acts.q8_0(b)[..n / QK8_0], out)
        }
        GgmlType::Q4_0 if w.rows.is_multiple_of(8) => {
            (k.q4_0_repacked)(data, &acts.q8_0(b)[..n / QK8_0], out)
        }
        GgmlType::Q4_0 => (k.q4_0)(data, &acts.q8_0(b)[..n / QK8_0], out),
        GgmlType::Q8_0 if w.packed => {
            let rows = k
                .q8_0_packed
                .map_or(interleaved::rows_q8_0 as RowsQ8_0, |p| p.rows);
            rows(data, &acts.q8_0(b)[..n / QK8_0], out)
        }
        GgmlType::Q8_0 => (k.q8_0)(data, &acts.q8_0(b)[..n / QK8_0], out),
        GgmlType::Q6K => (k.q6_k)(data, &acts.q8_k(b)[..n / QK_K], out),
        // Rejected at load: Q8_K is an activation format only.
        GgmlType::Q8K => out.fill(0.0),
    }
}

/// All rows of `w` for slot 0 (one position).
pub fn matvec(k: &Kernels, w: &Matrix<'_>, x: &[f32], acts: &Activations<'_>, out: &mut [f32]) {
    matvec_rows(k, w, 0..w.rows, x, acts, 0, &mut out[..w.rows]);
}

/// `out_b = W · x_b` for positions `b < n` and each `(W, out)` pair, rows split across
/// the workers of `par`. `x` holds the f32 inputs with stride `x_stride`; each `out`
/// holds `n` rows of `W.rows` values.
pub fn matmul(
    par: &dyn Parallel,
    k: &Kernels,
    mats: &mut [(&Matrix<'_>, &mut [f32])],
    n: usize,
    x: &[f32],
    x_stride: usize,
    acts: &Activations<'_>,
) {
    let mut outs: [Option<(&Matrix<'_>, Disjoint<'_>)>; 3] = [None, None, None];
    for (slot, (w, out)) in outs.iter_mut().zip(mats.iter_mut()) {
        *slot = Some((*w, Disjoint::new(&mut out[..n * w.rows])));
    }
    let threads = par.threads();
    par.run(&|t| {
        for (w, out) in outs.iter().flatten() {
            // Packed matrices split at whole groups.
            let align = if w.packed { GROUP_ROWS } else { 8 };
            let mine = share(w.rows, t, threads, align);
            if n == 1 {
                // One position: one kernel call over all of this worker's rows.
                // SAFETY: worker `t` alone owns rows `mine`.
                let o = unsafe { out.slice(mine.clone()) };
                matvec_rows(k, w, mine, x, acts, 0, o);
                continue;
            }
            if let Some(mm) = mm_kernel(k, w) {
                // SAFETY: worker `t` alone owns rows `mine` of every position.
                unsafe { mm_rows(mm, w, mine, n, acts, out) };
                continue;
            }
            let mut start = mine.start;
            while start < mine.end {
                let end = (start + ROW_BLOCK).min(mine.end);
                for b in 0..n {
                    // SAFETY: worker `t` alone owns rows `mine` of every position, so the
                    // ranges `b·rows + start..b·rows + end` never overlap across workers.
                    let o = unsafe { out.slice(b * w.rows + start..b * w.rows + end) };
                    matvec_rows(k, w, start..end, &x[b * x_stride..], acts, b, o);
                }
                start = end;
            }
        }
    });
}
