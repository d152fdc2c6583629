//! x86-64 kernels with AVX2, FMA and F16C, the instruction sets of the llama.cpp build the
//! scalar reference reproduces.
//!
//! Every entry computes what the [`SCALAR`] entry computes, bit for bit: integer block sums
//! are exact whichever way they are formed, and the float steps are the reference's own, in
//! its order (eight-lane accumulators fused with `vfmadd`, the same horizontal sums, f64
//! leftovers for F16, blocks of 8 and 4 then FMAs for F32 leftovers).
//!
//! Speed comes from doing several rows per pass over the activation (loaded once for all of
//! them, with several independent FMA chains in flight), from converting eight f16 scales
//! with one `vcvtph2ps`, from prefetching the rows a few groups ahead (weights stream from
//! the mapped file), and from integer dot products with `vpmaddubsw`, whose unsigned
//! operand is arranged per type so that every sum stays exact:
//!
//! - Q4_0 multiplies the unsigned nibbles (0..=15) by the activation and takes `8·Σy` off
//!   afterwards (`Σ (n−8)·y = Σ n·y − 8·Σ y`), exact for every input.
//! - Q8_0 multiplies `|y|` by `sign(w, y)`, exact unless a weight is −128 (llama.cpp's
//!   quantizer never writes one); groups of rows holding one are redone as
//!   `|w| · sign(y, w)`, or by the scalar kernel if an activation is −128 as well.
//! - The repacked Q4_0 order needs one 32-element sum per row and block: eight rows are
//!   reduced together (a transpose of their partial sums) so that one vector FMA serves
//!   eight rows.
//! - Q6_K's unsigned 6-bit quants, scales and `bsums` offset follow ggml's own lanes.
//!
//! A second table, [`AVX512`], is the AVX2 one with Q8_0 and repacked Q4_0 row kernels that
//! use AVX-512 VNNI's `vpdpbusd` (on CPUs with AVX-512F/BW/VL and VNNI), again bit for bit,
//! and multi-position kernels for prompts ([`mm_vnni`]) that use the extra registers.
//!
//! The table is usable from any context: each entry checks (once per call, a cached flag)
//! that the CPU has the three extensions and otherwise runs the scalar kernel, so even a
//! caller that bypasses [`Kernels::get`](super::Kernels::get) stays sound.

use super::dispatch::{Backend, Kernels, Packed, SCALAR};
use crate::quant::interleaved::{self, GROUP_ROWS};
use crate::quant::{BlockQ8K, BlockQ8_0};
use half::f16;

mod avx512;
mod float;
mod mm;
mod mm_vnni;
mod q4;
mod q4_x16;
mod q6k;
mod q8;
mod q8_x16;
mod quantize;
pub(super) mod simd;

/// Whether this CPU runs AVX2, FMA and F16C (without `std`: whether the build enables them).
#[inline]
pub fn available() -> bool {
    #[cfg(feature = "std")]
    {
        std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("fma")
            && std::is_x86_feature_detected!("f16c")
    }
    #[cfg(not(feature = "std"))]
    {
        cfg!(all(
            target_feature = "avx2",
            target_feature = "fma",
            target_feature = "f16c"
        ))
    }
}

/// Whether this CPU also runs AVX-512F/BW/VL and AVX-512 VNNI (on top of [`available`]).
#[inline]
pub fn available_avx512() -> bool {
    #[cfg(feature = "std")]
    {
        available()
            && std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx512vl")
            && std::is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(feature = "std"))]
    {
        available()
            && cfg!(all(
                target_feature = "avx512f",
                target_feature = "avx512bw",
                target_feature = "avx512vl",
                target_feature = "avx512vnni"
            ))
    }
}

/// The AVX2 table with AVX-512 VNNI row kernels for Q8_0 and repacked Q4_0.
pub static AVX512: Kernels = Kernels {
    streaming: Some(&AVX512_STREAMING),
    ..avx512_table(q8_0_vnni)
};

/// [`AVX512`] for models that stream from memory: measured on Zen 4 (stories110M Q8_0, one
/// token), the VNNI Q8_0 row kernel is ~1.2× the AVX2 one on cached rows but ~0.6× on rows
/// read from DRAM, so this table keeps the AVX2 one.
pub static AVX512_STREAMING: Kernels = avx512_table(q8_0);

const fn avx512_table(q8: super::dispatch::RowsQ8_0) -> Kernels {
    Kernels {
        backend: Backend::Avx512,
        quantize_q8_0,
        quantize_q8_k,
        q4_0,
        q4_0_repacked: q4_0_repacked_vnni,
        q8_0: q8,
        q4_0_repacked_mm: Some(q4_0_repacked_mm_vnni),
        q8_0_mm: Some(q8_0_mm_vnni),
        q4_0_packed: Some(Packed {
            rows: q4_0_x16,
            mm: q4_0_x16_mm,
        }),
        q8_0_packed: Some(Packed {
            rows: q8_0_x16,
            mm: q8_0_x16_mm,
        }),
        streaming: None,
        q6_k,
        f16: rows_f16,
        f32: rows_f32,
    }
}

fn q4_0_repacked_vnni(w: &[u8], x: &[BlockQ8_0], out: &mut [f32]) {
    if !available_avx512() {
        return q4_0_repacked(w, x, out);
    }
    // SAFETY: `available_avx512()` confirmed every feature the kernel needs.
    unsafe { avx512::q4_0_repacked(w, x, out) }
}

fn q8_0_vnni(w: &[u8], x: &[BlockQ8_0], out: &mut [f32]) {
    if !available_avx512() {
        return q8_0(w, x, out);
    }
    // SAFETY: `available_avx512()` confirmed every feature the kernel needs.
    unsafe { avx512::q8_0(w, x, out) }
}

fn q4_0_repacked_mm_vnni(w: &[u8], x: &[BlockQ8_0], x_stride: usize, n: usize, out: &mut [f32]) {
    let rows = out.len().checked_div(n).unwrap_or(0);
    match mm::blocks(w, rows, 18, x, x_stride, n) {
        Some(nb) if available_avx512() && out.len() == n * rows => {
            // SAFETY: `available_avx512()` confirmed every feature the kernel needs; `blocks`
            // checked the shapes; `out.len()` is `n·rows`.
            unsafe { mm_vnni::q4_0_repacked(w, x, x_stride, n, nb, out) }
        }
        _ => per_position(q4_0_repacked_vnni, w, x, x_stride, n, out),
    }
}

fn q4_0_x16(w: &[u8], x: &[BlockQ8_0], out: &mut [f32]) {
    match packed_groups(w, x, out.len(), 18) {
        // SAFETY: `packed_groups` checked the shapes; AVX-512 VNNI is present.
        Some(_) => unsafe { q4_x16::rows(w, x, out) },
        None => interleaved::rows_q4_0(w, x, out),
    }
}

fn q8_0_x16(w: &[u8], x: &[BlockQ8_0], out: &mut [f32]) {
    match packed_groups(w, x, out.len(), 34) {
        // SAFETY: `packed_groups` checked the shapes; AVX-512 VNNI is present.
        Some(_) => unsafe { q8_x16::rows(w, x, out) },
        None => interleaved::rows_q8_0(w, x, out),
    }
}

/// The groups of a packed call over `rows` rows of blocks of `bs` bytes, if the CPU runs
/// the AVX-512 kernels and the shapes are theirs: `rows` a nonzero multiple of 16, `w` whole
/// groups, each group's blocks within `x`.
fn packed_groups(w: &[u8], x: &[BlockQ8_0], rows: usize, bs: usize) -> Option<usize> {
    let groups = rows / GROUP_ROWS;
    let whole = groups > 0 && rows == groups * GROUP_ROWS && w.len().is_multiple_of(groups);
    (whole && available_avx512() && w.len() / groups / (GROUP_ROWS * bs) <= x.len())
        .then_some(groups)
}

/// A packed multi-position kernel, or `rows` per position where its shapes do not hold.
fn packed_mm(
    rows_mm: unsafe fn(&[u8], &[BlockQ8_0], usize, usize, &mut [f32]),
    rows: super::dispatch::RowsQ8_0,
    bs: usize,
    (w, x, x_stride, n, out): (&[u8], &[BlockQ8_0], usize, usize, &mut [f32]),
) {
    let nr = out.len().checked_div(n).unwrap_or(0);
    let groups = nr / GROUP_ROWS;
    let whole = groups > 0 && nr == groups * GROUP_ROWS && out.len() == n * nr;
    match mm::blocks(w, groups, GROUP_ROWS * bs, x, x_stride, n) {
        Some(_) if whole && available_avx512() && w.len().is_multiple_of(groups) => {
            // SAFETY: `available_avx512()` confirmed every feature the kernel needs; `nr`
            // is a nonzero multiple of 16, `out.len()` is `n·nr`, and `blocks` checked that
            // every position holds each group's blocks.
            unsafe { rows_mm(w, x, x_stride, n, out) }
        }
        _ => per_position(rows, w, x, x_stride, n, out),
    }
}

fn q4_0_x16_mm(w: &[u8], x: &[BlockQ8_0], x_stride: usize, n: usize, out: &mut [f32]) {
    packed_mm(q4_x16::rows_mm, q4_0_x16, 18, (w, x, x_stride, n, out));
}

fn q8_0_x16_mm(w: &[u8], x: &[BlockQ8_0], x_stride: usize, n: usize, out: &mut [f32]) {
    packed_mm(q8_x16::rows_mm, q8_0_x16, 34, (w, x, x_stride, n, out));
}

fn q8_0_mm_vnni(w: &[u8], x: &[BlockQ8_0], x_stride: usize, n: usize, out: &mut [f32]) {
    let rows = out.len().checked_div(n).unwrap_or(0);
    match mm::blocks(w, rows, 34, x, x_stride, n) {
        Some(nb) if available_avx512() && out.len() == n * rows => {
            // SAFETY: `available_avx512()` confirmed every feature the kernel needs; `blocks`
            // checked the shapes; `out.len()` is `n·rows`.
            unsafe { mm_vnni::q8_0(w, x, x_stride, n, nb, out) }
        }
        _ => per_position(q8_0_vnni, w, x, x_stride, n, out),
    }
}

/// The AVX2 + FMA + F16C table.
pub static AVX2: Kernels = Kernels {
    backend: Backend::Avx2,
    quantize_q8_0,
    quantize_q8_k,
    q4_0,
    q4_0_repacked,
    q8_0,
    q4_0_repacked_mm: Some(q4_0_repacked_mm),
    q8_0_mm: None,
    q4_0_packed: None,
    q8_0_packed: None,
    streaming: None,
    q6_k,
    f16: rows_f16,
    f32: rows_f32,
};

fn quantize_q8_0(x: &[f32], y: &mut [BlockQ8_0]) {
    if !available() {
        return (SCALAR.quantize_q8_0)(x, y);
    }
    // SAFETY: `available()` confirmed AVX2, FMA and F16C on this CPU.
    unsafe { quantize::q8_0(x, y) }
}

fn quantize_q8_k(x: &[f32], y: &mut [BlockQ8K]) {
    if !available() {
        return (SCALAR.quantize_q8_k)(x, y);
    }
    // SAFETY: as in `quantize_q8_0`.
    unsafe { quantize::q8_k(x, y) }
}

fn q4_0(w: &[u8], x: &[BlockQ8_0], out: &mut [f32]) {
    if !available() {
        return (SCALAR.q4_0)(w, x, out);
    }
    // SAFETY: as in `quantize_q8_0`.
    unsafe { q4::lanes(w, x, out) }
}

fn q4_0_repacked(w: &[u8], x: &[BlockQ8_0], out: &mut [f32]) {
    if !available() {
        return (SCALAR.q4_0_repacked)(w, x, out);
    }
    // SAFETY: as in `quantize_q8_0`.
    unsafe { q4::repacked(w, x, out) }
}

fn q4_0_repacked_mm(w: &[u8], x: &[BlockQ8_0], x_stride: usize, n: usize, out: &mut [f32]) {
    let rows = out.len().checked_div(n).unwrap_or(0);
    match mm::blocks(w, rows, 18, x, x_stride, n) {
        Some(nb) if available() && out.len() == n * rows => {
            // SAFETY: `available()` confirmed AVX2, FMA and F16C; `blocks` checked the
            // shapes; `out.len()` is `n·rows`.
            unsafe { mm::q4_0_repacked(w, x, x_stride, n, nb, out) }
        }
        _ => per_position(q4_0_repacked, w, x, x_stride, n, out),
    }
}

/// `rows` applied to each position in turn (`out[b·rows..]` from `x[b·x_stride..]`).
fn per_position(
    rows: super::dispatch::RowsQ8_0,
    w: &[u8],
    x: &[BlockQ8_0],
    x_stride: usize,
    n: usize,
    out: &mut [f32],
) {
    let nr = out.len().checked_div(n).unwrap_or(0);
    if nr == 0 {
        return;
    }
    for (b, o) in out.chunks_exact_mut(nr).enumerate() {
        let start = (b * x_stride).min(x.len());
        let end = (start + x_stride).min(x.len());
        rows(w, &x[start..end], o);
    }
}

fn q8_0(w: &[u8], x: &[BlockQ8_0], out: &mut [f32]) {
    if !available() {
        return (SCALAR.q8_0)(w, x, out);
    }
    // SAFETY: as in `quantize_q8_0`.
    unsafe { q8::rows(w, x, out) }
}

fn q6_k(w: &[u8], x: &[BlockQ8K], out: &mut [f32]) {
    if !available() {
        return (SCALAR.q6_k)(w, x, out);
    }
    // SAFETY: as in `quantize_q8_0`.
    unsafe { q6k::rows(w, x, out) }
}

fn rows_f16(w: &[u8], x: &[f16], out: &mut [f32]) {
    if !available() {
        return (SCALAR.f16)(w, x, out);
    }
    // SAFETY: as in `quantize_q8_0`.
    unsafe { float::rows_f16(w, x, out) }
}

fn rows_f32(w: &[u8], x: &[f32], out: &mut [f32]) {
    if !available() {
        return (SCALAR.f32)(w, x, out);
    }
    // SAFETY: as in `quantize_q8_0`.
    unsafe { float::rows_f32(w, x, out) }
}

/// Rows of a call: `out.len()` rows of `row_bytes` bytes each at `base` (the scalar kernels'
/// split of `w`; a `w` shorter than one byte per row gives empty rows).
#[derive(Clone, Copy)]
struct Rows {
    base: *const u8,
    row_bytes: usize,
}

impl Rows {
    fn new(w: &[u8], rows: usize) -> Rows {
        Rows {
            base: w.as_ptr(),
            row_bytes: w.len().checked_div(rows).unwrap_or(0),
        }
    }

    /// Start of row `r`. Rows `0..out.len()` lie inside `w`: `r·row_bytes + row_bytes ≤ w.len()`.
    #[inline(always)]
    fn row(self, r: usize) -> *const u8 {
        self.base.wrapping_add(r * self.row_bytes)
    }
}
