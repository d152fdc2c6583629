//! Shared loads and reductions. The reductions repeat the scalar reference's float order.

use core::arch::x86_64::*;

/// 32 bytes at `p`.
///
/// # Safety
/// `p..p+32` is readable.
#[inline(always)]
pub unsafe fn load32(p: *const u8) -> __m256i {
    // SAFETY: the caller guarantees 32 readable bytes; `loadu` needs no alignment.
    unsafe { _mm256_loadu_si256(p.cast()) }
}

/// 16 bytes at `p`.
///
/// # Safety
/// `p..p+16` is readable.
#[inline(always)]
pub unsafe fn load16(p: *const u8) -> __m128i {
    // SAFETY: the caller guarantees 16 readable bytes; `loadu` needs no alignment.
    unsafe { _mm_loadu_si128(p.cast()) }
}

/// The little-endian u16 at `p`.
///
/// # Safety
/// `p..p+2` is readable.
#[inline(always)]
pub unsafe fn u16_at(p: *const u8) -> u64 {
    // SAFETY: the caller guarantees 2 readable bytes; the read is unaligned.
    u64::from(unsafe { p.cast::<u16>().read_unaligned() })
}

/// The f16 values at `p + i·stride` for `i < n` (`n ≤ 8`), widened exactly to f32 in lane
/// `i`; lanes `n..8` are 0.
///
/// # Safety
/// `p + i·stride .. p + i·stride + 2` is readable for every `i < n`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn f16x8_strided(p: *const u8, stride: usize, n: usize) -> __m256 {
    let g = |i: usize| {
        if i < n {
            // SAFETY: the caller guarantees these bytes for `i < n`.
            unsafe { u16_at(p.add(i * stride)) }
        } else {
            0
        }
    };
    let lo = g(0) | g(1) << 16 | g(2) << 32 | g(3) << 48;
    let hi = g(4) | g(5) << 16 | g(6) << 32 | g(7) << 48;
    _mm256_cvtph_ps(_mm_set_epi64x(hi as i64, lo as i64))
}

/// Eight f16 values at `p + i·stride`, `i < 8` (as [`f16x8_strided`] with `n = 8`).
///
/// # Safety
/// As [`f16x8_strided`] with `n = 8`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn f16x8_strided_full(p: *const u8, stride: usize) -> __m256 {
    // SAFETY: (the closure's read) the caller guarantees `p + i·stride .. +2`, `i < 8`.
    let g = |i: usize| unsafe { u16_at(p.add(i * stride)) };
    let lo = g(0) | g(1) << 16 | g(2) << 32 | g(3) << 48;
    let hi = g(4) | g(5) << 16 | g(6) << 32 | g(7) << 48;
    _mm256_cvtph_ps(_mm_set_epi64x(hi as i64, lo as i64))
}

/// The four bytes at `p` (one i32) in every lane of a 512-bit register: a block's four
/// activation quants for `vpdpbusd` against sixteen rows.
///
/// # Safety
/// `p .. p + 4` is readable; the CPU has AVX-512F.
#[inline]
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
pub unsafe fn bcast4(p: *const u8) -> __m512i {
    // SAFETY: the caller guarantees 4 readable bytes; the read is unaligned.
    _mm512_set1_epi32(unsafe { p.cast::<i32>().read_unaligned() })
}

/// Hint that the cache line at `p` will be read soon (any address: a prefetch never faults).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub fn prefetch(p: *const u8) {
    _mm_prefetch::<_MM_HINT_T0>(p.cast())
}

/// Prefetches a byte range one cache line at a time, a few lines per [`Ahead::step`].
///
/// Rows are read a group at a time; prefetching the next group's bytes in address order,
/// each line once, keeps more lines in flight than per-row hints at block offsets (which
/// touch most lines several times and in a scattered order).
#[derive(Clone, Copy)]
pub struct Ahead {
    next: usize,
    end: usize,
    per: usize,
}

impl Ahead {
    /// `len` bytes from `start`, spread over `steps` calls of [`Ahead::step`]. Any address
    /// is allowed: a prefetch never faults.
    #[inline(always)]
    pub fn new(start: *const u8, len: usize, steps: usize) -> Ahead {
        let next = start as usize;
        Ahead {
            next,
            end: next.saturating_add(len),
            per: len.div_ceil(64).div_ceil(steps.max(1)),
        }
    }

    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    pub fn step(&mut self) {
        for _ in 0..self.per {
            if self.next < self.end {
                prefetch(self.next as *const u8);
            }
            self.next = self.next.wrapping_add(64);
        }
    }
}

/// One f16 (raw bits) widened exactly to f32.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub fn f16_to_f32(bits: u16) -> f32 {
    _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(i32::from(bits))))
}

/// `a·b + c` rounded once.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub fn fma1(a: f32, b: f32, c: f32) -> f32 {
    _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(a), _mm_set_ss(b), _mm_set_ss(c)))
}

/// `hsum_float_8`: `r_i = x_i + x_{i+4}`, then `(r0 + r2) + (r1 + r3)`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub fn hsum_float_8(x: __m256) -> f32 {
    let r = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps::<1>(x));
    let s = _mm_add_ps(r, _mm_movehl_ps(r, r));
    _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)))
}

/// `hsum_float_8` of four rows at once, `[hsum(a), hsum(b), hsum(c), hsum(d)]`, with the
/// same additions in the same order per row.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub fn hsum_float_8x4(a: __m256, b: __m256, c: __m256, d: __m256) -> __m128 {
    // [ra | rb] and [rc | rd]: r_i = x_i + x_{i+4}.
    let ab = _mm256_add_ps(
        _mm256_permute2f128_ps::<0x20>(a, b),
        _mm256_permute2f128_ps::<0x31>(a, b),
    );
    let cd = _mm256_add_ps(
        _mm256_permute2f128_ps::<0x20>(c, d),
        _mm256_permute2f128_ps::<0x31>(c, d),
    );
    // [ra0+ra2, ra1+ra3, rc0+rc2, rc1+rc3 | the same for b and d].
    let s = _mm256_add_ps(
        _mm256_shuffle_ps::<0b01_00_01_00>(ab, cd),
        _mm256_shuffle_ps::<0b11_10_11_10>(ab, cd),
    );
    // [a, c, a, c | b, d, b, d]: (r0 + r2) + (r1 + r3).
    let t = _mm256_add_ps(
        _mm256_shuffle_ps::<0b10_00_10_00>(s, s),
        _mm256_shuffle_ps::<0b11_01_11_01>(s, s),
    );
    // [a, b, c, d].
    let lo = _mm256_castps256_ps128(t);
    let hi = _mm256_extractf128_ps::<1>(t);
    _mm_unpacklo_ps(lo, hi)
}

/// `reduce_f32x8x4`: `(a0 + a2) + (a1 + a3)` lane by lane, `t_i = x_i + x_{i+4}`, then
/// `(t0 + t1) + (t2 + t3)`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub fn reduce_f32x8x4(a: &[__m256; 4]) -> f32 {
    let x = _mm256_add_ps(_mm256_add_ps(a[0], a[2]), _mm256_add_ps(a[1], a[3]));
    let t = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps::<1>(x));
    let u = _mm_hadd_ps(t, t);
    _mm_cvtss_f32(_mm_add_ss(u, _mm_movehdup_ps(u)))
}
