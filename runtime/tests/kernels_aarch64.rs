//! The aarch64 kernel tables (NEON, NEON + dotprod) against the scalar reference, bit for bit.
//!
//! Compiled for `target_arch = "aarch64"` only; on any other host this file is empty. CI
//! cross-runs it under QEMU user mode (`.cargo/config.toml` sets the linker and a
//! `qemu-aarch64 -cpu cortex-a72` runner), twice:
//!
//! ```text
//! # Cortex-A72 (Raspberry Pi 4): no dotprod, so the NeonDotprod table must be unavailable.
//! MOTE_EXPECT_DOTPROD=0 cargo test -p mote-runtime --target aarch64-unknown-linux-gnu
//! # Every feature QEMU emulates: the NeonDotprod table must exist, and is tested too.
//! MOTE_EXPECT_DOTPROD=1 \
//! CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu max" \
//!     cargo test -p mote-runtime --target aarch64-unknown-linux-gnu
//! ```
//!
//! `MOTE_EXPECT_DOTPROD` makes a missing (or unexpected) dotprod table a failure rather than
//! a silently skipped half of the tests.
#![cfg(target_arch = "aarch64")]

mod common;
use common::Rng as Gen;

use half::f16;
use mote_runtime::kernels::{Backend, Kernels};
use mote_runtime::quant::{BlockQ8K, BlockQ8_0, QK8_0, QK_K};
use proptest::prelude::*;

const MAX_ROWS: usize = 13;

fn scalar() -> &'static Kernels {
    Kernels::get(Backend::Scalar).unwrap()
}

/// The native tables this CPU runs.
fn natives() -> Vec<&'static Kernels> {
    let neon = Kernels::get(Backend::Neon).expect("aarch64 always has the NEON table");
    let mut v = vec![neon];
    v.extend(Kernels::get(Backend::NeonDotprod));
    v
}

#[test]
fn dotprod_table_follows_the_cpu() {
    let detected = std::arch::is_aarch64_feature_detected!("dotprod");
    let table = Kernels::get(Backend::NeonDotprod);
    assert_eq!(
        table.is_some(),
        detected,
        "NeonDotprod offered = {}, CPU has dotprod = {detected}",
        table.is_some()
    );
    match std::env::var("MOTE_EXPECT_DOTPROD").as_deref() {
        Ok("1") => assert!(
            detected,
            "MOTE_EXPECT_DOTPROD=1 but this CPU has no dotprod (run QEMU with -cpu max)"
        ),
        Ok("0") => assert!(
            !detected,
            "MOTE_EXPECT_DOTPROD=0 but this CPU has dotprod (run QEMU with -cpu cortex-a72)"
        ),
        _ => {}
    }
    assert_eq!(Kernels::get(Backend::Neon).unwrap().backend, Backend::Neon);
    let best = Kernels::best().backend;
    let want = if detected {
        Backend::NeonDotprod
    } else {
        Backend::Neon
    };
    assert_eq!(best, want);
    assert_eq!(
        Kernels::select(Some("neon")).unwrap().backend,
        Backend::Neon
    );
    assert_eq!(
        Kernels::select(Some("neon-dotprod")).is_ok(),
        detected,
        "MOTE_KERNELS=neon-dotprod must be refused exactly when the CPU lacks dotprod"
    );
}

// ---------------------------------------------------------------------------------------
// Inputs: a seeded generator that favours extreme values
// ---------------------------------------------------------------------------------------

impl Gen {
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
    fn bool(&mut self) -> bool {
        self.next() & 1 == 1
    }

    /// A finite f16 scale: usually an ordinary normal value, often an odd one (zero, either
    /// sign, subnormal, the smallest and largest normals). With `specials`, also ±inf, NaN.
    fn scale16(&mut self, specials: bool) -> u16 {
        const ODD: [u16; 10] = [
            0x0000, 0x8000, 0x0001, 0x83ff, 0x0400, 0x7bff, 0xfbff, 0x3c00, 0xbc00, 0x1234,
        ];
        const SPECIAL: [u16; 4] = [0x7c00, 0xfc00, 0x7e00, 0x7d55];
        match self.below(8) {
            0 | 1 => ODD[self.below(ODD.len() as u64) as usize],
            2 if specials => SPECIAL[self.below(4) as usize],
            _ => {
                let sign = if self.bool() { 0x8000 } else { 0 };
                sign | (0x1000 + self.below(0x2c00) as u16)
            }
        }
    }

    /// `n` quants: random, all zero, or only the extremes (−128, −127, 127).
    fn quants(&mut self, out: &mut [u8]) {
        match self.below(6) {
            0 => out.fill(0),
            1 => out.iter_mut().for_each(|q| {
                *q = [0x80u8, 0x81, 0x7f][self.below(3) as usize];
            }),
            2 => out.fill(0x80),
            _ => out.iter_mut().for_each(|q| *q = self.byte()),
        }
    }

    fn q8_0_block(&mut self, b: &mut [u8], specials: bool) {
        b[..2].copy_from_slice(&self.scale16(specials).to_le_bytes());
        self.quants(&mut b[2..34]);
    }

    fn q4_0_block(&mut self, b: &mut [u8], specials: bool) {
        b[..2].copy_from_slice(&self.scale16(specials).to_le_bytes());
        let qs = &mut b[2..18];
        match self.below(6) {
            0 => qs.fill(0x88), // every element 0
            1 => qs.fill(0x00), // every element −8
            2 => qs.fill(0xff), // every element +7
            3 => qs
                .iter_mut()
                .for_each(|q| *q = [0x00, 0xff, 0x0f, 0xf0][self.below(4) as usize]),
            _ => qs.iter_mut().for_each(|q| *q = self.byte()),
        }
    }

    fn q6_k_block(&mut self, b: &mut [u8], specials: bool) {
        match self.below(5) {
            0 => b[..192].fill(0),    // every quant −32
            1 => b[..192].fill(0xff), // every quant +31
            _ => b[..192].iter_mut().for_each(|q| *q = self.byte()),
        }
        match self.below(4) {
            0 => b[192..208].fill(0x80), // scales −128
            1 => b[192..208].fill(0x7f),
            _ => b[192..208].iter_mut().for_each(|q| *q = self.byte()),
        }
        b[208..210].copy_from_slice(&self.scale16(specials).to_le_bytes());
    }

    fn act_q8_0(&mut self, specials: bool) -> BlockQ8_0 {
        let mut qs = [0u8; QK8_0];
        self.quants(&mut qs);
        BlockQ8_0 {
            d: f16::from_bits(self.scale16(specials)),
            qs: qs.map(|q| q as i8),
        }
    }

    fn act_q8_k(&mut self, specials: bool) -> BlockQ8K {
        let mut qs = [0u8; QK_K];
        self.quants(&mut qs);
        let qs = qs.map(|q| q as i8);
        // Consistent sums (as the quantizer writes them) or any i16 at all.
        let bsums = if self.bool() {
            core::array::from_fn(|g| qs[16 * g..16 * g + 16].iter().map(|&q| q as i16).sum())
        } else {
            core::array::from_fn(|_| self.next() as i16)
        };
        let d = match self.below(8) {
            0 => 0.0,
            1 => -1.0e-38, // subnormal products
            2 if specials => [f32::INFINITY, f32::NAN][self.below(2) as usize],
            _ => {
                let m = 1.0 + self.below(1 << 23) as f32 / (1 << 23) as f32;
                let e = self.below(40) as i32 - 30;
                let s = if self.bool() { -1.0 } else { 1.0 };
                s * m * 2f32.powi(e)
            }
        };
        BlockQ8K { d, qs, bsums }
    }

    /// A float with a random sign, mantissa and an exponent in `2^lo..2^hi`.
    fn float(&mut self, lo: i32, hi: i32) -> f32 {
        let m = 1.0 + self.below(1 << 23) as f32 / (1 << 23) as f32;
        let e = lo + self.below((hi - lo) as u64) as i32;
        let s = if self.bool() { -1.0 } else { 1.0 };
        s * m * 2f32.powi(e)
    }

    /// An f16 weight or activation: mostly ordinary, sometimes zero, subnormal or the
    /// largest magnitude (with `specials`, also ±inf and NaN).
    fn f16(&mut self, specials: bool) -> f16 {
        match self.below(12) {
            0 => f16::from_bits(0x8000),
            1 => f16::from_bits(self.below(0x400) as u16),
            2 => f16::from_bits(0xfbff),
            3 if specials => f16::from_bits([0x7c00, 0xfc00, 0x7e00][self.below(3) as usize]),
            _ => f16::from_f32(self.float(-8, 4)),
        }
    }

    fn f32(&mut self, specials: bool) -> f32 {
        match self.below(16) {
            0 => -0.0,
            1 => f32::from_bits(self.below(0x80_0000) as u32), // subnormal
            2 => self.float(100, 120),
            3 if specials => [f32::INFINITY, f32::NEG_INFINITY, f32::NAN][self.below(3) as usize],
            _ => self.float(-10, 6),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------------------

/// Bit-identical, or (where `nan_ok`, for inputs with infinities or NaN) both NaN.
fn check_same(
    what: &str,
    k: &Kernels,
    want: &[f32],
    got: &[f32],
    nan_ok: bool,
) -> Result<(), TestCaseError> {
    for (r, (a, b)) in want.iter().zip(got).enumerate() {
        let same = a.to_bits() == b.to_bits() || (nan_ok && a.is_nan() && b.is_nan());
        prop_assert!(
            same,
            "{what} [{k:?}] row {r}: scalar {a:e} ({:#010x}), native {b:e} ({:#010x})",
            a.to_bits(),
            b.to_bits()
        );
    }
    Ok(())
}

/// Run one row kernel of every native table on `rows` rows of `w` and compare with scalar.
fn compare_rows<X: ?Sized>(
    what: &str,
    pick: impl Fn(&Kernels) -> fn(&[u8], &X, &mut [f32]),
    w: &[u8],
    x: &X,
    rows: usize,
    nan_ok: bool,
) -> Result<(), TestCaseError> {
    let mut want = vec![f32::from_bits(0x7fc0_1234); rows];
    pick(scalar())(w, x, &mut want);
    for k in natives() {
        // Poison: every output must be written.
        let mut got = vec![f32::from_bits(0x7fc0_4321); rows];
        pick(k)(w, x, &mut got);
        check_same(what, k, &want, &got, nan_ok)?;
    }
    Ok(())
}

/// `rows` rows of `nb` blocks of `bs` bytes (plus `extra` unused bytes per row), filled by
/// `block`.
fn weights(
    g: &mut Gen,
    rows: usize,
    nb: usize,
    bs: usize,
    extra: usize,
    mut block: impl FnMut(&mut Gen, &mut [u8]),
) -> Vec<u8> {
    let rb = nb * bs + extra;
    let mut w = vec![0u8; rows * rb];
    for row in w.chunks_exact_mut(rb) {
        for b in row[..nb * bs].chunks_exact_mut(bs) {
            block(g, b);
        }
        row[nb * bs..].iter_mut().for_each(|b| *b = g.byte());
    }
    w
}

fn case_q8_0(
    seed: u64,
    rows: usize,
    nb: usize,
    extra: usize,
    specials: bool,
) -> Result<(), TestCaseError> {
    let g = &mut Gen(seed);
    let x: Vec<BlockQ8_0> = (0..nb).map(|_| g.act_q8_0(specials)).collect();
    let w = weights(g, rows, nb, 34, extra, |g, b| g.q8_0_block(b, specials));
    compare_rows("q8_0", |k| k.q8_0, &w, &x[..], rows, specials)
}

fn case_q4_0(
    seed: u64,
    rows: usize,
    nb: usize,
    extra: usize,
    specials: bool,
) -> Result<(), TestCaseError> {
    let g = &mut Gen(seed);
    let x: Vec<BlockQ8_0> = (0..nb).map(|_| g.act_q8_0(specials)).collect();
    let w = weights(g, rows, nb, 18, extra, |g, b| g.q4_0_block(b, specials));
    compare_rows("q4_0", |k| k.q4_0, &w, &x[..], rows, specials)?;
    compare_rows(
        "q4_0_repacked",
        |k| k.q4_0_repacked,
        &w,
        &x[..],
        rows,
        specials,
    )
}

fn case_q6_k(
    seed: u64,
    rows: usize,
    nb: usize,
    extra: usize,
    specials: bool,
) -> Result<(), TestCaseError> {
    let g = &mut Gen(seed);
    let x: Vec<BlockQ8K> = (0..nb).map(|_| g.act_q8_k(specials)).collect();
    let w = weights(g, rows, nb, 210, extra, |g, b| g.q6_k_block(b, specials));
    compare_rows("q6_k", |k| k.q6_k, &w, &x[..], rows, specials)
}

fn case_f16(
    seed: u64,
    rows: usize,
    n: usize,
    extra: usize,
    specials: bool,
) -> Result<(), TestCaseError> {
    let g = &mut Gen(seed);
    let x: Vec<f16> = (0..n).map(|_| g.f16(specials)).collect();
    let w = weights(g, rows, n, 2, extra, |g, b| {
        b.copy_from_slice(&g.f16(specials).to_le_bytes())
    });
    compare_rows("f16", |k| k.f16, &w, &x[..], rows, specials)
}

fn case_f32(
    seed: u64,
    rows: usize,
    n: usize,
    extra: usize,
    specials: bool,
) -> Result<(), TestCaseError> {
    let g = &mut Gen(seed);
    let x: Vec<f32> = (0..n).map(|_| g.f32(specials)).collect();
    let w = weights(g, rows, n, 4, extra, |g, b| {
        b.copy_from_slice(&g.f32(specials).to_le_bytes())
    });
    compare_rows("f32", |k| k.f32, &w, &x[..], rows, specials)
}

// ---------------------------------------------------------------------------------------
// Every shape: rows 1..=13 against every column count up to a few hundred
// ---------------------------------------------------------------------------------------

#[test]
fn quantized_rows_every_small_shape() {
    for rows in 1..=MAX_ROWS {
        for nb in 1..=24 {
            let seed = (rows * 1000 + nb) as u64;
            case_q8_0(seed, rows, nb, 0, false).unwrap();
            case_q4_0(seed, rows, nb, 0, false).unwrap();
        }
        for nb in 1..=4 {
            case_q6_k((rows * 1000 + nb) as u64, rows, nb, 0, false).unwrap();
        }
    }
}

#[test]
fn float_rows_every_small_shape() {
    // Every length from 1 to 300: all leftover patterns (8s, a 4, fused ones) after 0..=9
    // full steps of 32.
    for n in 1..=300 {
        let rows = 1 + n % MAX_ROWS;
        case_f32(n as u64, rows, n, 0, false).unwrap();
        case_f16(n as u64, rows, n, 0, false).unwrap();
    }
}

// ---------------------------------------------------------------------------------------
// Random blocks, random shapes
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn q8_0_rows_match(seed: u64, rows in 1..=MAX_ROWS, nb in 1usize..=320) {
        case_q8_0(seed, rows, nb, 0, false)?;
    }

    #[test]
    fn q4_0_rows_match(seed: u64, rows in 1..=MAX_ROWS, nb in 1usize..=320) {
        case_q4_0(seed, rows, nb, 0, false)?;
    }

    #[test]
    fn q6_k_rows_match(seed: u64, rows in 1..=MAX_ROWS, nb in 1usize..=40) {
        case_q6_k(seed, rows, nb, 0, false)?;
    }

    #[test]
    fn f16_rows_match(seed: u64, rows in 1..=MAX_ROWS, n in 1usize..=3000) {
        case_f16(seed, rows, n, 0, false)?;
    }

    #[test]
    fn f32_rows_match(seed: u64, rows in 1..=MAX_ROWS, n in 1usize..=3000) {
        case_f32(seed, rows, n, 0, false)?;
    }

    /// Rows with unused trailing bytes (the kernels take the row length from `w` and
    /// `out`, and use as many blocks as the activations have).
    #[test]
    fn rows_with_trailing_bytes_match(seed: u64, rows in 1..=MAX_ROWS, nb in 1usize..=12, extra in 1usize..=300) {
        case_q8_0(seed, rows, nb, extra, false)?;
        case_q4_0(seed, rows, nb, extra, false)?;
        case_q6_k(seed, rows, nb.div_ceil(4), extra, false)?;
        case_f16(seed, rows, nb * 7, extra, false)?;
        case_f32(seed, rows, nb * 7, extra, false)?;
    }

    /// Infinite and NaN scales and values: the same results, NaN where the reference has NaN.
    #[test]
    fn special_values_match(seed: u64, rows in 1..=MAX_ROWS, nb in 1usize..=24) {
        case_q8_0(seed, rows, nb, 0, true)?;
        case_q4_0(seed, rows, nb, 0, true)?;
        case_q6_k(seed, rows, nb.div_ceil(4), 0, true)?;
        case_f16(seed, rows, nb * 13, 0, true)?;
        case_f32(seed, rows, nb * 13, 0, true)?;
    }

    #[test]
    fn quantize_q8_0_matches(seed: u64, nb in 1usize..=40, tail in 0usize..32, specials: bool) {
        let x = activations(&mut Gen(seed), nb * QK8_0 + tail, QK8_0, specials);
        check_quantize_q8_0(&x)?;
    }

    #[test]
    fn quantize_q8_k_matches(seed: u64, nb in 1usize..=8, tail in 0usize..256, specials: bool) {
        let x = activations(&mut Gen(seed), nb * QK_K + tail, QK_K, specials);
        check_quantize_q8_k(&x)?;
    }
}

// ---------------------------------------------------------------------------------------
// Quantization
// ---------------------------------------------------------------------------------------

/// `n` activations in blocks of `bs`, each block of one kind: random at some scale (tiny,
/// subnormal, huge), all zero (either sign), or exact ties: one element ±127 (or ±63.5) so
/// that the block scale is 1 (or 2), the rest k + 0.5 (k + 0.25), landing halfway between
/// two quants. With `specials`, also infinities and NaN.
fn activations(g: &mut Gen, n: usize, bs: usize, specials: bool) -> Vec<f32> {
    let mut x = vec![0.0f32; n];
    for b in x.chunks_mut(bs) {
        match g.below(if specials { 7 } else { 6 }) {
            0 => b
                .iter_mut()
                .for_each(|v| *v = if g.bool() { 0.0 } else { -0.0 }),
            1 | 2 => {
                let (top, step) = if g.bool() { (127.0, 1.0) } else { (63.5, 0.5) };
                for v in b.iter_mut() {
                    let k = g.below(253) as f32 - 126.0; // −126..=126
                    *v = (k + 0.5) * step;
                    if v.abs() > top {
                        *v = 0.0;
                    }
                }
                let i = g.below(b.len() as u64) as usize;
                b[i] = if g.bool() { top } else { -top };
                if g.bool() {
                    // A tie in magnitude: the first one is the Q8_K extreme.
                    let j = g.below(b.len() as u64) as usize;
                    b[j] = -b[i];
                }
            }
            3 => {
                let (lo, hi) = [(-140, -120), (-30, 0), (100, 127)][g.below(3) as usize];
                b.iter_mut().for_each(|v| *v = g.float(lo, hi));
            }
            6 => b.iter_mut().for_each(|v| {
                *v = match g.below(4) {
                    0 => f32::INFINITY,
                    1 => f32::NEG_INFINITY,
                    2 => f32::NAN,
                    _ => g.float(-4, 4),
                }
            }),
            _ => b.iter_mut().for_each(|v| *v = g.float(-12, 4)),
        }
    }
    x
}

fn check_quantize_q8_0(x: &[f32]) -> Result<(), TestCaseError> {
    let n = x.len() / QK8_0 + 1; // one block more than there is input: left alone
    let poison = BlockQ8_0 {
        d: f16::from_bits(0x5555),
        qs: [0x55; QK8_0],
    };
    let mut want = vec![poison; n];
    (scalar().quantize_q8_0)(x, &mut want);
    for k in natives() {
        let mut got = vec![poison; n];
        (k.quantize_q8_0)(x, &mut got);
        for (i, (a, b)) in want.iter().zip(&got).enumerate() {
            prop_assert_eq!(a.d.to_bits(), b.d.to_bits(), "[{:?}] block {} d", k, i);
            prop_assert_eq!(a.qs, b.qs, "[{:?}] block {} quants", k, i);
        }
    }
    Ok(())
}

fn check_quantize_q8_k(x: &[f32]) -> Result<(), TestCaseError> {
    let n = x.len() / QK_K + 1;
    let poison = BlockQ8K {
        d: f32::from_bits(0x5555_5555),
        qs: [0x55; QK_K],
        bsums: [0x5555; QK_K / 16],
    };
    let mut want = vec![poison; n];
    (scalar().quantize_q8_k)(x, &mut want);
    for k in natives() {
        let mut got = vec![poison; n];
        (k.quantize_q8_k)(x, &mut got);
        for (i, (a, b)) in want.iter().zip(&got).enumerate() {
            prop_assert_eq!(a.d.to_bits(), b.d.to_bits(), "[{:?}] block {} d", k, i);
            prop_assert_eq!(a.qs, b.qs, "[{:?}] block {} quants", k, i);
            prop_assert_eq!(a.bsums, b.bsums, "[{:?}] block {} sums", k, i);
        }
    }
    Ok(())
}

#[test]
fn quantize_ties_round_half_to_even() {
    // 127 sets the scale to 1: every k + 0.5 is a tie, rounded to the even neighbour.
    let mut x = [0.0f32; QK_K];
    for (i, v) in x.iter_mut().enumerate() {
        *v = (i % 254) as f32 - 126.5;
    }
    x[5] = 127.0;
    x[9] = -127.0; // same magnitude, later: Q8_K keeps x[5]
    check_quantize_q8_0(&x).unwrap();
    check_quantize_q8_k(&x).unwrap();
    for k in natives() {
        let mut y = [BlockQ8_0::ZERO; QK_K / QK8_0];
        (k.quantize_q8_0)(&x, &mut y);
        assert_eq!(y[0].qs[0], -126, "[{k:?}] -126.5 rounds to -126");
        assert_eq!(y[0].qs[1], -126, "[{k:?}] -125.5 rounds to -126");
        assert_eq!(y[0].qs[2], -124, "[{k:?}] -124.5 rounds to -124");
        let mut z = [BlockQ8K::ZERO];
        (k.quantize_q8_k)(&x, &mut z);
        assert_eq!(z[0].qs[5], -127);
        assert_eq!(z[0].qs[0], 126, "[{k:?}] 126.5 rounds to 126");
    }
}

#[test]
fn zero_blocks_quantize_to_zero() {
    let x = [0.0f32; 2 * QK_K];
    check_quantize_q8_0(&x).unwrap();
    check_quantize_q8_k(&x).unwrap();
}

// ---------------------------------------------------------------------------------------
// Degenerate shapes: nothing to compute, or less weight than rows
// ---------------------------------------------------------------------------------------

#[test]
fn degenerate_shapes_do_not_panic() {
    let x8 = [BlockQ8_0::ZERO; 3];
    let xk = [BlockQ8K::ZERO; 2];
    let xh = [f16::ONE; 40];
    let xf = [1.0f32; 40];
    let w = [0x11u8; 700];
    for k in natives() {
        for rows in [0, 1, 5, 13] {
            for wl in [0, 3, 17, 40, 100, 700] {
                let mut out = vec![7.0f32; rows];
                (k.q8_0)(&w[..wl], &x8, &mut out);
                (k.q4_0)(&w[..wl], &x8, &mut out);
                (k.q4_0_repacked)(&w[..wl], &x8, &mut out);
                (k.q6_k)(&w[..wl], &xk, &mut out);
                (k.f16)(&w[..wl], &xh, &mut out);
                (k.f32)(&w[..wl], &xf, &mut out);
                (k.q8_0)(&w[..wl], &[], &mut out);
                (k.f32)(&w[..wl], &[], &mut out);
            }
        }
        (k.quantize_q8_0)(&[1.0; 31], &mut []);
        (k.quantize_q8_0)(&[1.0; 64], &mut [BlockQ8_0::ZERO; 1]);
        (k.quantize_q8_k)(&[1.0; 255], &mut [BlockQ8K::ZERO; 1]);
    }
}
