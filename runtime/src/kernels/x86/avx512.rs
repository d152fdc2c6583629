//! Row kernels with AVX-512 VNNI (`vpdpbusd`, on 256-bit registers through AVX-512VL),
//! bit for bit the AVX2 kernels' (and so the scalar reference's) results.
//!
//! `vpdpbusd` adds four products of unsigned by signed bytes into each i32 lane, exactly
//! (no saturation): one instruction where AVX2 needs `vpmaddubsw` and `vpmaddwd`. Its
//! lanes are the reference's Q8_0 lanes (four consecutive products each).
//!
//! - Q8_0 flips the weights' sign bits (`w + 128`, unsigned) and starts each lane from
//!   `−128·Σy` of its four activations, so every input is exact, −128 included: no
//!   fallback as in the AVX2 kernel.
//! - Q4_0 (repacked order) dots the unsigned nibbles and takes `8·Σy` off, as AVX2 does.

use super::simd::{f16_to_f32, f16x8_strided_full, hsum_float_8x4, load16, load32, Ahead};
use super::Rows;
use crate::quant::BlockQ8_0;
use core::arch::x86_64::*;

/// Bytes per Q4_0 block.
const Q4: usize = 18;
/// Bytes per Q8_0 block.
const Q8: usize = 34;

/// As `SCALAR.q4_0_repacked` (see [`super::q4::repacked`] for the arrangement of eight
/// rows per pass).
///
/// # Safety
/// The CPU has AVX2, FMA, F16C, AVX-512F/BW/VL and AVX-512 VNNI.
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
pub unsafe fn q4_0_repacked(w: &[u8], x: &[BlockQ8_0], out: &mut [f32]) {
    let rows = Rows::new(w, out.len());
    let nb = (rows.row_bytes / Q4).min(x.len());
    let full = out.len() - out.len() % 8;
    if nb > CH {
        // SAFETY: AVX2, FMA and F16C are present.
        return unsafe { super::q4::repacked(w, x, out) };
    }
    let mut corr = [0i32; CH];
    let mut xd = [0.0f32; CH];
    for ((c, d), xb) in corr.iter_mut().zip(xd.iter_mut()).zip(&x[..nb]) {
        *c = 8 * xb.qs.iter().map(|&q| i32::from(q)).sum::<i32>();
        *d = f16_to_f32(xb.d.to_bits());
    }
    let wide = full - full % 16;
    for (g, o) in out[..wide].chunks_exact_mut(16).enumerate() {
        // SAFETY: rows `16g..16g+16` exist and hold `nb ≤ x.len()` blocks.
        let acc = unsafe { q4_x16(rows, 16 * g, x, &corr[..nb], &xd[..nb]) };
        // SAFETY: `o` is 16 writable floats.
        unsafe { _mm512_storeu_ps(o.as_mut_ptr(), acc) };
    }
    if wide < full {
        // SAFETY: rows `wide..wide+8` exist and hold `nb ≤ x.len()` blocks.
        let acc = unsafe { q4_x8(rows, wide, x, &corr[..nb], &xd[..nb]) };
        // SAFETY: `out[wide..full]` is 8 writable floats.
        unsafe { _mm256_storeu_ps(out[wide..full].as_mut_ptr(), acc) };
    }
    if full < out.len() {
        let tail = &w[full * rows.row_bytes..out.len() * rows.row_bytes];
        // SAFETY: AVX2, FMA and F16C are present.
        unsafe { super::q4::repacked(tail, x, &mut out[full..]) };
    }
}

/// Blocks per row up to which [`q4_0_repacked`] runs here (longer rows go to AVX2).
const CH: usize = 512;

/// Rows `r..r+8` (lane `i` = row `r + i`) over blocks `0..corr.len()`; `corr[b]` is `8·Σy`
/// and `xd[b]` is `d_x` of block `b`.
///
/// # Safety
/// As [`q4_0_repacked`]; rows `r..r+8` each hold `corr.len() ≤ x.len()` blocks;
/// `xd.len() == corr.len()`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
unsafe fn q4_x8(rows: Rows, r: usize, x: &[BlockQ8_0], corr: &[i32], xd: &[f32]) -> __m256 {
    let low = _mm256_set1_epi8(0x0f);
    let zero = _mm256_setzero_si256();
    let p0 = rows.row(r);
    let stride = rows.row_bytes;
    let p: [*const u8; 4] = core::array::from_fn(|i| rows.row(r + i));
    let q: [*const u8; 4] = core::array::from_fn(|i| rows.row(r + 4 + i));
    let nb = corr.len();
    // The next group's bytes, front to back.
    let mut ahead = Ahead::new(rows.row(r + 8), 7 * stride + nb * Q4, nb);
    let xp = x.as_ptr().cast::<u8>();
    let mut acc = _mm256_setzero_ps();
    for (b, (&c, &d)) in corr.iter().zip(xd).enumerate() {
        let o = b * Q4;
        ahead.step();
        // SAFETY: block `b` of `x`: its 32 quants, read as two halves.
        let (ylo, yhi) = unsafe {
            (
                _mm256_broadcastsi128_si256(load16(xp.add(b * Q8 + 2))),
                _mm256_broadcastsi128_si256(load16(xp.add(b * Q8 + 18))),
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
            _mm256_dpbusd_epi32(_mm256_dpbusd_epi32(zero, lo, ylo), hi, yhi)
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

/// As [`q4_x8`] for rows `r..r+16` on 512-bit registers: register `i` holds rows `i`,
/// `i + 4`, `i + 8` and `i + 12` (one per 128-bit lane), so the same in-lane transpose
/// leaves lane `i` = row `r + i`. Half the instructions of two eight-row passes.
///
/// # Safety
/// As [`q4_x8`], for rows `r..r+16`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
unsafe fn q4_x16(rows: Rows, r: usize, x: &[BlockQ8_0], corr: &[i32], xd: &[f32]) -> __m512 {
    let low = _mm512_set1_epi8(0x0f);
    let zero = _mm512_setzero_si512();
    let stride = rows.row_bytes;
    let p: [[*const u8; 4]; 4] =
        core::array::from_fn(|i| core::array::from_fn(|l| rows.row(r + i + 4 * l)));
    let nb = corr.len();
    // The next group's bytes, front to back.
    let mut ahead = Ahead::new(rows.row(r + 16), 15 * stride + nb * Q4, nb);
    let xp = x.as_ptr().cast::<u8>();
    let mut acc = _mm512_setzero_ps();
    for (b, (&c, &d)) in corr.iter().zip(xd).enumerate() {
        let o = b * Q4;
        ahead.step();
        // SAFETY: block `b` of `x`: its 32 quants, read as two halves.
        let (ylo, yhi) = unsafe {
            (
                _mm512_broadcast_i32x4(load16(xp.add(b * Q8 + 2))),
                _mm512_broadcast_i32x4(load16(xp.add(b * Q8 + 18))),
            )
        };
        let m: [__m512i; 4] = core::array::from_fn(|i| {
            // SAFETY: block `b` of rows `r + i + 4l`, `l < 4`: 16 quant bytes each.
            let v = unsafe {
                let v = _mm512_castsi128_si512(load16(p[i][0].add(o + 2)));
                let v = _mm512_inserti32x4::<1>(v, load16(p[i][1].add(o + 2)));
                let v = _mm512_inserti32x4::<2>(v, load16(p[i][2].add(o + 2)));
                _mm512_inserti32x4::<3>(v, load16(p[i][3].add(o + 2)))
            };
            let lo = _mm512_and_si512(v, low);
            let hi = _mm512_and_si512(_mm512_srli_epi16::<4>(v), low);
            _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(zero, lo, ylo), hi, yhi)
        });
        let t0 = _mm512_add_epi32(
            _mm512_unpacklo_epi32(m[0], m[1]),
            _mm512_unpackhi_epi32(m[0], m[1]),
        );
        let t1 = _mm512_add_epi32(
            _mm512_unpacklo_epi32(m[2], m[3]),
            _mm512_unpackhi_epi32(m[2], m[3]),
        );
        let sum = _mm512_add_epi32(_mm512_unpacklo_epi64(t0, t1), _mm512_unpackhi_epi64(t0, t1));
        let sum = _mm512_sub_epi32(sum, _mm512_set1_epi32(c));
        // SAFETY: block `b` of rows `r..r+16`, `stride` bytes apart.
        let wd = unsafe { f16x16_strided(rows.row(r).add(o), stride) };
        let dv = _mm512_mul_ps(wd, _mm512_set1_ps(d));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), dv, acc);
    }
    acc
}

/// Sixteen f16 values `stride` bytes apart from `p`, as f32.
///
/// # Safety
/// `p + i·stride .. +2` is readable for `i < 16`; the CPU has AVX-512F and F16C.
#[inline]
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
unsafe fn f16x16_strided(p: *const u8, stride: usize) -> __m512 {
    // SAFETY: (the closure's read) the caller guarantees `p + i·stride .. +2`, `i < 16`.
    let g = |i: usize| unsafe { super::simd::u16_at(p.add(i * stride)) };
    let q = |i: usize| (g(i) | g(i + 1) << 16 | g(i + 2) << 32 | g(i + 3) << 48) as i64;
    _mm512_cvtph_ps(_mm256_set_epi64x(q(12), q(8), q(4), q(0)))
}

/// Rows per Q8_0 group.
const R: usize = 8;
/// Blocks per row up to which the activation scales are converted once per call.
const XD_CAP: usize = 256;

/// As `SCALAR.q8_0`, for every input (activations and weights of −128 included).
///
/// # Safety
/// The CPU has AVX2, FMA, F16C, AVX-512F/BW/VL and AVX-512 VNNI.
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
pub unsafe fn q8_0(w: &[u8], x: &[BlockQ8_0], out: &mut [f32]) {
    let rows = Rows::new(w, out.len());
    let nb = (rows.row_bytes / Q8).min(x.len());
    let mut xd = [0.0f32; XD_CAP];
    let xd = if nb <= XD_CAP {
        for (d, xb) in xd.iter_mut().zip(&x[..nb]) {
            *d = f16_to_f32(xb.d.to_bits());
        }
        Some(&xd[..nb])
    } else {
        None
    };
    let n = out.len();
    let mut r = 0;
    while r < n {
        let k = (n - r).min(R);
        let p: [*const u8; R] = core::array::from_fn(|i| rows.row(r + i.min(k - 1)));
        let ahead = Ahead::new(rows.row(r + R), R * rows.row_bytes, nb);
        // SAFETY: rows `r..r+k` exist and hold `nb ≤ x.len()` blocks (rows past `k` repeat
        // row `r + k − 1`).
        let acc = unsafe { q8_dot(p, x, xd, nb, ahead) };
        let mut s8 = [0.0f32; R];
        for (h, a) in s8.chunks_exact_mut(4).zip(acc.chunks_exact(4)) {
            // SAFETY: `h` is 4 writable floats.
            unsafe { _mm_storeu_ps(h.as_mut_ptr(), hsum_float_8x4(a[0], a[1], a[2], a[3])) };
        }
        // A whole group as one fixed-size copy (a variable one is a library call).
        match <&mut [f32; R]>::try_from(&mut out[r..r + k]) {
            Ok(o) => *o = s8,
            Err(_) => out[r..r + k].copy_from_slice(&s8[..k]),
        }
        r += k;
    }
}

/// The lane accumulators of the eight rows at `p`. `xd`, if given, holds the activation
/// scales as f32; `ahead` is stepped once per block.
///
/// # Safety
/// As [`q8_0`]; each `p[i]` is followed by `nb` readable blocks; `nb ≤ x.len()`; `xd` has
/// `nb` entries if given.
#[inline]
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
unsafe fn q8_dot(
    p: [*const u8; R],
    x: &[BlockQ8_0],
    xd: Option<&[f32]>,
    nb: usize,
    mut ahead: Ahead,
) -> [__m256; R] {
    let xp = x.as_ptr().cast::<u8>();
    let mut acc = [_mm256_setzero_ps(); R];
    let full = nb - nb % 8;
    for b0 in (0..full).step_by(8) {
        // Scales of eight blocks at once: `d_w·d_x` (exact, a product of two f16).
        let mut dd = [[0.0f32; 8]; R];
        // SAFETY: blocks `b0..b0+8` of `x` and of every row are readable.
        unsafe {
            let xd = match xd {
                Some(xd) => _mm256_loadu_ps(xd.as_ptr().add(b0)),
                None => f16x8_strided_full(xp.add(b0 * Q8), Q8),
            };
            for (d, &pr) in dd.iter_mut().zip(&p) {
                let wd = f16x8_strided_full(pr.add(b0 * Q8), Q8);
                _mm256_storeu_ps(d.as_mut_ptr(), _mm256_mul_ps(wd, xd));
            }
        }
        for j in 0..8 {
            ahead.step();
            // SAFETY: block `b0 + j < nb` of `x` and of every row.
            unsafe { q8_block(p, xp, b0 + j, &dd, j, &mut acc) };
        }
    }
    for b in full..nb {
        ahead.step();
        // SAFETY: block `b < nb` of `x` and of every row: the scales.
        let dd = unsafe {
            let xd = match xd {
                Some(xd) => *xd.as_ptr().add(b),
                None => f16_to_f32(super::simd::u16_at(xp.add(b * Q8)) as u16),
            };
            core::array::from_fn(|i| {
                [f16_to_f32(super::simd::u16_at(p[i].add(b * Q8)) as u16) * xd; 8]
            })
        };
        // SAFETY: as above.
        unsafe { q8_block(p, xp, b, &dd, 0, &mut acc) };
    }
    acc
}

/// Block `b` of the eight rows at `p` with scales `dd[i][j]` (`d_w·d_x` of row `i`) into
/// `acc`.
///
/// # Safety
/// As [`q8_0`]; block `b` of `xp` (Q8_0 activations) and of each row is readable.
#[inline]
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
unsafe fn q8_block(
    p: [*const u8; R],
    xp: *const u8,
    b: usize,
    dd: &[[f32; 8]; R],
    j: usize,
    acc: &mut [__m256; R],
) {
    let flip = _mm256_set1_epi8(i8::MIN);
    let o = b * Q8 + 2;
    // SAFETY: block `b` of `x`: its 32 quants.
    let y = unsafe { load32(xp.add(o)) };
    // −128·(sum of each four activations): the lanes' start, so that the unsigned
    // `w + 128` leaves `Σ w·y`.
    let start = _mm256_sub_epi32(
        _mm256_setzero_si256(),
        _mm256_dpbusd_epi32(_mm256_setzero_si256(), flip, y),
    );
    for i in 0..R {
        // SAFETY: block `b` of row `i`: its 32 quants.
        let q = unsafe { load32(p[i].add(o)) };
        let s = _mm256_dpbusd_epi32(start, _mm256_xor_si256(q, flip), y);
        let d = _mm256_broadcast_ss(&dd[i][j & 7]);
        acc[i] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), acc[i]);
    }
}
