//! Q4_0 and Q8_0 matrices with sixteen rows interleaved, the layout the AVX-512 kernels
//! read.
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
//! [`vec_dot_q4_0_q8_0_repacked`](super::scalar::vec_dot_q4_0_q8_0_repacked). Q8_0 (see
//! [`pack_q8_0`]) keeps its eight lanes of four products per row, as in place.

use super::blocks::{BlockQ8_0, QK8_0};
use crate::math::fmaf;
use half::f16;

/// Rows per interleaved group.
pub const GROUP_ROWS: usize = 16;
/// Bytes per Q4_0 block.
const BLOCK: usize = 18;
/// Scale bytes per group and block.
const SCALES: usize = 2 * GROUP_ROWS;
/// Q4_0 quant bytes per group and block.
const QUANTS: usize = 16 * GROUP_ROWS;

/// Whether a matrix of `rows` rows can be packed.
pub fn packable(rows: usize) -> bool {
    rows > 0 && rows.is_multiple_of(GROUP_ROWS)
}

/// Pack `rows` Q4_0 rows of `nb` blocks from `src` into `dst` (both `rows·nb·18` bytes).
/// Returns false, writing nothing, if the shapes do not fit.
pub fn pack_q4_0(src: &[u8], rows: usize, nb: usize, dst: &mut [u8]) -> bool {
    shuffle::<true>(src, rows, nb, Q4_0, dst)
}

/// The inverse of [`pack_q4_0`].
pub fn unpack_q4_0(src: &[u8], rows: usize, nb: usize, dst: &mut [u8]) -> bool {
    shuffle::<false>(src, rows, nb, Q4_0, dst)
}

/// Pack `rows` Q8_0 rows of `nb` blocks (`rows·nb·34` bytes) as [`pack_q4_0`] does, each
/// group and block taking 32 scale bytes then 512 quant bytes (eight 64-byte loads, four
/// bytes of each row). The quants are stored as `q + 128` (sign bit flipped), the unsigned
/// operand `vpdpbusd` wants.
pub fn pack_q8_0(src: &[u8], rows: usize, nb: usize, dst: &mut [u8]) -> bool {
    shuffle::<true>(src, rows, nb, Q8_0, dst)
}

/// The inverse of [`pack_q8_0`].
pub fn unpack_q8_0(src: &[u8], rows: usize, nb: usize, dst: &mut [u8]) -> bool {
    shuffle::<false>(src, rows, nb, Q8_0, dst)
}

/// Block `b` of row `r` of a packed Q4_0 (`block` 18) or Q8_0 (`block` 34) matrix of `nb`
/// blocks per row, as it is in place, into `out[..block]`: a row of a packed matrix without
/// reading the file (the embedding lookup of a packed tied head). False if out of range.
pub fn block_of(w: &[u8], block: usize, nb: usize, r: usize, b: usize, out: &mut [u8; 34]) -> bool {
    let k = match block {
        18 => Q4_0,
        34 => Q8_0,
        _ => return false,
    };
    let group_bytes = GROUP_ROWS * nb * k.block;
    let (g, rr) = (r / GROUP_ROWS, r % GROUP_ROWS);
    let Some(grp) = w.get(g * group_bytes..(g + 1) * group_bytes) else {
        return false;
    };
    if b >= nb {
        return false;
    }
    let sc = b * SCALES + 2 * rr;
    out[..2].copy_from_slice(&grp[sc..sc + 2]);
    let q0 = nb * SCALES + b * GROUP_ROWS * (k.block - 2) + 4 * rr;
    for m in 0..(k.block - 2) / 4 {
        for j in 0..4 {
            out[2 + 4 * m + j] = grp[q0 + 64 * m + j] ^ k.flip;
        }
    }
    true
}

/// A block type's shape in the packed layout.
#[derive(Clone, Copy)]
struct Kind {
    /// Bytes per block in a row.
    block: usize,
    /// XORed into each quant byte.
    flip: u8,
}

const Q4_0: Kind = Kind {
    block: BLOCK,
    flip: 0,
};
const Q8_0: Kind = Kind {
    block: 34,
    flip: 0x80,
};

/// Rows to packed groups (`PACK`) or back.
fn shuffle<const PACK: bool>(src: &[u8], rows: usize, nb: usize, k: Kind, dst: &mut [u8]) -> bool {
    let row_bytes = nb * k.block;
    let group_bytes = GROUP_ROWS * row_bytes;
    if !packable(rows) || src.len() != rows * row_bytes || dst.len() != src.len() {
        return false;
    }
    // Quant bytes per group and block.
    let quants = GROUP_ROWS * (k.block - 2);
    let flip = u32::from_ne_bytes([k.flip; 4]);
    for (s, d) in src
        .chunks_exact(group_bytes)
        .zip(dst.chunks_exact_mut(group_bytes))
    {
        for r in 0..GROUP_ROWS {
            for b in 0..nb {
                let at = r * row_bytes + b * k.block;
                let sc = b * SCALES + 2 * r;
                let q0 = nb * SCALES + b * quants + 4 * r;
                let (from, to) = if PACK { (at, sc) } else { (sc, at) };
                d[to..to + 2].copy_from_slice(&s[from..from + 2]);
                // Four quant bytes at a time: row offset `4m`, packed offset `64m`.
                for m in 0..(k.block - 2) / 4 {
                    let (row_q, packed_q) = (at + 2 + 4 * m, q0 + 64 * m);
                    let (from, to) = if PACK {
                        (row_q, packed_q)
                    } else {
                        (packed_q, row_q)
                    };
                    let v = u32::from_ne_bytes([s[from], s[from + 1], s[from + 2], s[from + 3]]);
                    d[to..to + 4].copy_from_slice(&(v ^ flip).to_ne_bytes());
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

/// As [`rows_q4_0`] for rows packed by [`pack_q8_0`], in the scalar reference's Q8_0 lanes
/// ([`vec_dot_q8_0_q8_0`](super::scalar::vec_dot_q8_0_q8_0)).
pub fn rows_q8_0(w: &[u8], x: &[BlockQ8_0], out: &mut [f32]) {
    let groups = out.len() / GROUP_ROWS;
    let Some(group_bytes) = w.len().checked_div(groups) else {
        return;
    };
    let nb_all = group_bytes / (SCALES + 512);
    let nb = nb_all.min(x.len());
    out[groups * GROUP_ROWS..].fill(0.0);
    for (g, o) in w
        .chunks_exact(group_bytes)
        .zip(out.chunks_exact_mut(GROUP_ROWS))
    {
        let (scales, quants) = g.split_at(nb_all * SCALES);
        for (r, out) in o.iter_mut().enumerate() {
            let mut acc = [0.0f32; 8];
            for (b, xb) in x[..nb].iter().enumerate() {
                let s = &scales[b * SCALES + 2 * r..][..2];
                let d = f16::from_le_bytes([s[0], s[1]]).to_f32() * xb.d.to_f32();
                for (m, a) in acc.iter_mut().enumerate() {
                    let q = &quants[b * 512 + m * 64 + 4 * r..][..4];
                    let sum: i32 = (0..4)
                        .map(|j| i32::from((q[j] ^ 0x80) as i8) * i32::from(xb.qs[4 * m + j]))
                        .sum();
                    *a = fmaf(d, sum as f32, *a);
                }
            }
            *out = super::scalar::hsum_float_8(&acc);
        }
    }
}
