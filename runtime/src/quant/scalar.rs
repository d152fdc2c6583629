//! Scalar reference kernels. They compute what ggml computes: activations quantized to
//! Q8_0 (or Q8_K for k-quants), then exact integer block dot products scaled by `d_w·d_x`.
//! Every native kernel is tested against these.
//!
//! Weight rows are raw bytes from the mapped file (no alignment assumed); activation blocks
//! are typed, since the runtime writes them itself.

use super::blocks::{BlockQ8K, BlockQ8_0, QK8_0, QK_K};
use half::f16;

/// ggml's `nearest_int`: round half to even through the float mantissa (|x| < 2^22).
#[inline(always)]
pub fn nearest_int(x: f32) -> i32 {
    let v = x + 12_582_912.0;
    (v.to_bits() & 0x007f_ffff) as i32 - 0x0040_0000
}

#[inline(always)]
fn f16_at(b: &[u8], i: usize) -> f32 {
    f16::from_le_bytes([b[i], b[i + 1]]).to_f32()
}

/// Activations → Q8_0 as ggml's x86 path does: `d = amax/127`, `q = rne(x·127/amax)`.
pub fn quantize_row_q8_0(x: &[f32], y: &mut [BlockQ8_0]) {
    for (xb, yb) in x.chunks_exact(QK8_0).zip(y.iter_mut()) {
        let amax = xb.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        let id = if amax != 0.0 { 127.0 / amax } else { 0.0 };
        yb.d = f16::from_f32(d);
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

/// Q4_0 weights · Q8_0 activations.
pub fn vec_dot_q4_0_q8_0(w: &[u8], x: &[BlockQ8_0]) -> f32 {
    let mut sum = 0.0f32;
    for (wb, xb) in w.chunks_exact(18).zip(x) {
        let qs = &wb[2..18];
        let mut sumi = 0i32;
        for j in 0..QK8_0 / 2 {
            let v0 = (qs[j] & 0x0f) as i32 - 8;
            let v1 = (qs[j] >> 4) as i32 - 8;
            sumi += v0 * xb.qs[j] as i32 + v1 * xb.qs[j + QK8_0 / 2] as i32;
        }
        sum += sumi as f32 * f16_at(wb, 0) * xb.d.to_f32();
    }
    sum
}

/// Q8_0 weights · Q8_0 activations.
pub fn vec_dot_q8_0_q8_0(w: &[u8], x: &[BlockQ8_0]) -> f32 {
    let mut sum = 0.0f32;
    for (wb, xb) in w.chunks_exact(34).zip(x) {
        let sumi: i32 = wb[2..34].iter().zip(&xb.qs).map(|(&a, &b)| a as i8 as i32 * b as i32).sum();
        sum += sumi as f32 * f16_at(wb, 0) * xb.d.to_f32();
    }
    sum
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

/// Q6_K weights · Q8_K activations, with ggml's 8-lane float accumulation.
pub fn vec_dot_q6k_q8k(w: &[u8], x: &[BlockQ8K]) -> f32 {
    let mut sums = [0.0f32; 8];
    let mut a = [0i8; QK_K];
    for (wb, xb) in w.chunks_exact(210).zip(x) {
        q6k_unpack(&wb[0..128], &wb[128..192], &mut a);
        let scales = &wb[192..208];
        let mut aux32 = [0i32; 8];
        for (j, &sc) in scales.iter().enumerate() {
            let scale = sc as i8 as i32;
            for half in 0..2 {
                let o = j * 16 + half * 8;
                for l in 0..8 {
                    aux32[l] += scale * (xb.qs[o + l] as i32 * a[o + l] as i32);
                }
            }
        }
        let d = f16_at(wb, 208) * xb.d;
        for l in 0..8 {
            sums[l] += d * aux32[l] as f32;
        }
    }
    sums.iter().sum()
}

/// F16 weights · F16 activations, accumulated in f32.
pub fn vec_dot_f16(w: &[u8], x: &[f16]) -> f32 {
    let mut acc = [0.0f32; 8];
    let mut chunks = w.chunks_exact(16).zip(x.chunks_exact(8));
    for (wc, xc) in &mut chunks {
        for l in 0..8 {
            acc[l] += f16_at(wc, 2 * l) * xc[l].to_f32();
        }
    }
    let done = x.len() / 8 * 8;
    let mut tail = 0.0f32;
    for i in done..x.len() {
        tail += f16_at(w, 2 * i) * x[i].to_f32();
    }
    acc.iter().sum::<f32>() + tail
}

/// F32 weights · F32 activations.
pub fn vec_dot_f32(w: &[u8], x: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let mut chunks = w.chunks_exact(32).zip(x.chunks_exact(8));
    for (wc, xc) in &mut chunks {
        for l in 0..8 {
            let b = [wc[4 * l], wc[4 * l + 1], wc[4 * l + 2], wc[4 * l + 3]];
            acc[l] += f32::from_le_bytes(b) * xc[l];
        }
    }
    let done = x.len() / 8 * 8;
    let mut tail = 0.0f32;
    for i in done..x.len() {
        let b = [w[4 * i], w[4 * i + 1], w[4 * i + 2], w[4 * i + 3]];
        tail += f32::from_le_bytes(b) * x[i];
    }
    acc.iter().sum::<f32>() + tail
}

/// Dense f32 dot product (attention scores and values).
#[inline]
pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let mut ca = a.chunks_exact(8);
    let mut cb = b.chunks_exact(8);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
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
                *o = f16::from_le_bytes([c[0], c[1]]).to_f32();
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

#[cfg(test)]
mod tests {
    use super::*;

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
