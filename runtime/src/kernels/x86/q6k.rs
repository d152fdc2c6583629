//! Q6_K weights · Q8_K activations in `ggml_vec_dot_q6_K_q8_K`'s lanes.
//!
//! Per block, i32 lane `l` sums, over the eight 32-element chunks `c`, the chunk's scale for
//! elements `4l..4l+4` (`sc[2c]` for lanes 0..4, `sc[2c+1]` for lanes 4..8) times those
//! products of unsigned quants (0..=63) and activations, less `32·(bsum[2l]·sc[2l] +
//! bsum[2l+1]·sc[2l+1])`. All of it is exact integer arithmetic (`vpmaddubsw` pairs are at
//! most 2·63·128; `vpmaddwd` with the scales then sums them into i32 lanes).

use super::simd::{f16_to_f32, hsum_float_8, load16, load32, prefetch};
use super::Rows;
use crate::quant::{BlockQ8K, QK_K};
use core::arch::x86_64::*;

/// Bytes per Q6_K block: `ql[128]`, `qh[64]`, `scales[16]`, `d`.
const BS: usize = 210;
/// How many rows ahead the weights are prefetched.
const AHEAD: usize = 8;

/// As `SCALAR.q6_k`.
///
/// # Safety
/// The CPU has AVX2, FMA and F16C.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn rows(w: &[u8], x: &[BlockQ8K], out: &mut [f32]) {
    let rows = Rows::new(w, out.len());
    let nb = (rows.row_bytes / BS).min(x.len());
    for (r, o) in out.iter_mut().enumerate() {
        // SAFETY: row `r` exists and holds `nb` blocks.
        *o = hsum_float_8(unsafe { row(rows.row(r), x, nb, rows.row(r + AHEAD)) });
    }
}

/// Byte shuffles that spread i16 scales `2c` (low half) and `2c+1` (high half) of
/// `[s0..s8 | s0..s8]` over eight lanes each, for `c = 0..4`.
const SCALE_SHUF: [[i8; 32]; 4] = {
    let mut t = [[0i8; 32]; 4];
    let mut c = 0;
    while c < 4 {
        let mut k = 0;
        while k < 8 {
            t[c][2 * k] = (4 * c) as i8;
            t[c][2 * k + 1] = (4 * c + 1) as i8;
            t[c][16 + 2 * k] = (4 * c + 2) as i8;
            t[c][16 + 2 * k + 1] = (4 * c + 3) as i8;
            k += 1;
        }
        c += 1;
    }
    t
};

/// The lane accumulator of one row; the row at `ahead` is prefetched.
///
/// # Safety
/// The CPU has AVX2, FMA and F16C; `p` holds `nb ≤ x.len()` blocks.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn row(p: *const u8, x: &[BlockQ8K], nb: usize, ahead: *const u8) -> __m256 {
    let m4 = _mm256_set1_epi8(0x0f);
    let m2 = _mm256_set1_epi8(0x30);
    // SAFETY: each table row is 32 bytes.
    let shuf: [__m256i; 4] =
        core::array::from_fn(|c| unsafe { load32(SCALE_SHUF[c].as_ptr().cast()) });
    let mut acc = _mm256_setzero_ps();
    for (b, xb) in x.iter().enumerate().take(nb) {
        let blk = p.wrapping_add(b * BS);
        for line in 0..4 {
            prefetch(ahead.wrapping_add(b * BS + 64 * line));
        }
        // SAFETY: block `b < nb` of the row: 210 bytes from `blk`.
        let (sc, dw) = unsafe {
            (
                load16(blk.add(192)),
                super::simd::u16_at(blk.add(208)) as u16,
            )
        };
        let sc16 = _mm256_cvtepi8_epi16(sc);
        // SAFETY: `bsums` is 16 i16, 32 bytes.
        let bsums = unsafe { load32(xb.bsums.as_ptr().cast()) };
        let offset = _mm256_slli_epi32::<5>(_mm256_madd_epi16(bsums, sc16));
        // [s0..s8 | s0..s8] and [s8..s16 | s8..s16].
        let scales = [
            _mm256_permute4x64_epi64::<0x44>(sc16),
            _mm256_permute4x64_epi64::<0xee>(sc16),
        ];
        let mut sum = _mm256_setzero_si256();
        for (h, sch) in scales.into_iter().enumerate() {
            // SAFETY: `ql` (bytes 0..128) and `qh` (128..192) of block `b`.
            let (l1, l2, hb) = unsafe {
                (
                    load32(blk.add(64 * h)),
                    load32(blk.add(64 * h + 32)),
                    load32(blk.add(128 + 32 * h)),
                )
            };
            // Elements 128h + 32k + (0..32), k = 0..4: four bits from `ql`, two from `qh`.
            let q = [
                _mm256_or_si256(
                    _mm256_and_si256(l1, m4),
                    _mm256_and_si256(_mm256_slli_epi16::<4>(hb), m2),
                ),
                _mm256_or_si256(
                    _mm256_and_si256(l2, m4),
                    _mm256_and_si256(_mm256_slli_epi16::<2>(hb), m2),
                ),
                _mm256_or_si256(
                    _mm256_and_si256(_mm256_srli_epi16::<4>(l1), m4),
                    _mm256_and_si256(hb, m2),
                ),
                _mm256_or_si256(
                    _mm256_and_si256(_mm256_srli_epi16::<4>(l2), m4),
                    _mm256_and_si256(_mm256_srli_epi16::<2>(hb), m2),
                ),
            ];
            for (k, qk) in q.into_iter().enumerate() {
                let e = 128 * h + 32 * k;
                debug_assert!(e + 32 <= QK_K);
                // SAFETY: activations `e..e+32` of block `b` (`e + 32 ≤ 256`).
                let y = unsafe { load32(xb.qs.as_ptr().add(e).cast()) };
                let s = _mm256_shuffle_epi8(sch, shuf[k]);
                let pk = _mm256_madd_epi16(_mm256_maddubs_epi16(qk, y), s);
                sum = _mm256_add_epi32(sum, pk);
            }
        }
        let sum = _mm256_sub_epi32(sum, offset);
        let d = xb.d * f16_to_f32(dw);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sum), acc);
    }
    acc
}
