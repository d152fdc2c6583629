//! Rotary position embedding, NORM convention (llama: adjacent pairs).

use crate::math::{cosf, fmaf, powf, sinf};

/// Rotate adjacent pairs `(x[2i], x[2i+1])` of each head's first `rope_dims` values by
/// `pos · base^(−2i/rope_dims)`, as ggml's `rope` (no scaling, `ext_factor` 0).
///
/// The angle advances by repeated f32 multiplication from `pos`, as ggml's rope cache does.
/// The rotation is what llama.cpp's build of `rotate_pairs` computes for llama's in-place
/// rope (the compiler contracted it into FMAs):
/// `x0' = x0·cos − round(x1·sin)` and `x1' = sin·x0 + round(cos·x1)`, each with one rounding
/// at the end.
pub fn rope(x: &mut [f32], head_dim: usize, rope_dims: usize, pos: usize, base: f32) {
    if head_dim == 0 {
        return;
    }
    let theta_scale = powf(base, -2.0 / rope_dims as f32);
    let mut theta = pos as f32;
    for i in (0..rope_dims.min(head_dim) / 2).map(|p| 2 * p) {
        let (c, s) = (cosf(theta), sinf(theta));
        for head in x.chunks_exact_mut(head_dim) {
            let (x0, x1) = (head[i], head[i + 1]);
            head[i] = fmaf(x0, c, -(x1 * s));
            head[i + 1] = fmaf(s, x0, c * x1);
        }
        theta *= theta_scale;
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    #[test]
    fn matches_llama_cpp_rope() {
        // Head 0 of ref-tiny-f16's layer-0 query at position 2 (head_dim 16, base 10000),
        // before and after llama.cpp's rope; 4 of the 8 pairs differ if the rotation is not
        // fused the way llama.cpp's build fuses it. (cos/sin/pow come from the platform libm,
        // as in llama.cpp, hence `std`.)
        let x: [u32; 16] = [
            0x406d9a2e, 0x3ec906f8, 0xc03dcfb6, 0xbfb7ddae, 0x400fb1f2, 0xc057f193, 0x3f5f63fc,
            0x3e44107a, 0xbf201690, 0xbd7987e8, 0x3fa8285c, 0x4040b1db, 0xbf82e191, 0x3d827828,
            0xbf4291f0, 0x3eb0d91c,
        ];
        let want: [u32; 16] = [
            0xbff37408, 0x404d9812, 0xbfc581e2, 0xc03a5a92, 0x4037bb6e, 0xc0371763, 0x3f5bd890,
            0x3e7c2607, 0xbf1fbe86, 0xbd965a57, 0x3fa5b786, 0x404138ff, 0xbf82e5ac, 0x3d7c8fd3,
            0xbf42a03f, 0x3eb09a19,
        ];
        let mut v = x.map(f32::from_bits);
        rope(&mut v, 16, 16, 2, 10000.0);
        assert_eq!(v.map(f32::to_bits), want);
    }

    #[test]
    fn partial_rotation_and_odd_sizes_do_not_panic() {
        let mut v = [1.0f32; 12];
        rope(&mut v, 6, 4, 3, 10000.0); // last pair of each head untouched
        assert_eq!(v[4..6], [1.0, 1.0]);
        rope(&mut v, 5, 9, 1, 10000.0);
        rope(&mut v, 12, 0, 1, 10000.0);
        rope(&mut v, 0, 2, 1, 10000.0);
    }
}
