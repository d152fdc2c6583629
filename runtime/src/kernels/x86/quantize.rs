//! Activations → Q8_0 / Q8_K, eight floats per instruction.
//!
//! `nearest_int(v) as i8` is the low byte of the bits of `v + 1.5·2^23` (the mask and the
//! `0x400000` offset of `nearest_int` leave that byte alone), so the quants are taken as
//! those bytes: exact for every input, NaN and infinity included.

use super::simd::load32;
use crate::quant::{BlockQ8K, BlockQ8_0, QK8_0, QK_K};
use core::arch::x86_64::*;
use half::f16;

/// `nearest_int`'s rounding constant, 1.5·2^23.
const MAGIC: f32 = 12_582_912.0;

/// Eight floats at `p`.
///
/// # Safety
/// `p..p+8` is readable.
#[inline(always)]
unsafe fn load8(p: *const f32) -> __m256 {
    // SAFETY: the caller guarantees 8 readable floats; `loadu` needs no alignment.
    unsafe { _mm256_loadu_ps(p) }
}

/// `max(|v|, m)` lane by lane, NaN lanes of `v` ignored (as `f32::max` ignores them);
/// `m` must be free of NaN.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn max_abs(v: __m256, m: __m256) -> __m256 {
    // `maxps` returns its second operand when either is NaN.
    _mm256_max_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0), v), m)
}

/// The largest lane of NaN-free `m`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn hmax(m: __m256) -> f32 {
    let m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps::<1>(m));
    let m2 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    _mm_cvtss_f32(_mm_max_ss(m2, _mm_movehdup_ps(m2)))
}

/// The low bytes of four vectors of i32 lanes, in lane order (32 bytes).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn low_bytes(q: [__m256i; 4]) -> __m256i {
    let ff = _mm256_set1_epi32(0xff);
    let [a, b, c, d] = q.map(|v| _mm256_and_si256(v, ff));
    // Saturating packs are exact on 0..=255; they interleave 128-bit halves, undone below.
    let abcd = _mm256_packus_epi16(_mm256_packus_epi32(a, b), _mm256_packus_epi32(c, d));
    _mm256_permutevar8x32_epi32(abcd, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7))
}

/// As `scalar::quantize_row_q8_0`.
///
/// # Safety
/// The CPU has AVX2, FMA and F16C.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn q8_0(x: &[f32], y: &mut [BlockQ8_0]) {
    let magic = _mm256_set1_ps(MAGIC);
    for (xb, yb) in x.chunks_exact(QK8_0).zip(y.iter_mut()) {
        // SAFETY: `xb` holds 32 floats, read as four groups of 8.
        let v: [__m256; 4] = core::array::from_fn(|i| unsafe { load8(xb.as_ptr().add(8 * i)) });
        let m = v.iter().fold(_mm256_setzero_ps(), |m, &vi| max_abs(vi, m));
        let amax = hmax(m);
        let d = amax / 127.0;
        let id = if amax != 0.0 { 127.0 / amax } else { 0.0 };
        yb.d = f16::from_f32(d);
        let idv = _mm256_set1_ps(id);
        // Multiply, then add: two roundings, as `nearest_int(v * id)`.
        let q = v.map(|vi| _mm256_castps_si256(_mm256_add_ps(_mm256_mul_ps(vi, idv), magic)));
        // SAFETY: `yb.qs` is 32 writable bytes.
        unsafe { _mm256_storeu_si256(yb.qs.as_mut_ptr().cast(), low_bytes(q)) };
    }
}

/// As `scalar::quantize_row_q8_k`.
///
/// # Safety
/// The CPU has AVX2, FMA and F16C.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn q8_k(x: &[f32], y: &mut [BlockQ8K]) {
    let magic = _mm256_set1_ps(MAGIC);
    let mant = _mm256_set1_epi32(0x007f_ffff);
    let half = _mm256_set1_epi32(0x0040_0000);
    let top = _mm256_set1_epi32(127);
    for (xb, yb) in x.chunks_exact(QK_K).zip(y.iter_mut()) {
        let p = xb.as_ptr();
        let mut m = _mm256_setzero_ps();
        for i in 0..QK_K / 8 {
            // SAFETY: `8·i + 8 ≤ 256` floats of `xb`.
            m = max_abs(unsafe { load8(p.add(8 * i)) }, m);
        }
        let amax = hmax(m);
        if amax == 0.0 {
            *yb = BlockQ8K::ZERO;
            continue;
        }
        // The first element whose magnitude is `amax` (the scalar keeps the first strict
        // maximum; NaN compares unequal).
        let am = _mm256_set1_ps(amax);
        let mut max = 0.0f32;
        for i in 0..QK_K / 8 {
            // SAFETY: as above.
            let a = _mm256_andnot_ps(_mm256_set1_ps(-0.0), unsafe { load8(p.add(8 * i)) });
            let hit = _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_EQ_OQ>(a, am));
            if hit != 0 {
                max = xb
                    .get(8 * i + hit.trailing_zeros() as usize)
                    .copied()
                    .unwrap_or(0.0);
                break;
            }
        }
        let iscale = -127.0 / max;
        let s = _mm256_set1_ps(iscale);
        for j in 0..QK_K / 32 {
            let q: [__m256i; 4] = core::array::from_fn(|k| {
                // SAFETY: `32·j + 8·k + 8 ≤ 256` floats of `xb`.
                let v = unsafe { load8(p.add(32 * j + 8 * k)) };
                let t = _mm256_castps_si256(_mm256_add_ps(_mm256_mul_ps(s, v), magic));
                // `nearest_int(..).min(127)`, then the low byte.
                _mm256_min_epi32(_mm256_sub_epi32(_mm256_and_si256(t, mant), half), top)
            });
            // SAFETY: `32·j + 32 ≤ 256` bytes of `yb.qs`.
            unsafe { _mm256_storeu_si256(yb.qs.as_mut_ptr().add(32 * j).cast(), low_bytes(q)) };
        }
        let ones = _mm256_set1_epi8(1);
        for (j, pair) in yb.bsums.chunks_exact_mut(2).enumerate() {
            // SAFETY: `32·j + 32 ≤ 256` bytes of `yb.qs` (8 pairs of groups).
            let q = unsafe { load32(yb.qs.as_ptr().add(32 * j).cast()) };
            // Sums of 2, then of 4 (exact), then of 16 per 128-bit half.
            let s4 = _mm256_madd_epi16(_mm256_maddubs_epi16(ones, q), _mm256_set1_epi16(1));
            let s8 = _mm256_hadd_epi32(s4, s4);
            let s16 = _mm256_hadd_epi32(s8, s8);
            pair[0] = _mm256_extract_epi32::<0>(s16) as i16;
            pair[1] = _mm256_extract_epi32::<4>(s16) as i16;
        }
        yb.d = 1.0 / iscale;
    }
}
