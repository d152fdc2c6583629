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
}

#[cfg(not(feature = "std"))]
mod imp {
    pub use libm::{cosf, expf, powf, sinf, sqrtf};
}

pub use imp::*;

use half::f16;

/// `a·b + c` with a single rounding: the FMA instruction where the target has one (std's
/// `mul_add`, or `VFMA.F32` on 32-bit Arm, see `vfma` below), else libm's software `fmaf`.
#[cfg(not(mote_arm_vfma))]
#[inline(always)]
pub fn fmaf(a: f32, b: f32, c: f32) -> f32 {
    #[cfg(feature = "std")]
    {
        a.mul_add(b, c)
    }
    #[cfg(not(feature = "std"))]
    {
        libm::fmaf(a, b, c)
    }
}

#[cfg(mote_arm_vfma)]
pub use vfma::fmaf;

/// `fmaf` on the FPU of 32-bit Arm (FPv4-SP/FPv5 on Cortex-M4F/M7/M33, VFPv4 on A-profile),
/// built where `runtime/build.rs` finds `VFMA.F32` (cfg `mote_arm_vfma`). Without it a
/// no_std build calls libm's software `fmaf`, dozens of instructions (more with a
/// single-precision FPU, which runs libm's `f64` steps in software) for what the
/// instruction does in one. Stable Rust has no `fma` intrinsic without std, and std's
/// `mul_add` would be the same instruction, so std builds use this one too: one `fmaf` per
/// target, the one the tests exercise.
///
/// `VFMA.F32` computes `a·b + c` exactly and rounds once, by FPSCR's rounding mode, so with
/// the IEEE modes it equals libm's `fmaf` bit for bit, subnormals, infinities and signed
/// zeros included. Those modes are the reset ones on Cortex-M (FPDSCR: round to nearest
/// even, no flush-to-zero, no default NaN) and Linux's, and every other `f32` addition
/// and multiplication of the crate already runs on the same FPSCR, so this adds no new
/// assumption. The one difference is the payload of a NaN result (Arm returns a NaN
/// operand, quietened, checking the addend first, or the default NaN for `0·∞`; libm's
/// payload follows its own steps): it is a NaN either way, and no kernel looks at payloads.
#[cfg(mote_arm_vfma)]
mod vfma {
    #[cfg(mote_arm_vfma_sreg)]
    pub use self::fmaf_sreg as fmaf;

    #[cfg(not(mote_arm_vfma_sreg))]
    pub use self::fmaf_core_regs as fmaf;

    /// One `VFMA.F32` on `s`-register operands: no moves when the values are already there.
    #[cfg(mote_arm_vfma_sreg)]
    #[inline(always)]
    pub fn fmaf_sreg(a: f32, b: f32, c: f32) -> f32 {
        let mut r = c;
        // SAFETY: VFMA.F32 reads and writes `s` registers only (no memory or stack); the
        // build script found it for this target. It may set FPSCR's cumulative exception
        // flags, like any float operation, so flags are not declared preserved.
        unsafe {
            core::arch::asm!(
                "vfma.f32 {r}, {a}, {b}",
                a = in(sreg) a,
                b = in(sreg) b,
                r = inout(sreg) r,
                options(pure, nomem, nostack),
            );
        }
        r
    }

    /// `VFMA.F32` where rustc takes no `f32` operands in `s` registers (single-precision
    /// FPUs): the values travel in core registers and are moved to `s0`–`s2`, which the
    /// block declares clobbered. The moves (the block's and the compiler's between `s` and
    /// core registers) cost a few instructions, still far fewer than software.
    #[cfg(any(test, not(mote_arm_vfma_sreg)))]
    #[inline(always)]
    pub fn fmaf_core_regs(a: f32, b: f32, c: f32) -> f32 {
        let r: u32;
        // SAFETY: register-only instructions (no memory or stack) that the build script
        // found for this target; the `s` registers they write are declared as clobbers. As
        // above, FPSCR's exception flags may change, so flags are not declared preserved.
        unsafe {
            core::arch::asm!(
                "vmov s0, s1, {a}, {b}",
                "vmov s2, {c}",
                "vfma.f32 s2, s0, s1",
                "vmov {r}, s2",
                a = in(reg) a.to_bits(),
                b = in(reg) b.to_bits(),
                c = in(reg) c.to_bits(),
                r = lateout(reg) r,
                out("s0") _,
                out("s1") _,
                out("s2") _,
                options(pure, nomem, nostack),
            );
        }
        f32::from_bits(r)
    }
}

/// f16 → f32, exact: `VCVTB.F32.F16` on 32-bit Arm with the FP16 extension (see `f16cvt`
/// below), else `half`'s conversion (hardware where it detects some, software otherwise).
/// Every f16 the kernels read goes through here: weight rows, block scales, the KV cache.
#[inline(always)]
pub fn f16_to_f32(h: f16) -> f32 {
    #[cfg(mote_arm_f16cvt)]
    {
        f16cvt::f16_to_f32(h.to_bits())
    }
    #[cfg(not(mote_arm_f16cvt))]
    {
        h.to_f32()
    }
}

/// f32 → f16, rounding to nearest even like `half::f16::from_f32`: `VCVTB.F16.F32` on
/// 32-bit Arm with the FP16 extension, else `half`'s conversion.
#[inline(always)]
pub fn f32_to_f16(x: f32) -> f16 {
    #[cfg(mote_arm_f16cvt)]
    {
        f16::from_bits(f16cvt::f32_to_f16(x))
    }
    #[cfg(not(mote_arm_f16cvt))]
    {
        f16::from_f32(x)
    }
}

/// The little-endian f16 at `b[0..2]` as f32 (scales and values in mapped weights).
#[inline(always)]
pub fn f16_le(b: &[u8]) -> f32 {
    f16_to_f32(f16::from_le_bytes([b[0], b[1]]))
}

/// The half-precision conversions of 32-bit Arm's FPU, built where `runtime/build.rs` finds
/// `VCVTB` (cfg `mote_arm_f16cvt`: FPv4-SP, FPv5, VFPv4). `half` converts in software
/// there (its hardware paths are x86 and AArch64 only): a dozen instructions and a few
/// branches per value, where the FPU takes one.
///
/// Both directions equal `half`'s bit for bit under the modes the crate already assumes
/// (see `vfma`): f16 → f32 is exact, subnormals included, and f32 → f16 rounds by FPSCR's
/// mode, to nearest even. Flush-to-zero would change nothing either: it never applies to
/// the f16 side, and an f32 subnormal rounds to a signed zero in f16 anyway. A NaN keeps
/// its sign and top payload bits and is quietened, as `half` does; FPSCR.DN (off) would
/// make it the default NaN instead, and FPSCR.AHP (off) would select Arm's alternative
/// half-precision format, which has no infinities or NaNs.
#[cfg(mote_arm_f16cvt)]
mod f16cvt {
    #[cfg(mote_arm_f16cvt_sreg)]
    pub use self::f16_to_f32_sreg as f16_to_f32;
    #[cfg(mote_arm_f16cvt_sreg)]
    pub use self::f32_to_f16_sreg as f32_to_f16;

    #[cfg(not(mote_arm_f16cvt_sreg))]
    pub use self::f16_to_f32_core_regs as f16_to_f32;
    #[cfg(not(mote_arm_f16cvt_sreg))]
    pub use self::f32_to_f16_core_regs as f32_to_f16;

    /// `VCVTB.F32.F16` on `s`-register operands: reads the low half of its source.
    #[cfg(mote_arm_f16cvt_sreg)]
    #[inline(always)]
    pub fn f16_to_f32_sreg(h: u16) -> f32 {
        let r: f32;
        // SAFETY: VCVTB reads and writes `s` registers only (no memory or stack); the build
        // script found it for this target. It may set FPSCR's exception flags (a signalling
        // NaN), so flags are not declared preserved.
        unsafe {
            core::arch::asm!(
                "vcvtb.f32.f16 {r}, {h}",
                h = in(sreg) f32::from_bits(h as u32),
                r = lateout(sreg) r,
                options(pure, nomem, nostack),
            );
        }
        r
    }

    /// `VCVTB.F16.F32` on `s`-register operands: writes the low half of its destination
    /// and leaves the high half as it was, which the `u16` drops.
    #[cfg(mote_arm_f16cvt_sreg)]
    #[inline(always)]
    pub fn f32_to_f16_sreg(x: f32) -> u16 {
        let mut r = x;
        // SAFETY: as in `f16_to_f32_sreg`.
        unsafe {
            core::arch::asm!(
                "vcvtb.f16.f32 {r}, {r}",
                r = inout(sreg) r,
                options(pure, nomem, nostack),
            );
        }
        r.to_bits() as u16
    }

    /// `VCVTB.F32.F16` where rustc takes no `f32` operands in `s` registers
    /// (single-precision FPUs): through `s0`, declared clobbered.
    #[cfg(any(test, not(mote_arm_f16cvt_sreg)))]
    #[inline(always)]
    pub fn f16_to_f32_core_regs(h: u16) -> f32 {
        let r: u32;
        // SAFETY: register-only instructions (no memory or stack) that the build script
        // found for this target; `s0` is declared clobbered. FPSCR's exception flags may
        // change, so flags are not declared preserved.
        unsafe {
            core::arch::asm!(
                "vmov s0, {h}",
                "vcvtb.f32.f16 s0, s0",
                "vmov {r}, s0",
                h = in(reg) h as u32,
                r = lateout(reg) r,
                out("s0") _,
                options(pure, nomem, nostack),
            );
        }
        f32::from_bits(r)
    }

    /// `VCVTB.F16.F32` through `s0`, as above.
    #[cfg(any(test, not(mote_arm_f16cvt_sreg)))]
    #[inline(always)]
    pub fn f32_to_f16_core_regs(x: f32) -> u16 {
        let r: u32;
        // SAFETY: as in `f16_to_f32_core_regs`.
        unsafe {
            core::arch::asm!(
                "vmov s0, {x}",
                "vcvtb.f16.f32 s0, s0",
                "vmov {r}, s0",
                x = in(reg) x.to_bits(),
                r = lateout(reg) r,
                out("s0") _,
                options(pure, nomem, nostack),
            );
        }
        r as u16
    }
}

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
    fn vfma_is_built_as_expected() {
        // scripts/test.sh sets MOTE_EXPECT_VFMA for its armv7 runs, so a probe that stops
        // finding VFMA.F32 (which would skip the tests below) fails instead.
        let want = match std::env::var("MOTE_EXPECT_VFMA").as_deref() {
            Ok("1") => true,
            Ok("0") => false,
            _ => return,
        };
        assert_eq!(cfg!(mote_arm_vfma), want, "the mote_arm_vfma cfg");
    }

    /// Every `fmaf` of [`vfma`] equals libm's on `(a, b, c)`: the same bits, or both NaN.
    #[cfg(mote_arm_vfma)]
    fn assert_vfma_is_libm(a: f32, b: f32, c: f32) {
        let want = libm::fmaf(a, b, c);
        let check = |form: &str, x: f32| {
            assert!(
                x.to_bits() == want.to_bits() || (x.is_nan() && want.is_nan()),
                "{form}: fmaf({a:e}, {b:e}, {c:e}) = {x:e} ({:#010x}), libm {want:e} ({:#010x})",
                x.to_bits(),
                want.to_bits()
            );
        };
        check("fmaf", fmaf(a, b, c));
        check("core regs", vfma::fmaf_core_regs(a, b, c));
        #[cfg(mote_arm_vfma_sreg)]
        check("sreg", vfma::fmaf_sreg(a, b, c));
    }

    #[test]
    #[cfg(mote_arm_vfma)]
    fn vfma_rounds_once() {
        let f = f32::from_bits;
        let e = |k: i32| 2f32.powi(k);
        let (a, b) = (1.0 + e(-12), 1.0 + e(-12));
        // a·b = 1 + 2^-11 + 2^-24: the product alone rounds the 2^-24 away, the fused
        // operation keeps it.
        assert_eq!(fmaf(a, b, -(1.0 + e(-11))), e(-24));
        assert_eq!(
            std::hint::black_box(a) * std::hint::black_box(b) - (1.0 + e(-11)),
            0.0
        );
        // MAX·2 overflows alone; fused with −MAX it is MAX.
        assert_eq!(fmaf(f32::MAX, 2.0, -f32::MAX), f32::MAX);
        let tricky = [
            (a, b, -(1.0 + e(-11))),
            (f32::MAX, 2.0, -f32::MAX),
            // A tie broken by the addend's sticky bits, both ways.
            (1.0 + e(-23), 1.0 + e(-1), e(-30)),
            (1.0 + e(-23), 1.0 + e(-1), -e(-30)),
            // Subnormal results, operands and addends; rounding into the normal range.
            (e(-70), e(-70), 0.0),
            (e(-70), e(-70), f(1)),
            (e(-63), -e(-63), f(0x0080_0000)),
            (f(0x0000_0003), 0.5, 0.0),
            (f(0x0000_0003), 0.5, -f(1)),
            (f(0x007f_ffff), 1.0 + e(-23), f(1)),
            (f(0x0040_0001), 3.0, -f(0x0040_0000)),
            (f(1), f(1), -0.0),
            (f(1), -f(1), 0.0),
            // Signed zeros.
            (0.0, -1.0, 0.0),
            (-0.0, 1.0, -0.0),
            (1.0, -1.0, 1.0),
            (0.0, 0.0, -0.0),
            // Infinities, overflow and invalid operations.
            (f32::INFINITY, 2.0, 1.0),
            (f32::INFINITY, -1.0, f32::INFINITY),
            (f32::INFINITY, 0.0, 1.0),
            (1.0, 1.0, f32::NEG_INFINITY),
            (f32::MAX, f32::MAX, -f32::MAX),
            (f32::MAX, -1.5, -f32::MAX),
            // NaN operands, the addend and `0·∞` with a NaN addend included.
            (f32::NAN, 1.0, 1.0),
            (1.0, f32::NAN, 1.0),
            (1.0, 1.0, f32::NAN),
            (0.0, f32::INFINITY, f32::NAN),
            (f(0x7f80_0001), 1.0, 0.0),
            (-f32::NAN, f32::NAN, 2.0),
        ];
        for (a, b, c) in tricky {
            assert_vfma_is_libm(a, b, c);
            assert_vfma_is_libm(-a, b, -c);
        }
    }

    #[test]
    #[cfg(mote_arm_vfma)]
    fn vfma_equals_libm_fmaf() {
        let mut s = 7u64;
        for i in 0..200_000 {
            let (a, b) = (f32::from_bits(lcg(&mut s)), f32::from_bits(lcg(&mut s)));
            let c = match i % 4 {
                // Cancellation, and a near miss of it.
                0 => -(a * b),
                1 => -f32::from_bits((a * b).to_bits() ^ (lcg(&mut s) & 0xff)),
                2 => f32::from_bits(lcg(&mut s)),
                // Small exponents: subnormal and near-subnormal addends and results.
                _ => f32::from_bits(lcg(&mut s) & 0x81ff_ffff),
            };
            assert_vfma_is_libm(a, b, c);
            // Operands scaled into the subnormal range.
            let (a, b) = (
                f32::from_bits(a.to_bits() & 0x9fff_ffff),
                f32::from_bits(b.to_bits() & 0x9fff_ffff),
            );
            assert_vfma_is_libm(a, b, c);
        }
    }

    #[test]
    fn f16cvt_is_built_as_expected() {
        // scripts/test.sh sets MOTE_EXPECT_F16CVT for its armv7 runs, so a probe that stops
        // finding VCVTB (which would test `half` against itself) fails instead.
        let want = match std::env::var("MOTE_EXPECT_F16CVT").as_deref() {
            Ok("1") => true,
            Ok("0") => false,
            _ => return,
        };
        assert_eq!(cfg!(mote_arm_f16cvt), want, "the mote_arm_f16cvt cfg");
    }

    /// Every form of f16 → f32 on `h`, against `half`'s portable conversion: the same bits,
    /// NaN payloads included.
    fn assert_f16_to_f32_is_half(h: u16) {
        let want = f16::from_bits(h).to_f32_const().to_bits();
        let check = |form: &str, x: f32| {
            assert_eq!(x.to_bits(), want, "{form}: f16 {h:#06x}");
        };
        check("f16_to_f32", f16_to_f32(f16::from_bits(h)));
        check("half", f16::from_bits(h).to_f32());
        check("f16_le", f16_le(&h.to_le_bytes()));
        #[cfg(mote_arm_f16cvt)]
        check("core regs", f16cvt::f16_to_f32_core_regs(h));
        #[cfg(mote_arm_f16cvt_sreg)]
        check("sreg", f16cvt::f16_to_f32_sreg(h));
    }

    /// Every form of f32 → f16 on `x`, against `half`'s portable conversion.
    fn assert_f32_to_f16_is_half(x: f32) {
        let want = f16::from_f32_const(x).to_bits();
        let check = |form: &str, h: f16| {
            assert_eq!(
                h.to_bits(),
                want,
                "{form}: f32 {x:e} ({:#010x})",
                x.to_bits()
            );
        };
        check("f32_to_f16", f32_to_f16(x));
        check("half", f16::from_f32(x));
        #[cfg(mote_arm_f16cvt)]
        check("core regs", f16::from_bits(f16cvt::f32_to_f16_core_regs(x)));
        #[cfg(mote_arm_f16cvt_sreg)]
        check("sreg", f16::from_bits(f16cvt::f32_to_f16_sreg(x)));
    }

    #[test]
    fn f16_to_f32_equals_half_on_every_f16() {
        // Zeros, subnormals (KV caches hold them), normals, infinities, every NaN.
        for h in 0..=u16::MAX {
            assert_f16_to_f32_is_half(h);
        }
    }

    /// f32 values around f16's edges, both signs.
    fn f32_edges() -> std::vec::Vec<f32> {
        let f = f32::from_bits;
        let e = |k: i32| 2f32.powi(k);
        let mut v = std::vec![
            0.0,
            f(1),
            f(0x007f_ffff),
            f32::MIN_POSITIVE,
            // The smallest f16 subnormal 2^-24; half of it (a tie, to 0) and just above.
            e(-24),
            e(-25),
            f(e(-25).to_bits() + 1),
            f(e(-25).to_bits() - 1),
            e(-26),
            // Ties between subnormals: 1.5 and 2.5 units round to 2, to even.
            3.0 * e(-25),
            5.0 * e(-25),
            // The largest subnormal, the smallest normal, and the tie between them.
            1023.0 * e(-24),
            e(-14),
            2047.0 * e(-25),
            f((2047.0 * e(-25)).to_bits() - 1),
            // Ties around 1: down to even, up to even, and broken by a sticky bit.
            1.0,
            1.0 + e(-11),
            1.0 + 3.0 * e(-11),
            1.0 + e(-11) + e(-23),
            f((1.0 + e(-11)).to_bits() - 1),
            // The top of the range: 65504, the tie to infinity at 65520, and past it.
            65504.0,
            f(65520f32.to_bits() - 1),
            65520.0,
            65536.0,
            f32::MAX,
            f32::INFINITY,
            // NaNs: quiet, signalling, payloads below and within f16's reach.
            f32::NAN,
            f(0x7f80_0001),
            f(0x7fbf_ffff),
            f(0x7fc0_2000),
            f(0x7fff_ffff),
            f(0x7f80_2000),
        ];
        let neg: std::vec::Vec<f32> = v.iter().map(|x| -x).collect();
        v.extend(neg);
        v
    }

    #[test]
    fn f32_to_f16_equals_half() {
        for x in f32_edges() {
            assert_f32_to_f16_is_half(x);
        }
        let mut s = 11u64;
        for _ in 0..300_000 {
            // Any f32.
            assert_f32_to_f16_is_half(f32::from_bits(lcg(&mut s)));
            // f16's range and just past it (2^-26 to 2^17), where rounding happens.
            let bits = lcg(&mut s);
            let exp = 101 + (bits >> 23) % 43;
            let x = (bits & 0x807f_ffff) | (exp << 23);
            assert_f32_to_f16_is_half(f32::from_bits(x));
            // Ties and near ties at every rounding position (13 bits for normal results, up
            // to 24 for subnormal ones): the bits below it exactly half, or one off.
            let k = 13 + (bits >> 8) % 12;
            let tie = (x & !((1u32 << k) - 1)) | (1 << (k - 1));
            for t in [tie - 1, tie, tie + 1] {
                assert_f32_to_f16_is_half(f32::from_bits(t));
            }
        }
    }

    #[test]
    fn f16_round_trips() {
        // Every finite f16 converts to f32 and back to itself (the KV cache's rounding of
        // `q` and the softmax weights relies on it).
        for h in (0..=u16::MAX).filter(|h| h & 0x7c00 != 0x7c00) {
            assert_eq!(f32_to_f16(f16_to_f32(f16::from_bits(h))).to_bits(), h);
        }
    }

    /// FPSCR's flush-to-zero mode does not change either conversion: f16 values are never
    /// flushed, and an f32 subnormal (flushed or not) becomes a signed zero.
    #[test]
    #[cfg(all(mote_arm_f16cvt, target_os = "linux"))]
    fn f16cvt_ignores_flush_to_zero() {
        const FZ: u32 = 1 << 24;
        let xs = f32_edges();
        let (mut up, mut down) = (std::vec::Vec::new(), std::vec::Vec::new());
        up.reserve(1 << 16);
        down.reserve(xs.len());
        let old: u32;
        // SAFETY: reads FPSCR into a core register.
        unsafe { core::arch::asm!("vmrs {}, fpscr", out(reg) old, options(nomem, nostack)) };
        // SAFETY: sets FZ in this thread's FPSCR; restored below before any other float
        // work. No memory is touched.
        unsafe { core::arch::asm!("vmsr fpscr, {}", in(reg) old | FZ, options(nostack)) };
        for h in 0..=u16::MAX {
            up.push(f16_to_f32(f16::from_bits(std::hint::black_box(h))).to_bits());
        }
        for &x in &xs {
            down.push(f32_to_f16(std::hint::black_box(x)).to_bits());
        }
        // SAFETY: restores FPSCR as read above.
        unsafe { core::arch::asm!("vmsr fpscr, {}", in(reg) old, options(nostack)) };
        for (h, &bits) in (0..=u16::MAX).zip(&up) {
            assert_eq!(bits, f16::from_bits(h).to_f32_const().to_bits(), "{h:#06x}");
        }
        for (&x, &h) in xs.iter().zip(&down) {
            assert_eq!(h, f16::from_f32_const(x).to_bits(), "{x:e}");
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
