//! Q4_0 weights · Q8_0 activations, in both of the reference's orders.
//!
//! A block's nibbles are spread over one register as `[lows | highs]`, which is element
//! order (element `j` is the low nibble of byte `j`, element `j + 16` its high nibble).
//! `vpmaddubsw` multiplies the unsigned nibbles `n` by the activation `y`; the weight is
//! `n − 8`, so `8·y` is taken off afterwards. Both steps are exact for every `y`.

use super::simd::{
    f16_to_f32, f16x8_strided, f16x8_strided_full, fma1, hsum_float_8x4, load16, load32, u16_at,
    Ahead,
};
use super::Rows;
use crate::quant::BlockQ8_0;
use core::arch::x86_64::*;

/// Bytes per Q4_0 block.
const BS: usize = 18;
/// Bytes per Q8_0 block.
const XS: usize = 34;

/// As `SCALAR.q4_0`: per block, lane `l` is the exact sum of products `4l..4l+4`, fused
/// into its accumulator as `(d_w·d_x)·sum + acc`; each row ends with `hsum_float_8`.
///
/// # Safety
/// The CPU has AVX2, FMA and F16C.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn lanes(w: &[u8], x: &[BlockQ8_0], out: &mut [f32]) {
    let rows = Rows::new(w, out.len());
    let nb = (rows.row_bytes / BS).min(x.len());
    for (g, o) in out.chunks_mut(4).enumerate() {
        let (r, k) = (4 * g, o.len());
        // A short last group repeats its last row.
        let p = core::array::from_fn(|i| rows.row(r + i.min(k - 1)));
        // SAFETY: rows `r..r+k` exist and hold `nb` blocks each.
        let [a, b, c, d] = unsafe { lanes_dot(p, x, nb) };
        let mut s = [0.0f32; 4];
        // SAFETY: `s` is 4 writable floats.
        unsafe { _mm_storeu_ps(s.as_mut_ptr(), hsum_float_8x4(a, b, c, d)) };
        o.copy_from_slice(&s[..k]);
    }
}

/// The 32 nibbles of the Q4_0 block whose quants start at `qs`, as `[lows | highs]`.
///
/// # Safety
/// `qs..qs+16` is readable.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn nibbles(qs: *const u8) -> __m256i {
    // SAFETY: the caller guarantees the 16 bytes.
    let q = _mm256_broadcastsi128_si256(unsafe { load16(qs) });
    // The high half shifted right by 4 (within 64-bit lanes, so bits of the next byte
    // land in bits 4..8 of each byte and are masked off).
    let q = _mm256_srlv_epi64(q, _mm256_setr_epi64x(0, 0, 4, 4));
    _mm256_and_si256(q, _mm256_set1_epi8(0x0f))
}

/// Lane accumulators of the four rows at `p`.
///
/// # Safety
/// The CPU has AVX2, FMA and F16C; each `p[i]` is followed by `nb` readable blocks;
/// `nb ≤ x.len()`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn lanes_dot(p: [*const u8; 4], x: &[BlockQ8_0], nb: usize) -> [__m256; 4] {
    let ones = _mm256_set1_epi16(1);
    let eight = _mm256_set1_epi8(8);
    let xp = x.as_ptr().cast::<u8>();
    let mut acc = [_mm256_setzero_ps(); 4];
    let mut b0 = 0;
    while b0 < nb {
        let n = (nb - b0).min(8);
        // SAFETY: blocks `b0..b0+n` of `x` and of every row are readable.
        let xd = unsafe { f16x8_strided(xp.add(b0 * XS), XS, n) };
        let mut dd = [[0.0f32; 8]; 4];
        for (d, &pr) in dd.iter_mut().zip(&p) {
            // SAFETY: as above.
            let wd = unsafe { f16x8_strided(pr.add(b0 * BS), BS, n) };
            // SAFETY: `d` is 8 writable floats.
            unsafe { _mm256_storeu_ps(d.as_mut_ptr(), _mm256_mul_ps(wd, xd)) };
        }
        for (j, b) in (b0..b0 + n).enumerate() {
            // SAFETY: block `b < nb` of `x`: its 32 quants.
            let y = unsafe { load32(xp.add(b * XS + 2)) };
            // 8·(sum of each 4 activations), per lane.
            let corr = _mm256_madd_epi16(_mm256_maddubs_epi16(eight, y), ones);
            for i in 0..4 {
                // SAFETY: block `b < nb` of row `i`: its 16 quant bytes.
                let q = unsafe { nibbles(p[i].add(b * BS + 2)) };
                let s = _mm256_madd_epi16(_mm256_maddubs_epi16(q, y), ones);
                let s = _mm256_cvtepi32_ps(_mm256_sub_epi32(s, corr));
                acc[i] = _mm256_fmadd_ps(_mm256_set1_ps(dd[i][j]), s, acc[i]);
            }
        }
        b0 += n;
    }
    acc
}

/// As `SCALAR.q4_0_repacked`: per row one accumulator, `acc = sum·(d_w·d_x) + acc` fused,
/// block after block, where `sum` is the block's exact dot product.
///
/// Eight rows at a time: rows `i` and `i + 4` share a register (`[row i | row i+4]`), their
/// pair sums are widened to i32 (`vpmaddwd`), and four such registers are transposed and
/// added into one i32 lane per row, so the eight sums are fused into one vector accumulator
/// (lane `i` = row `i`). The activation side of each block (`8·Σy`, `d_x`) is prepared once
/// per call for a chunk of blocks, and the accumulators carry over chunks through `out`.
///
/// # Safety
/// The CPU has AVX2, FMA and F16C.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn repacked(w: &[u8], x: &[BlockQ8_0], out: &mut [f32]) {
    let rows = Rows::new(w, out.len());
    let nb = (rows.row_bytes / BS).min(x.len());
    let (groups, tail) = out.split_at_mut(out.len() - out.len() % 8);
    groups.fill(0.0);
    let mut corr = [0i32; CH];
    let mut xd = [0.0f32; CH];
    let mut c0 = 0;
    while c0 < nb {
        let cn = (nb - c0).min(CH);
        for ((c, d), xb) in corr.iter_mut().zip(xd.iter_mut()).zip(&x[c0..c0 + cn]) {
            *c = 8 * xb.qs.iter().map(|&q| i32::from(q)).sum::<i32>();
            *d = f16_to_f32(xb.d.to_bits());
        }
        for (g, o) in groups.chunks_exact_mut(8).enumerate() {
            // SAFETY: `o` is 8 floats (the accumulators so far).
            let acc = unsafe { _mm256_loadu_ps(o.as_ptr()) };
            // SAFETY: rows `8g..8g+8` exist and hold `nb` blocks; `c0 + cn ≤ nb`.
            let acc = unsafe { repacked_x8(rows, 8 * g, x, c0, &corr[..cn], &xd[..cn], acc) };
            // SAFETY: as above.
            unsafe { _mm256_storeu_ps(o.as_mut_ptr(), acc) };
        }
        c0 += cn;
    }
    let first = groups.len();
    for (r, o) in tail.iter_mut().enumerate() {
        // SAFETY: row `first + r` exists and holds `nb` blocks.
        *o = unsafe { repacked_x1(rows.row(first + r), x, nb) };
    }
}

/// Blocks per chunk of [`repacked`]'s prepared activation data (rows up to 16384 columns
/// are one chunk, so each group of rows is read once, front to back).
const CH: usize = 512;

/// Rows `r..r+8` (lane `i` = row `r + i`), blocks `c0..c0 + corr.len()`, on top of `acc`.
/// `corr[j]` is `8·Σy` and `xd[j]` is `d_x` of block `c0 + j`.
///
/// # Safety
/// The CPU has AVX2, FMA and F16C; rows `r..r+8` each hold `c0 + corr.len() ≤ x.len()`
/// blocks; `xd.len() == corr.len()`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn repacked_x8(
    rows: Rows,
    r: usize,
    x: &[BlockQ8_0],
    c0: usize,
    corr: &[i32],
    xd: &[f32],
    mut acc: __m256,
) -> __m256 {
    let ones = _mm256_set1_epi16(1);
    let low = _mm256_set1_epi8(0x0f);
    let p0 = rows.row(r);
    let stride = rows.row_bytes;
    let p: [*const u8; 4] = core::array::from_fn(|i| rows.row(r + i));
    let q: [*const u8; 4] = core::array::from_fn(|i| rows.row(r + 4 + i));
    // The next group's bytes of this chunk, from its first row's to its last row's.
    let cn = corr.len();
    let mut ahead = Ahead::new(
        rows.row(r + 8).wrapping_add(c0 * BS),
        7 * stride + cn * BS,
        cn,
    );
    let xp = x.as_ptr().cast::<u8>();
    for (j, (&c, &d)) in corr.iter().zip(xd).enumerate() {
        let b = c0 + j;
        let o = b * BS;
        ahead.step();
        // SAFETY: block `b` of `x`: its 32 quants, read as two halves.
        let (ylo, yhi) = unsafe {
            (
                _mm256_broadcastsi128_si256(load16(xp.add(b * XS + 2))),
                _mm256_broadcastsi128_si256(load16(xp.add(b * XS + 18))),
            )
        };
        // [row i | row i+4]: four i32 sums of n·y each (n the unsigned nibbles).
        let m: [__m256i; 4] = core::array::from_fn(|i| {
            // SAFETY: block `b` of rows `r + i` and `r + i + 4`: 16 quant bytes each.
            let v = unsafe {
                _mm256_inserti128_si256::<1>(
                    _mm256_castsi128_si256(load16(p[i].add(o + 2))),
                    load16(q[i].add(o + 2)),
                )
            };
            let lo = _mm256_and_si256(v, low);
            let hi = _mm256_and_si256(_mm256_srli_epi16::<4>(v), low);
            // Pairs of n·y are at most 2·15·128 in size; adding the two halves' pairs
            // (four products) stays within i16.
            let s = _mm256_add_epi16(_mm256_maddubs_epi16(lo, ylo), _mm256_maddubs_epi16(hi, yhi));
            _mm256_madd_epi16(s, ones)
        });
        // Transpose and add: [r0 r1 r0 r1 | r4 r5 r4 r5], [r2 r3 ..], then one per row.
        let t0 = _mm256_add_epi32(
            _mm256_unpacklo_epi32(m[0], m[1]),
            _mm256_unpackhi_epi32(m[0], m[1]),
        );
        let t1 = _mm256_add_epi32(
            _mm256_unpacklo_epi32(m[2], m[3]),
            _mm256_unpackhi_epi32(m[2], m[3]),
        );
        let sum = _mm256_add_epi32(_mm256_unpacklo_epi64(t0, t1), _mm256_unpackhi_epi64(t0, t1));
        // Σ (n − 8)·y.
        let sum = _mm256_sub_epi32(sum, _mm256_set1_epi32(c));
        // SAFETY: block `b` of rows `r..r+8` (row `r + i` at `p0 + i·stride`).
        let wd = unsafe { f16x8_strided_full(p0.add(o), stride) };
        let dv = _mm256_mul_ps(wd, _mm256_set1_ps(d));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), dv, acc);
    }
    acc
}

/// One row.
///
/// # Safety
/// The CPU has AVX2, FMA and F16C; `p` holds `nb ≤ x.len()` blocks.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn repacked_x1(p: *const u8, x: &[BlockQ8_0], nb: usize) -> f32 {
    let ones = _mm256_set1_epi16(1);
    let eight = _mm256_set1_epi8(8);
    let xp = x.as_ptr().cast::<u8>();
    let mut acc = 0.0f32;
    for b in 0..nb {
        // SAFETY: block `b < nb` of `x` and of the row.
        let (y, q, xd, wd) = unsafe {
            (
                load32(xp.add(b * XS + 2)),
                nibbles(p.add(b * BS + 2)),
                u16_at(xp.add(b * XS)) as u16,
                u16_at(p.add(b * BS)) as u16,
            )
        };
        // Pairs of n·y − 8·y: |·| ≤ 2·15·128, no saturation; the i32 sums are exact.
        let s = _mm256_sub_epi16(_mm256_maddubs_epi16(q, y), _mm256_maddubs_epi16(eight, y));
        let s = _mm256_madd_epi16(s, ones);
        let s = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256::<1>(s));
        let s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01>(s));
        let sum = _mm_cvtsi128_si32(s);
        let d = f16_to_f32(wd) * f16_to_f32(xd);
        acc = fma1(sum as f32, d, acc);
    }
    acc
}
