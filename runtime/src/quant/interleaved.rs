//! Q4_0 matrices with sixteen rows interleaved, the layout the AVX-512 kernels read.
//!
//! A file's Q4_0 rows are read in place everywhere, but a row-at-a-time layout makes a
//! sixteen-row kernel gather sixteen scales and sixteen 16-byte pieces from sixteen places
//! per block. Packed, a group of sixteen rows is one sequential stream:
//!
//! ```text
//! group of rows 16g..16g+16, nb blocks each:
//!   [ nb × 16 f16 scales      ]  block b: row r's d at 32b + 2r
//!   [ nb × 256 quant bytes    ]  block b, at 256b: for m in 0..4, for r in 0..16,
//!                                  bytes qs[r][4m..4m+4]
//! ```
//!
//! so one 64-byte load `m` holds quant bytes `4m..4m+4` of every row (lane `r` = row `r`),
//! whose low nibbles are elements `4m..4m+4` and high nibbles `16+4m..16+4m+4`. A group
//! takes as many bytes as its sixteen rows did, so row ranges keep their byte offsets.
//!
//! The arithmetic is unchanged: per row and block the exact integer sum, fused as
//! `acc = sum·(d_w·d_x) + acc` block after block, so a packed matrix gives the bits of
//! [`vec_dot_q4_0_q8_0_repacked`](super::scalar::vec_dot_q4_0_q8_0_repacked).

use super::blocks::{BlockQ8_0, QK8_0};
use crate::math::fmaf;
use half::f16;

/// Rows per interleaved group.
pub const GROUP_ROWS: usize = 16;
/// Bytes per Q4_0 block.
const BLOCK: usize = 18;
/// Scale bytes per group and block.
const SCALES: usize = 2 * GROUP_ROWS;
/// Quant bytes per group and block.
const QUANTS: usize = 16 * GROUP_ROWS;

/// Whether a Q4_0 matrix of `rows` rows can be packed.
pub fn packable(rows: usize) -> bool {
    rows > 0 && rows.is_multiple_of(GROUP_ROWS)
}

/// Pack `rows` Q4_0 rows of `nb` blocks from `src` into `dst` (both `rows·nb·18` bytes).
/// Returns false, writing nothing, if the shapes do not fit.
pub fn pack_q4_0(src: &[u8], rows: usize, nb: usize, dst: &mut [u8]) -> bool {
    let row_bytes = nb * BLOCK;
    let group_bytes = GROUP_ROWS * row_bytes;
    if !packable(rows) || src.len() != rows * row_bytes || dst.len() != src.len() {
        return false;
    }
    for (s, d) in src
        .chunks_exact(group_bytes)
        .zip(dst.chunks_exact_mut(group_bytes))
    {
        let (scales, quants) = d.split_at_mut(nb * SCALES);
        for (r, row) in s.chunks_exact(row_bytes).enumerate() {
            for (b, blk) in row.chunks_exact(BLOCK).enumerate() {
                scales[b * SCALES + 2 * r..][..2].copy_from_slice(&blk[..2]);
                for m in 0..4 {
                    let at = b * QUANTS + m * 64 + 4 * r;
                    quants[at..at + 4].copy_from_slice(&blk[2 + 4 * m..][..4]);
                }
            }
        }
    }
    true
}

/// The inverse of [`pack_q4_0`].
pub fn unpack_q4_0(src: &[u8], rows: usize, nb: usize, dst: &mut [u8]) -> bool {
    let row_bytes = nb * BLOCK;
    let group_bytes = GROUP_ROWS * row_bytes;
    if !packable(rows) || src.len() != rows * row_bytes || dst.len() != src.len() {
        return false;
    }
    for (s, d) in src
        .chunks_exact(group_bytes)
        .zip(dst.chunks_exact_mut(group_bytes))
    {
        let (scales, quants) = s.split_at(nb * SCALES);
        for (r, row) in d.chunks_exact_mut(row_bytes).enumerate() {
            for (b, blk) in row.chunks_exact_mut(BLOCK).enumerate() {
                blk[..2].copy_from_slice(&scales[b * SCALES + 2 * r..][..2]);
                for m in 0..4 {
                    let at = b * QUANTS + m * 64 + 4 * r;
                    blk[2 + 4 * m..][..4].copy_from_slice(&quants[at..at + 4]);
                }
            }
        }
    }
    true
}

/// `out[r] = row r · x` over packed rows (`out.len()` a multiple of 16, `w` its groups), as
/// the scalar reference computes repacked Q4_0. Rows past the last whole group get 0.
pub fn rows_q4_0(w: &[u8], x: &[BlockQ8_0], out: &mut [f32]) {
    let groups = out.len() / GROUP_ROWS;
    let Some(group_bytes) = w.len().checked_div(groups) else {
        return;
    };
    let nb = (group_bytes / (SCALES + QUANTS)).min(x.len());
    out[groups * GROUP_ROWS..].fill(0.0);
    for (g, o) in w
        .chunks_exact(group_bytes)
        .zip(out.chunks_exact_mut(GROUP_ROWS))
    {
        let nb_all = group_bytes / (SCALES + QUANTS);
        let (scales, quants) = g.split_at(nb_all * SCALES);
        for (r, acc) in o.iter_mut().enumerate() {
            *acc = 0.0;
            for (b, xb) in x[..nb].iter().enumerate() {
                let mut sum = 0i32;
                for m in 0..4 {
                    let q = &quants[b * QUANTS + m * 64 + 4 * r..][..4];
                    for (j, &v) in q.iter().enumerate() {
                        let e = 4 * m + j;
                        sum += (i32::from(v & 0x0f) - 8) * i32::from(xb.qs[e]);
                        sum += (i32::from(v >> 4) - 8) * i32::from(xb.qs[e + QK8_0 / 2]);
                    }
                }
                let s = &scales[b * SCALES + 2 * r..][..2];
                let dw = f16::from_le_bytes([s[0], s[1]]).to_f32();
                *acc = fmaf(sum as f32, dw * xb.d.to_f32(), *acc);
            }
        }
    }
}
