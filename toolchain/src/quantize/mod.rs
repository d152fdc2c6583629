//! Weight quantization on the host: f32 rows → F16, Q8_0 or Q4_0 bytes, bit-identical to
//! ggml's reference quantizers (`quantize_row_q8_0_ref`, `quantize_row_q4_0_ref`), which are
//! what `llama-quantize` uses for these types when it has no importance matrix.
//!
//! - **Q8_0**, per block of 32: `d = amax / 127`, `q = round(x / d)` (half away from zero).
//! - **Q4_0**, per block of 32: `d = max / −8` where `max` is the value of largest
//!   magnitude *with its sign* (the first one on a tie), so that value maps exactly to
//!   nibble 0 and the opposite extreme clips at 15; `q = min(15, trunc(x / d + 8.5))`.
//!   Element j goes in the low nibble of `qs[j]`, element j+16 in the high nibble.
//! - **F16**: round to nearest even.
//!
//! In both quantizers `1/d` is computed from the f32 `d` (before it is rounded to f16), and
//! `x · (1/d)` is one f32 multiplication, as in ggml.
//!
//! A model's choice of types is a [`Quant`]: every 2-D weight gets its matrix type, except
//! a matrix whose rows are not whole blocks, which falls back to F16 as `llama-quantize`
//! does; 1-D tensors (the norms) stay F32.

use std::fmt;
use std::str::FromStr;

use half::f16;
use mote_runtime::quant::{BlockQ4_0, BlockQ8_0, GgmlType, QK8_0};

use crate::gguf::llama::FileType;

#[cfg(test)]
mod tests;

/// Bytes of one serialized Q8_0 block: f16 scale then 32 × i8.
pub const Q8_0_BYTES: usize = 34;
/// Bytes of one serialized Q4_0 block: f16 scale then 16 bytes of nibbles.
pub const Q4_0_BYTES: usize = 18;

/// Why a row cannot be quantized.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantizeError {
    #[error("cannot quantize to {}: only f32, f16, q8_0 and q4_0 are supported", .0.traits().name)]
    Unsupported(GgmlType),
    #[error("a row of {len} values is not whole {} blocks of {}", .ty.traits().name, .ty.block_size())]
    RaggedRow { ty: GgmlType, len: usize },
}

/// One Q8_0 block, as `quantize_row_q8_0_ref`.
pub fn quantize_block_q8_0(x: &[f32; QK8_0]) -> BlockQ8_0 {
    let amax = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let d = amax / 127.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    let mut qs = [0i8; QK8_0];
    for (q, &v) in qs.iter_mut().zip(x) {
        // |v·id| <= 127 up to rounding, so the cast never saturates.
        *q = (v * id).round() as i8;
    }
    BlockQ8_0 {
        d: f16::from_f32(d),
        qs,
    }
}

/// One Q4_0 block, as `quantize_row_q4_0_ref`.
pub fn quantize_block_q4_0(x: &[f32; QK8_0]) -> BlockQ4_0 {
    let (mut amax, mut max) = (0.0f32, 0.0f32);
    for &v in x {
        if amax < v.abs() {
            amax = v.abs();
            max = v;
        }
    }
    let d = max / -8.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    // x·id lies in [−8, 8] (up to rounding), so x·id + 8.5 is in [0, 16.5]: truncation is
    // C's (int8_t) conversion, and only the far extreme needs the clamp to 15.
    let nibble = |v: f32| ((v * id + 8.5) as i8).min(15) as u8;
    let (lo, hi) = x.split_at(QK8_0 / 2);
    let mut qs = [0u8; QK8_0 / 2];
    for (q, (&a, &b)) in qs.iter_mut().zip(lo.iter().zip(hi)) {
        *q = nibble(a) | (nibble(b) << 4);
    }
    BlockQ4_0 {
        d: f16::from_f32(d),
        qs,
    }
}

/// A Q8_0 block's bytes as they are stored in a GGUF file.
pub fn q8_0_bytes(b: &BlockQ8_0) -> [u8; Q8_0_BYTES] {
    let mut out = [0u8; Q8_0_BYTES];
    out[..2].copy_from_slice(&b.d.to_le_bytes());
    for (o, &q) in out[2..].iter_mut().zip(&b.qs) {
        *o = q as u8;
    }
    out
}

/// A Q4_0 block's bytes as they are stored in a GGUF file.
pub fn q4_0_bytes(b: &BlockQ4_0) -> [u8; Q4_0_BYTES] {
    let mut out = [0u8; Q4_0_BYTES];
    out[..2].copy_from_slice(&b.d.to_le_bytes());
    out[2..].copy_from_slice(&b.qs);
    out
}

/// `x` as whole blocks of 32, or an error naming `ty`.
fn blocks(ty: GgmlType, x: &[f32]) -> Result<&[[f32; QK8_0]], QuantizeError> {
    match x.as_chunks::<QK8_0>() {
        (blocks, []) => Ok(blocks),
        _ => Err(QuantizeError::RaggedRow { ty, len: x.len() }),
    }
}

/// Append the Q8_0 encoding of `x` (a multiple of 32 values) to `out`.
pub fn quantize_row_q8_0(x: &[f32], out: &mut Vec<u8>) -> Result<(), QuantizeError> {
    let blocks = blocks(GgmlType::Q8_0, x)?;
    out.reserve(blocks.len() * Q8_0_BYTES);
    for b in blocks {
        out.extend_from_slice(&q8_0_bytes(&quantize_block_q8_0(b)));
    }
    Ok(())
}

/// Append the Q4_0 encoding of `x` (a multiple of 32 values) to `out`.
pub fn quantize_row_q4_0(x: &[f32], out: &mut Vec<u8>) -> Result<(), QuantizeError> {
    let blocks = blocks(GgmlType::Q4_0, x)?;
    out.reserve(blocks.len() * Q4_0_BYTES);
    for b in blocks {
        out.extend_from_slice(&q4_0_bytes(&quantize_block_q4_0(b)));
    }
    Ok(())
}

/// Append `x` as little-endian f16 (round to nearest even) to `out`.
pub fn quantize_row_f16(x: &[f32], out: &mut Vec<u8>) {
    out.reserve(x.len() * 2);
    for &v in x {
        out.extend_from_slice(&f16::from_f32(v).to_le_bytes());
    }
}

/// Append `x` as little-endian f32 to `out`.
pub fn quantize_row_f32(x: &[f32], out: &mut Vec<u8>) {
    out.reserve(x.len() * 4);
    for &v in x {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

/// Append the encoding of `x` in `ty` to `out`. Rows of several tensor rows may be passed
/// at once: the blocks never straddle a row when the row length is whole blocks.
pub fn quantize_row(ty: GgmlType, x: &[f32], out: &mut Vec<u8>) -> Result<(), QuantizeError> {
    match ty {
        GgmlType::F32 => quantize_row_f32(x, out),
        GgmlType::F16 => quantize_row_f16(x, out),
        GgmlType::Q8_0 => quantize_row_q8_0(x, out)?,
        GgmlType::Q4_0 => quantize_row_q4_0(x, out)?,
        other => return Err(QuantizeError::Unsupported(other)),
    }
    Ok(())
}

/// The weight format of a whole model file: the type of its 2-D weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quant {
    F32,
    F16,
    Q8_0,
    Q4_0,
}

impl Quant {
    pub const ALL: [Quant; 4] = [Quant::F32, Quant::F16, Quant::Q8_0, Quant::Q4_0];

    /// The name on the command line and in reports: `f32`, `f16`, `q8_0`, `q4_0`.
    pub fn name(self) -> &'static str {
        self.matrix_type().traits().name
    }

    /// The type a 2-D weight gets when its rows are whole blocks.
    pub fn matrix_type(self) -> GgmlType {
        match self {
            Quant::F32 => GgmlType::F32,
            Quant::F16 => GgmlType::F16,
            Quant::Q8_0 => GgmlType::Q8_0,
            Quant::Q4_0 => GgmlType::Q4_0,
        }
    }

    /// The type of a 2-D weight whose rows hold `ne0` values. As `llama-quantize`
    /// (`tensor_type_fallback`): a 32-block type that does not divide the row falls back
    /// to F16.
    pub fn tensor_type(self, ne0: usize) -> GgmlType {
        let ty = self.matrix_type();
        if ne0.is_multiple_of(ty.block_size()) {
            ty
        } else {
            GgmlType::F16
        }
    }

    /// `general.file_type` of a file made with this choice.
    pub fn file_type(self) -> FileType {
        match self {
            Quant::F32 => FileType::AllF32,
            Quant::F16 => FileType::MostlyF16,
            Quant::Q8_0 => FileType::MostlyQ8_0,
            Quant::Q4_0 => FileType::MostlyQ4_0,
        }
    }
}

impl fmt::Display for Quant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A weight format name that is not one of `f32`, `f16`, `q8_0`, `q4_0`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown weight type {0:?} (expected f32, f16, q8_0 or q4_0)")]
pub struct UnknownQuant(pub String);

impl FromStr for Quant {
    type Err = UnknownQuant;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Quant::ALL
            .into_iter()
            .find(|q| q.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownQuant(s.to_owned()))
    }
}
