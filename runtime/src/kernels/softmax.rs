//! Attention softmax, as ggml's `soft_max_ext` on AVX2.

use crate::math::ggml_expf;
use crate::quant::scalar::{hsum_float_8, LANES};

/// In-place softmax of one row of (already scaled) attention scores, as ggml computes it:
/// `e = ggml_expf(x − max)` ([`ggml_expf`], not libm's), the normaliser accumulated in f64
/// from f32 partial sums of 8 consecutive values ([`hsum_float_8`]; llama.cpp's row is
/// padded with masked positions, whose exponentials are exactly 0, so a last partial group
/// sums as if zero-filled), then every value multiplied by `(f32)(1/sum)`.
pub fn softmax(x: &mut [f32]) {
    softmax_inline(x)
}

/// [`softmax`], inlined into callers compiled with other target features (FMA).
#[inline(always)]
pub fn softmax_inline(x: &mut [f32]) {
    let max = x.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let mut sum = 0.0f64;
    for chunk in x.chunks_mut(LANES) {
        let mut lanes = [0.0f32; LANES];
        for (l, v) in lanes.iter_mut().zip(chunk.iter_mut()) {
            *v = ggml_expf(*v - max);
            *l = *v;
        }
        sum += hsum_float_8(&lanes) as f64;
    }
    let inv = (1.0 / sum) as f32;
    x.iter_mut().for_each(|v| *v *= inv);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::scalar::test_inputs::Lcg;

    #[test]
    fn matches_ggml_soft_max() {
        // 13 scores; ggml's row had 3 more masked (−inf) positions. Expected bits from
        // ggml_vec_soft_max_f32 then the 1/sum scaling (AVX2 build).
        let mut g = Lcg(31);
        let mut x: [f32; 13] = g.fill(6.0);
        softmax(&mut x);
        let want: [u32; 13] = [
            0x3d8018ff, 0x3d2d573e, 0x3eeb5b48, 0x3e02196d, 0x38146977, 0x3cbce1b7, 0x3daddf85,
            0x39c8df52, 0x3b88e1c8, 0x3d4c2dcb, 0x37cdfa03, 0x3c713f75, 0x3e06671a,
        ];
        assert_eq!(x.map(f32::to_bits), want);
    }

    #[test]
    fn degenerate_rows_do_not_panic() {
        softmax(&mut []);
        let mut one = [3.0f32];
        softmax(&mut one);
        assert_eq!(one, [1.0]);
        let mut nan = [f32::NAN, 1.0];
        softmax(&mut nan);
    }
}
