//! SwiGLU, as ggml's `swiglu` on AVX2.

use crate::math::{expf, ggml_silu};

/// `gate = silu(gate) · up`, as `ggml_vec_swiglu_f32`: blocks of 8 use ggml's vectorised
/// SiLU ([`ggml_silu`], built on its own `expf`), the remaining `len % 8` values the scalar
/// `x / (1 + expf(−x))` with libm's `expf`; the product with `up` is rounded separately.
pub fn silu_mul(gate: &mut [f32], up: &[f32]) {
    silu_mul_inline(gate, up)
}

/// [`silu_mul`], inlined into callers compiled with other target features (FMA).
#[inline(always)]
pub fn silu_mul_inline(gate: &mut [f32], up: &[f32]) {
    let n = gate.len().min(up.len());
    let vec_end = n - n % 8;
    for (i, (g, &u)) in gate.iter_mut().zip(up).enumerate() {
        let s = if i < vec_end {
            ggml_silu(*g)
        } else {
            *g / (1.0 + expf(-*g))
        };
        *g = s * u;
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::quant::scalar::test_inputs::Lcg;

    #[test]
    fn matches_ggml_swiglu() {
        // 19 values: 16 through ggml's vectorised SiLU, 3 through the scalar tail (whose
        // libm expf is the platform's, hence `std`). Expected bits from ggml_vec_swiglu_f32.
        let mut g = Lcg(41);
        let mut gate: [f32; 19] = g.fill(8.0);
        let up: [f32; 19] = g.fill(2.0);
        silu_mul(&mut gate, &up);
        let want: [u32; 19] = [
            0xbdb16c73, 0xc0db7b22, 0x3e8e32d0, 0x4001cbd6, 0xbe160d76, 0x39f951fe, 0xbf220943,
            0x3ecb5eac, 0xbc9f4abd, 0xbc21fedc, 0x3d39714e, 0xbec0a9fd, 0x3d49f9e4, 0xbc402d7e,
            0x3e397c13, 0xc0ea1407, 0xc11613b3, 0x3ea1416b, 0xbb35ad3f,
        ];
        assert_eq!(gate.map(f32::to_bits), want);
    }
}
