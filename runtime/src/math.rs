//! Scalar float functions: `libm` without std, the platform's with it, plus the exact
//! arithmetic of ggml's SIMD `expf` / `silu`, which llama.cpp uses instead of libm's.

#[cfg(feature = "std")]
mod imp {
    #[inline]
    pub fn expf(x: f32) -> f32 {
        x.exp()
    }
    #[inline]
    pub fn sqrtf(x: f32) -> f32 {
        x.sqrt()
    }
    #[inline]
    pub fn powf(x: f32, y: f32) -> f32 {
        x.powf(y)
    }
    #[inline]
    pub fn cosf(x: f32) -> f32 {
        x.cos()
    }
    #[inline]
    pub fn sinf(x: f32) -> f32 {
        x.sin()
    }
    /// `a·b + c` with a single rounding (the FMA instruction where the target has one).
    #[inline(always)]
    pub fn fmaf(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
}

#[cfg(not(feature = "std"))]
mod imp {
    pub use libm::{cosf, expf, fmaf, powf, sinf, sqrtf};
}

pub use imp::*;

/// ggml's vectorised `expf` (`ggml_v_expf`, AVX2+FMA build), one lane at a time. llama.cpp's
/// softmax and SwiGLU use it rather than libm's `expf`; it differs from the correctly rounded
/// value by up to ~1.5 ulp, so matching llama.cpp bit for bit needs the same steps:
/// `x = n·ln2 + b` with `n = round(x/ln2)`, a degree-5 polynomial for `2^b`, and `2^n`
/// built in the exponent bits (with the two-factor scaling near over/underflow).
#[inline(always)]
pub fn ggml_expf(x: f32) -> f32 {
    let f = f32::from_bits;
    let r = f(0x4b40_0000); // 0x1.8p23: adding it rounds to an integer
    let z = fmaf(x, f(0x3fb8_aa3b), r); // x·log2(e) + r
    let n = z - r;
    // b = x − n·ln2, ln2 split in a high and a low part (two fnmadds).
    let b = fmaf(-n, f(0x35bf_be8e), fmaf(-n, f(0x3f31_7200), x));
    let e = z.to_bits() << 23;
    let k = f(e.wrapping_add(1.0f32.to_bits()));
    let u = b * b;
    let j = fmaf(
        fmaf(
            fmaf(f(0x3c07_2010), b, f(0x3d2b_9f17)),
            u,
            fmaf(f(0x3e2a_af33), b, f(0x3eff_fedb)),
        ),
        u,
        f(0x3f7f_fff6) * b,
    );
    // |n| <= 126 (or NaN): 2^n fits one float factor.
    if n.abs() <= 126.0 || n.is_nan() {
        return fmaf(j, k, k);
    }
    let g: u32 = if n <= 0.0 { 0x8200_0000 } else { 0 };
    let s1 = f(g.wrapping_add(0x7f00_0000));
    let s2 = f(e.wrapping_sub(g));
    if n.abs() > 192.0 {
        return s1 * s1; // 0 or +inf
    }
    fmaf(s2, j, s2) * s1
}

/// ggml's vectorised SiLU (`ggml_v_silu`): `x / (1 + ggml_expf(0 − x))`.
#[inline(always)]
pub fn ggml_silu(x: f32) -> f32 {
    x / (1.0 + ggml_expf(0.0 - x))
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    /// A small deterministic generator for test inputs.
    fn lcg(state: &mut u64) -> u32 {
        *state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*state >> 32) as u32
    }

    #[test]
    fn libm_fmaf_equals_hardware_fma() {
        // The no_std build uses libm's software fmaf: it must round exactly like mul_add.
        let mut s = 1u64;
        for _ in 0..200_000 {
            let (a, b) = (f32::from_bits(lcg(&mut s)), f32::from_bits(lcg(&mut s)));
            // c near −a·b exercises cancellation, the hard case for a software fma.
            let c = if lcg(&mut s).is_multiple_of(2) {
                -(a * b)
            } else {
                f32::from_bits(lcg(&mut s))
            };
            let (x, y) = (libm::fmaf(a, b, c), a.mul_add(b, c));
            assert!(
                x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
                "{a:e} {b:e} {c:e}"
            );
        }
    }

    #[test]
    fn ggml_expf_is_close_to_expf() {
        // Up to ~2 ulp apart (subnormal results: a few subnormal steps).
        for i in -2000..=1760 {
            let x = i as f32 * 0.05;
            let (g, e) = (ggml_expf(x), x.exp());
            assert!((g - e).abs() <= e * 4e-7 + 1e-43, "{x}: {g} vs {e}");
        }
        assert_eq!(ggml_expf(f32::NEG_INFINITY), 0.0);
        assert_eq!(ggml_expf(-200.0), 0.0);
        assert_eq!(ggml_expf(0.0), 1.0);
        assert_eq!(ggml_expf(100.0), f32::INFINITY);
        assert!(ggml_expf(f32::NAN).is_nan());
    }

    #[test]
    fn ggml_expf_reproduces_known_ggml_outputs() {
        // Values produced by ggml_v_expf (AVX2 build) for these inputs: where it is not
        // correctly rounded, the result must be ggml's, not libm's.
        for (x, want) in KNOWN {
            assert_eq!(
                ggml_expf(f32::from_bits(x)).to_bits(),
                want,
                "x = {}",
                f32::from_bits(x)
            );
        }
    }

    const KNOWN: [(u32, u32); 10] = [
        (0xc1a0_0024, 0x310d_a1b4), // exp(-20.000069): libm gives 0x310da1b5
        (0xc0a0_0023, 0x3bdc_c90c), // exp(-5.0000167): libm 0x3bdcc90e
        (0xbf80_002e, 0x3ebc_5a6f), // exp(-1.0000055): libm 0x3ebc5a6e
        (0xbdcc_d28b, 0x3f67_a2c6), // exp(-0.100010954): libm 0x3f67a2c7
        (0x3dcc_cd1e, 0x3f8d_7642), // exp(0.100000605): libm 0x3f8d7643
        (0x3f80_000f, 0x402d_f86a), // exp(1.0000018): libm 0x402df869
        (0x40a0_0004, 0x4314_69d6), // exp(5.000002): libm 0x431469d7
        (0x41a0_0005, 0x4de7_58d4), // exp(20.00001): libm 0x4de758d5
        (0xc2af_0000, 0x006c_b2bb), // exp(-87.5), subnormal
        (0xc2ce_0000, 0x0000_0001), // exp(-103), the smallest subnormal
    ];
}
