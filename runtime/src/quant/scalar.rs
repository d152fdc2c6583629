//! Scalar reference kernels. They compute what ggml computes in llama.cpp's CPU backend
//! built for x86-64 with AVX2+FMA+F16C: activations rounded to f16 or quantized to Q8_0
//! (Q8_K for k-quants), exact integer block dot products, and ggml's float accumulation,
//! lane by lane and in the same order, with fused multiply-adds where that build has them.
//! Every native kernel is tested against these.
//!
//! Weight rows are raw bytes from the mapped file (no alignment assumed); activation blocks
//! are typed, since the runtime writes them itself.

use super::blocks::{BlockQ8K, BlockQ8_0, QK8_0, QK_K};
use crate::math::{f16_le, f16_to_f32, f32_to_f16, fmaf};
use half::f16;

/// ggml's `nearest_int`: round half to even through the float mantissa (|x| < 2^22).
#[inline(always)]
pub fn nearest_int(x: f32) -> i32 {
    let v = x + 12_582_912.0;
    (v.to_bits() & 0x007f_ffff) as i32 - 0x0040_0000
}

#[inline(always)]
fn f16_at(b: &[u8], i: usize) -> f32 {
    f16_le(&b[i..i + 2])
}

/// Activations → Q8_0 as ggml's x86 path does: `d = amax/127`, `q = rne(x·127/amax)`.
pub fn quantize_row_q8_0(x: &[f32], y: &mut [BlockQ8_0]) {
    for (xb, yb) in x.chunks_exact(QK8_0).zip(y.iter_mut()) {
        let amax = xb.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        let id = if amax != 0.0 { 127.0 / amax } else { 0.0 };
        yb.d = f32_to_f16(d);
        for (q, &v) in yb.qs.iter_mut().zip(xb) {
            *q = nearest_int(v * id) as i8;
        }
    }
}

/// Activations → Q8_K (`quantize_row_q8_K_ref`): the signed extreme maps to −127.
pub fn quantize_row_q8_k(x: &[f32], y: &mut [BlockQ8K]) {
    for (xb, yb) in x.chunks_exact(QK_K).zip(y.iter_mut()) {
        let mut max = 0.0f32;
        let mut amax = 0.0f32;
        for &v in xb {
            if v.abs() > amax {
                amax = v.abs();
                max = v;
            }
        }
        if amax == 0.0 {
            *yb = BlockQ8K::ZERO;
            continue;
        }
        let iscale = -127.0 / max;
        for (q, &v) in yb.qs.iter_mut().zip(xb) {
            *q = nearest_int(iscale * v).min(127) as i8;
        }
        for (s, g) in yb.bsums.iter_mut().zip(yb.qs.chunks_exact(16)) {
            *s = g.iter().map(|&q| q as i16).sum();
        }
        yb.d = 1.0 / iscale;
    }
}

/// ggml's `hsum_float_8` (x86 k-quant/Q8_0 dots, softmax sums): the high half added to the
/// low half, then `(r0 + r2) + (r1 + r3)`.
#[inline(always)]
pub fn hsum_float_8(x: &[f32; LANES]) -> f32 {
    let r: [f32; 4] = core::array::from_fn(|i| x[i] + x[i + 4]);
    (r[0] + r[2]) + (r[1] + r[3])
}

/// `GGML_F32x8_REDUCE` over ggml's four accumulator registers: `(a0 + a2) + (a1 + a3)` lane
/// by lane, the high half added to the low half, then two `hadd`s: `(t0 + t1) + (t2 + t3)`.
#[inline(always)]
pub fn reduce_f32x8x4(acc: &[[f32; LANES]; 4]) -> f32 {
    let x: [f32; LANES] =
        core::array::from_fn(|l| (acc[0][l] + acc[2][l]) + (acc[1][l] + acc[3][l]));
    let t: [f32; 4] = core::array::from_fn(|i| x[i] + x[i + 4]);
    (t[0] + t[1]) + (t[2] + t[3])
}

/// Lanes of one AVX2 register of f32.
pub const LANES: usize = 8;
/// `GGML_F32_STEP` on AVX2: four registers of eight lanes per loop iteration.
pub const F32_STEP: usize = 32;

/// The main loop of ggml's f32/f16 `vec_dot`s over `n_steps` steps of 32 elements, reduced
/// with [`reduce_f32x8x4`]: element `e` of step `s` (`a(s, e)`, `b(s, e)`: element
/// `32·s + e`) fused into register `e / 8`, lane `e % 8`.
///
/// Computed one register at a time: each lane still takes its products in ggml's order
/// (the lanes are independent), and eight accumulators fit in FPU registers where the 32
/// of all four would live in memory. Without a step every lane is `+0.0`, and so is the sum.
#[inline(always)]
fn steps(
    n_steps: usize,
    a: &impl Fn(usize, usize) -> f32,
    b: &impl Fn(usize, usize) -> f32,
) -> f32 {
    if n_steps == 0 {
        return 0.0;
    }
    let acc = core::array::from_fn(|j| {
        let mut reg = [0.0f32; LANES];
        for s in 0..n_steps {
            for (l, r) in reg.iter_mut().enumerate() {
                let e = j * LANES + l;
                *r = fmaf(a(s, e), b(s, e), *r);
            }
        }
        reg
    });
    reduce_f32x8x4(&acc)
}

/// Index-addressed values (`f(i)`) in the step form that [`ggml_dot_f32`] and
/// [`ggml_dot_f16`] take: `(s, e)` is element `32·s + e`.
#[inline(always)]
pub fn by_index(f: impl Fn(usize) -> f32) -> impl Fn(usize, usize) -> f32 {
    move |s, e| f(F32_STEP * s + e)
}

/// The elements of `x` in step form, through `f`: whole steps are read as arrays, so the
/// main loop checks bounds once per step, not per element.
#[inline(always)]
pub fn by_step<'x, T: Copy>(
    x: &'x [T],
    f: impl Fn(T) -> f32 + 'x,
) -> impl Fn(usize, usize) -> f32 + 'x {
    let (steps, _) = x.as_chunks::<F32_STEP>();
    move |s, e| match steps.get(s) {
        Some(c) => f(c[e]),
        None => f(x[F32_STEP * s + e]),
    }
}

/// `ggml_vec_dot_f32` as llama.cpp's AVX2+FMA build runs it, for `Σ a(i)·b(i)`, `i < n`,
/// element `i` given as `(i / 32, i % 32)` (see [`by_index`], [`by_step`]): element `i` of
/// each 32-element step is fused-multiply-added into register `(i % 32) / 8`, lane `i % 8`;
/// the registers are reduced with [`reduce_f32x8x4`]. The leftover loop
/// `sumf += x[i]*y[i]` was compiled (GCC, `-ffp-contract=fast`) into blocks of 8, then 4,
/// whose rounded products are added in order, and FMAs for the last one to three.
#[inline(always)]
pub fn ggml_dot_f32(
    n: usize,
    a: impl Fn(usize, usize) -> f32,
    b: impl Fn(usize, usize) -> f32,
) -> f32 {
    let (s, rest) = (n / F32_STEP, n % F32_STEP);
    let mut sum = steps(s, &a, &b);
    let mut e = 0;
    while rest - e >= 8 {
        (e..e + 8).for_each(|e| sum += a(s, e) * b(s, e));
        e += 8;
    }
    if rest - e >= 4 {
        (e..e + 4).for_each(|e| sum += a(s, e) * b(s, e));
        e += 4;
    }
    (e..rest).for_each(|e| sum = fmaf(a(s, e), b(s, e), sum));
    sum
}

/// `ggml_vec_dot_f16` (AVX2+F16C+FMA): products of f16 values accumulated like
/// [`ggml_dot_f32`]'s main loop (the products are exact in f32, so fusing changes nothing
/// here); the leftover products summed in f64.
#[inline(always)]
pub fn ggml_dot_f16(
    n: usize,
    a: impl Fn(usize, usize) -> f32,
    b: impl Fn(usize, usize) -> f32,
) -> f32 {
    let (s, rest) = (n / F32_STEP, n % F32_STEP);
    let mut sum = steps(s, &a, &b) as f64;
    (0..rest).for_each(|e| sum += (a(s, e) * b(s, e)) as f64);
    sum as f32
}

#[inline(always)]
fn f32_at(b: &[u8], i: usize) -> f32 {
    f32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]])
}

/// Element `e` (0..32) of a Q4_0 block's quants, offset to −8..=7: low nibbles first.
#[inline(always)]
fn q4_0_at(qs: &[u8], e: usize) -> i32 {
    let b = qs[e % 16];
    (if e < 16 { b & 0x0f } else { b >> 4 }) as i32 - 8
}

/// Q4_0 weights · Q8_0 activations, as ggml's x86 `ggml_vec_dot_q4_0_q8_0` (used for a Q4_0
/// matrix that was not repacked: one whose row count is not a multiple of 8): per block,
/// eight exact integer sums of four consecutive products, each fused into its lane as
/// `d_w·d_x · sum + acc` (`d_w·d_x`, a product of two f16 values, is exact); then
/// [`hsum_float_8`].
pub fn vec_dot_q4_0_q8_0(w: &[u8], x: &[BlockQ8_0]) -> f32 {
    let mut acc = [0.0f32; LANES];
    for (wb, xb) in w.chunks_exact(18).zip(x) {
        let d = f16_at(wb, 0) * f16_to_f32(xb.d);
        let qs = &wb[2..18];
        for (l, a) in acc.iter_mut().enumerate() {
            let sumi: i32 = (4 * l..4 * l + 4)
                .map(|e| q4_0_at(qs, e) * xb.qs[e] as i32)
                .sum();
            *a = fmaf(d, sumi as f32, *a);
        }
    }
    hsum_float_8(&acc)
}

/// Q4_0 weights · Q8_0 activations as ggml's AVX2 CPU_REPACK path computes them
/// (`ggml_gemv_q4_0_8x8_q8_0`; llama.cpp repacks every Q4_0 matrix with a multiple of 8 rows,
/// an output head tied to the embedding included): one accumulator per row,
/// `acc = sum_block · (d_w·d_x) + acc` fused, block after block.
pub fn vec_dot_q4_0_q8_0_repacked(w: &[u8], x: &[BlockQ8_0]) -> f32 {
    let mut acc = 0.0f32;
    for (wb, xb) in w.chunks_exact(18).zip(x) {
        let qs = &wb[2..18];
        let sumi: i32 = (0..QK8_0).map(|e| q4_0_at(qs, e) * xb.qs[e] as i32).sum();
        acc = fmaf(sumi as f32, f16_at(wb, 0) * f16_to_f32(xb.d), acc);
    }
    acc
}

/// Q8_0 weights · Q8_0 activations, as ggml's x86 `ggml_vec_dot_q8_0_q8_0`: the lanes of
/// [`vec_dot_q4_0_q8_0`].
pub fn vec_dot_q8_0_q8_0(w: &[u8], x: &[BlockQ8_0]) -> f32 {
    let mut acc = [0.0f32; LANES];
    for (wb, xb) in w.chunks_exact(34).zip(x) {
        let d = f16_at(wb, 0) * f16_to_f32(xb.d);
        let qs = &wb[2..34];
        for (l, a) in acc.iter_mut().enumerate() {
            let sumi: i32 = (4 * l..4 * l + 4)
                .map(|e| qs[e] as i8 as i32 * xb.qs[e] as i32)
                .sum();
            *a = fmaf(d, sumi as f32, *a);
        }
    }
    hsum_float_8(&acc)
}

/// The 256 signed 6-bit quants of one Q6_K block, in element order.
#[inline(always)]
pub fn q6k_unpack(ql: &[u8], qh: &[u8], out: &mut [i8; QK_K]) {
    for half in 0..2 {
        let (ql, qh, a) = (&ql[half * 64..], &qh[half * 32..], &mut out[half * 128..]);
        for l in 0..32 {
            a[l] = ((ql[l] & 0xf) | ((qh[l] & 3) << 4)) as i8 - 32;
            a[l + 32] = ((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) as i8 - 32;
            a[l + 64] = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) as i8 - 32;
            a[l + 96] = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) as i8 - 32;
        }
    }
}

/// Q6_K weights · Q8_K activations, as ggml's AVX2 `ggml_vec_dot_q6_K_q8_K`. Per block, eight
/// i32 lanes: lane `l` sums, over the eight 32-element chunks `c`, the chunk's 16-group scale
/// times the products of elements `4l..4l+4` with the unsigned quants (0..63); the −32 offset
/// is then taken off per lane as `32·(bsum[2l]·sc[2l] + bsum[2l+1]·sc[2l+1])` (a different
/// split of the elements, so only this grouping gives ggml's lane values). Each lane is fused
/// into its accumulator as `(d_x·d_w)·lane + acc`; then [`hsum_float_8`].
pub fn vec_dot_q6k_q8k(w: &[u8], x: &[BlockQ8K]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let mut a = [0i8; QK_K];
    for (wb, xb) in w.chunks_exact(210).zip(x) {
        q6k_unpack(&wb[0..128], &wb[128..192], &mut a);
        let sc = |g: usize| wb[192 + g] as i8 as i32;
        let d = xb.d * f16_at(wb, 208);
        for (l, s) in acc.iter_mut().enumerate() {
            let mut sumi = 0i32;
            for c in 0..QK_K / 32 {
                let e0 = c * 32 + 4 * l;
                let p: i32 = (e0..e0 + 4)
                    .map(|e| (a[e] as i32 + 32) * xb.qs[e] as i32)
                    .sum();
                sumi += sc(2 * c + l / 4) * p;
            }
            let offset =
                xb.bsums[2 * l] as i32 * sc(2 * l) + xb.bsums[2 * l + 1] as i32 * sc(2 * l + 1);
            sumi -= offset << 5;
            *s = fmaf(d, sumi as f32, *s);
        }
    }
    hsum_float_8(&acc)
}

/// F16 weights · F16 activations (`ggml_vec_dot_f16`).
pub fn vec_dot_f16(w: &[u8], x: &[f16]) -> f32 {
    // The weight row's whole steps, as many as `x` has (as `by_step` reads `x`).
    let ws = &w.as_chunks::<{ 2 * F32_STEP }>().0[..x.len() / F32_STEP];
    let wv = |s: usize, e: usize| match ws.get(s) {
        Some(c) => f16_le(&c[2 * e..]),
        None => f16_at(w, 2 * (F32_STEP * s + e)),
    };
    ggml_dot_f16(x.len(), wv, by_step(x, f16_to_f32))
}

/// F32 weights · F32 activations (`ggml_vec_dot_f32`).
pub fn vec_dot_f32(w: &[u8], x: &[f32]) -> f32 {
    let ws = &w.as_chunks::<{ 4 * F32_STEP }>().0[..x.len() / F32_STEP];
    let wv = |s: usize, e: usize| match ws.get(s) {
        Some(c) => f32_at(c, e),
        None => f32_at(w, F32_STEP * s + e),
    };
    ggml_dot_f32(x.len(), wv, by_step(x, |v| v))
}

/// Dense f32 dot product in `ggml_vec_dot_f32`'s order (attention scores).
#[inline]
pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    ggml_dot_f32(n, by_step(&a[..n], |v| v), by_step(&b[..n], |v| v))
}

/// Dequantize one row of `ty` into f32 (embedding lookups).
pub fn dequantize_row(ty: super::GgmlType, src: &[u8], out: &mut [f32]) {
    use super::GgmlType as T;
    match ty {
        T::F32 => {
            for (o, c) in out.iter_mut().zip(src.chunks_exact(4)) {
                *o = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            }
        }
        T::F16 => {
            for (o, c) in out.iter_mut().zip(src.chunks_exact(2)) {
                *o = f16_le(c);
            }
        }
        T::Q8_0 => {
            for (o, b) in out.chunks_exact_mut(QK8_0).zip(src.chunks_exact(34)) {
                let d = f16_at(b, 0);
                for (v, &q) in o.iter_mut().zip(&b[2..34]) {
                    *v = q as i8 as f32 * d;
                }
            }
        }
        T::Q4_0 => {
            for (o, b) in out.chunks_exact_mut(QK8_0).zip(src.chunks_exact(18)) {
                let d = f16_at(b, 0);
                for j in 0..QK8_0 / 2 {
                    o[j] = ((b[2 + j] & 0x0f) as i32 - 8) as f32 * d;
                    o[j + QK8_0 / 2] = ((b[2 + j] >> 4) as i32 - 8) as f32 * d;
                }
            }
        }
        T::Q6K => {
            let mut a = [0i8; QK_K];
            for (o, b) in out.chunks_exact_mut(QK_K).zip(src.chunks_exact(210)) {
                q6k_unpack(&b[0..128], &b[128..192], &mut a);
                let d = f16_at(b, 208);
                for (i, v) in o.iter_mut().enumerate() {
                    *v = d * (b[192 + i / 16] as i8) as f32 * a[i] as f32;
                }
            }
        }
        T::Q8K => {
            for (o, b) in out.chunks_exact_mut(QK_K).zip(src.chunks_exact(292)) {
                let d = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                for (v, &q) in o.iter_mut().zip(&b[4..4 + QK_K]) {
                    *v = q as i8 as f32 * d;
                }
            }
        }
    }
}

/// Deterministic inputs shared by the kernel tests, generated the same way as the inputs
/// the expected values were computed from (with llama.cpp's AVX2+FMA+F16C ggml build).
#[cfg(test)]
pub(crate) mod test_inputs {
    pub struct Lcg(pub u64);

    impl Lcg {
        pub fn next(&mut self) -> u32 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) as u32
        }
        /// Uniform in [−scale, scale), exactly representable.
        pub fn unit(&mut self, scale: f32) -> f32 {
            ((self.next() >> 7) as f32 / 16_777_216.0 * 2.0 - 1.0) * scale
        }
        pub fn fill<const N: usize>(&mut self, scale: f32) -> [f32; N] {
            core::array::from_fn(|_| self.unit(scale))
        }
        pub fn bytes(&mut self, out: &mut [u8]) {
            out.iter_mut().for_each(|b| *b = self.next() as u8);
        }
        /// A positive normal f16 scale, little-endian.
        pub fn scale16(&mut self) -> [u8; 2] {
            ((0x2000 + self.next() % 0x1000) as u16).to_le_bytes()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::test_inputs::Lcg;

    fn f32_bytes<'b>(x: &[f32], buf: &'b mut [u8; 1024]) -> &'b [u8] {
        for (c, v) in buf.chunks_exact_mut(4).zip(x) {
            c.copy_from_slice(&v.to_le_bytes());
        }
        &buf[..4 * x.len()]
    }

    // Expected bit patterns below were computed by llama.cpp's ggml (AVX2+FMA+F16C build)
    // from the same generated inputs.

    #[test]
    fn vec_dot_f32_matches_ggml_including_leftovers() {
        fn case<const N: usize>(want: u32) {
            let mut g = Lcg(100 + N as u64);
            let a: [f32; N] = g.fill(3.0);
            let b: [f32; N] = g.fill(2.0);
            assert_eq!(
                vec_dot_f32(f32_bytes(&a, &mut [0; 1024]), &b).to_bits(),
                want,
                "n = {N}"
            );
            assert_eq!(dot_f32(&a, &b).to_bits(), want, "n = {N}");
        }
        case::<7>(0xc0ba_cfd2); // leftovers only: 4 added, 3 fused
        case::<16>(0x3deb_0150); // two leftover blocks of 8
        case::<45>(0x3ebb_db54); // one step, then 8 + 4 + 1
        case::<64>(0x4002_23fc);
        case::<256>(0xc106_ff72);
    }

    #[test]
    fn vec_dot_f16_matches_ggml() {
        let mut g = Lcg(7);
        let a: [f32; 69] = g.fill(3.0);
        let b: [f32; 69] = g.fill(2.0);
        let mut w = [0u8; 138];
        for (c, &v) in w.chunks_exact_mut(2).zip(&a) {
            c.copy_from_slice(&f16::from_f32(v).to_le_bytes());
        }
        let x = b.map(f16::from_f32);
        assert_eq!(vec_dot_f16(&w, &x).to_bits(), 0xc1dd_ae7e);
    }

    #[test]
    fn q8_0_and_q4_0_dots_match_ggml() {
        let mut g = Lcg(11);
        let x: [f32; 64] = g.fill(4.0);
        let mut xq = [BlockQ8_0::ZERO; 2];
        quantize_row_q8_0(&x, &mut xq);
        assert_eq!((xq[0].d.to_bits(), xq[1].d.to_bits()), (0x272a, 0x27fb));
        assert_eq!(xq[0].qs[..4], [107, 25, -120, -86]);

        let mut w8 = [0u8; 68];
        for b in w8.chunks_exact_mut(34) {
            b[..2].copy_from_slice(&g.scale16());
            g.bytes(&mut b[2..]);
        }
        assert_eq!(vec_dot_q8_0_q8_0(&w8, &xq).to_bits(), 0x4298_fe5f);

        let mut w4 = [[0u8; 36]; 8];
        for row in w4.iter_mut() {
            for b in row.chunks_exact_mut(18) {
                b[..2].copy_from_slice(&g.scale16());
                g.bytes(&mut b[2..]);
            }
        }
        let plain = [
            0x3f23_58f0,
            0xbf59_fcc4,
            0xbe9c_2771,
            0x411b_d6ef,
            0xc006_fba8,
            0xc06a_1490,
            0xc0cf_935f,
            0x3f33_a24c,
        ];
        let repacked = [
            0x3f23_58ef,
            0xbf59_fcc4,
            0xbe9c_276b,
            0x411b_d6ef,
            0xc006_fba6,
            0xc06a_1491,
            0xc0cf_935f,
            0x3f33_a24a,
        ];
        for (row, w) in w4.iter().enumerate() {
            assert_eq!(vec_dot_q4_0_q8_0(w, &xq).to_bits(), plain[row], "row {row}");
            assert_eq!(
                vec_dot_q4_0_q8_0_repacked(w, &xq).to_bits(),
                repacked[row],
                "row {row}"
            );
        }
    }

    #[test]
    fn q6_k_dot_matches_ggml() {
        let mut g = Lcg(23);
        let x: [f32; 512] = g.fill(5.0);
        let mut xq = [BlockQ8K::ZERO; 2];
        quantize_row_q8_k(&x, &mut xq);
        assert_eq!(
            (xq[0].d.to_bits(), xq[1].d.to_bits()),
            (0x3d21_3b74, 0xbd20_4cca)
        );
        let mut w = [0u8; 420];
        for b in w.chunks_exact_mut(210) {
            g.bytes(&mut b[..208]);
            b[208..].copy_from_slice(&g.scale16());
        }
        assert_eq!(vec_dot_q6k_q8k(&w, &xq).to_bits(), 0x451a_a220);
    }

    #[test]
    fn nearest_int_rounds_half_to_even() {
        assert_eq!(nearest_int(0.5), 0);
        assert_eq!(nearest_int(1.5), 2);
        assert_eq!(nearest_int(-2.5), -2);
        assert_eq!(nearest_int(126.7), 127);
        assert_eq!(nearest_int(-127.0), -127);
    }

    #[test]
    fn q8_0_roundtrip_is_close() {
        let x: [f32; 64] = core::array::from_fn(|i| (i as f32 * 0.37).sin() * 3.0);
        let mut y = [BlockQ8_0::ZERO; 2];
        quantize_row_q8_0(&x, &mut y);
        for (b, xs) in y.iter().zip(x.chunks(32)) {
            let d = b.d.to_f32();
            for (&q, &v) in b.qs.iter().zip(xs) {
                assert!((q as f32 * d - v).abs() <= d * 0.51 + 1e-3);
            }
        }
    }

    #[test]
    fn q8_k_extreme_maps_to_minus_127() {
        let mut x = [0.0f32; 256];
        x[3] = 2.0;
        x[7] = -1.0;
        let mut y = [BlockQ8K::ZERO];
        quantize_row_q8_k(&x, &mut y);
        assert_eq!(y[0].qs[3], -127);
        assert_eq!(y[0].qs[7], 64); // rne(63.5) = 64
        assert_eq!(y[0].bsums[0], -127 + 64);
    }
}
