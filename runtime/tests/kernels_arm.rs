//! The Arm DSP kernel table against the scalar reference, bit for bit.
//!
//! Compiled for `target_arch = "arm"` only; on any other host this file is empty. CI runs it
//! under QEMU user mode:
//!
//! ```text
//! cargo test -p mote-runtime --target armv7-unknown-linux-gnueabihf
//! ```
//!
//! (`.cargo/config.toml` sets the linker and the `qemu-arm -cpu cortex-a15` runner). There
//! the DSP table must exist: a build that lost it fails here instead of skipping.
#![cfg(target_arch = "arm")]

use half::f16;
use mote_runtime::kernels::dispatch::SCALAR;
use mote_runtime::kernels::{Backend, Kernels};
use mote_runtime::quant::{BlockQ8K, BlockQ8_0, QK8_0, QK_K};
use proptest::prelude::*;

/// Up to this many 32-element blocks per row (12 800 columns) for Q4_0 and Q8_0.
const MAX_BLOCKS: usize = 400;
/// Up to this many 256-element super-blocks per row (16 384 columns) for Q6_K.
const MAX_BLOCKS_K: usize = 64;
const MAX_ROWS: usize = 13;

fn dsp() -> &'static Kernels {
    Kernels::get(Backend::ArmDsp).expect(
        "no ArmDsp kernel table in this build: the build script's SXTB16/SMLAD probe \
         failed for this target (see runtime/build.rs)",
    )
}

// ---------------------------------------------------------------------------------------
// Inputs: a seeded generator that favours extreme values
// ---------------------------------------------------------------------------------------

/// f16 scales that stress the float path: zeros, subnormals, the extremes, infinities, NaN.
const ODD_F16: [u16; 14] = [
    0x0000, 0x8000, 0x0001, 0x8001, 0x03ff, 0x0400, 0x7bff, 0xfbff, 0x3c00, 0xbc00, 0x7c00, 0xfc00,
    0x7e00, 0x3555,
];
/// f32 Q8_K scales of the same kind.
const ODD_F32: [u32; 10] = [
    0x0000_0000,
    0x8000_0000,
    0x0000_0001,
    0x0080_0000,
    0x7f7f_ffff,
    0xff7f_ffff,
    0x7f80_0000,
    0x7fc0_0000,
    0x3f80_0000,
    0x3c01_0204,
];

struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 32) as u32
    }
    fn below(&mut self, n: u32) -> u32 {
        self.next() % n
    }
    /// Mostly a normal scale of either sign; one time in four an odd one.
    fn scale16(&mut self) -> [u8; 2] {
        let bits = if self.below(4) == 0 {
            ODD_F16[self.below(ODD_F16.len() as u32) as usize]
        } else {
            (0x1800 + self.below(0x2000)) as u16 | (self.next() as u16 & 0x8000)
        };
        bits.to_le_bytes()
    }
    fn scale32(&mut self) -> f32 {
        if self.below(4) == 0 {
            f32::from_bits(ODD_F32[self.below(ODD_F32.len() as u32) as usize])
        } else {
            (self.next() as i32 as f32) * 1e-12
        }
    }
    /// Bytes of quants: random, or one of the extreme patterns (given as candidate bytes).
    fn fill(&mut self, out: &mut [u8], extremes: &[u8]) {
        match self.below(2 * extremes.len() as u32 + 2) as usize {
            m if m < extremes.len() => out.fill(extremes[m]),
            m if m < 2 * extremes.len() => {
                // Alternating between two extremes.
                let i = m - extremes.len();
                let (a, b) = (extremes[i], extremes[(i + 1) % extremes.len()]);
                for (i, v) in out.iter_mut().enumerate() {
                    *v = if i % 2 == 0 { a } else { b };
                }
            }
            _ => out.iter_mut().for_each(|v| *v = self.next() as u8),
        }
    }
}

/// Q8_0 extremes: 0, ±127, −128.
const Q8_EXTREMES: [u8; 4] = [0x00, 0x7f, 0x81, 0x80];
/// Q4_0 extremes: both nibbles −8, both +7, mixed, and the zero value 8.
const Q4_EXTREMES: [u8; 4] = [0x00, 0xff, 0x0f, 0x88];
/// Q6_K quant-bit extremes (all 6-bit quants 0 or 63) and scale extremes.
const Q6_EXTREMES: [u8; 3] = [0x00, 0xff, 0x55];
const SCALE_EXTREMES: [u8; 4] = [0x7f, 0x81, 0x80, 0x00];

/// `rows` rows of `blocks` Q8_0 (34-byte) or Q4_0 (18-byte) weight blocks.
fn weights_q(g: &mut Gen, rows: usize, blocks: usize, block_bytes: usize) -> Vec<u8> {
    let extremes: &[u8] = if block_bytes == 34 {
        &Q8_EXTREMES
    } else {
        &Q4_EXTREMES
    };
    let mut w = vec![0u8; rows * blocks * block_bytes];
    for b in w.chunks_exact_mut(block_bytes) {
        b[..2].copy_from_slice(&g.scale16());
        g.fill(&mut b[2..], extremes);
    }
    w
}

fn weights_q6k(g: &mut Gen, rows: usize, blocks: usize) -> Vec<u8> {
    let mut w = vec![0u8; rows * blocks * 210];
    for b in w.chunks_exact_mut(210) {
        g.fill(&mut b[..192], &Q6_EXTREMES);
        g.fill(&mut b[192..208], &SCALE_EXTREMES);
        let d = g.scale16();
        b[208..].copy_from_slice(&d);
    }
    w
}

/// Q8_0 activations: quantized from random floats (what the runtime feeds the kernels), or
/// raw blocks with extreme quants and odd scales.
fn acts_q8_0(g: &mut Gen, blocks: usize) -> Vec<BlockQ8_0> {
    let mut x = vec![BlockQ8_0::ZERO; blocks];
    if g.below(2) == 0 {
        let f: Vec<f32> = (0..blocks * QK8_0)
            .map(|_| (g.next() as i32 as f32) * 1e-9)
            .collect();
        (SCALAR.quantize_q8_0)(&f, &mut x);
    } else {
        let mut qs = [0u8; QK8_0];
        for b in x.iter_mut() {
            b.d = f16::from_le_bytes(g.scale16());
            g.fill(&mut qs, &Q8_EXTREMES);
            b.qs = qs.map(|q| q as i8);
        }
    }
    x
}

/// Q8_K activations: quantized from random floats, or raw blocks with extreme quants, odd
/// scales and their true 16-element sums.
fn acts_q8_k(g: &mut Gen, blocks: usize) -> Vec<BlockQ8K> {
    let mut x = vec![BlockQ8K::ZERO; blocks];
    if g.below(2) == 0 {
        let f: Vec<f32> = (0..blocks * QK_K)
            .map(|_| (g.next() as i32 as f32) * 1e-9)
            .collect();
        (SCALAR.quantize_q8_k)(&f, &mut x);
    } else {
        let mut qs = [0u8; QK_K];
        for b in x.iter_mut() {
            b.d = g.scale32();
            g.fill(&mut qs, &Q8_EXTREMES);
            b.qs = qs.map(|q| q as i8);
            for (s, grp) in b.bsums.iter_mut().zip(b.qs.chunks_exact(16)) {
                *s = grp.iter().map(|&q| q as i16).sum();
            }
        }
    }
    x
}

// ---------------------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------------------

/// Runs `pick(SCALAR)` and `pick(ARM_DSP)` over the same rows (placed `offset` bytes into a
/// buffer, so weight words are unaligned) and compares every output's bits.
fn same_rows<X>(
    what: &str,
    pick: impl Fn(&Kernels) -> fn(&[u8], &[X], &mut [f32]),
    w: &[u8],
    offset: usize,
    x: &[X],
    rows: usize,
) {
    let mut buf = vec![0u8; offset + w.len()];
    buf[offset..].copy_from_slice(w);
    let w = &buf[offset..];
    let mut want = vec![0.0f32; rows];
    let mut got = vec![f32::NAN; rows];
    pick(&SCALAR)(w, x, &mut want);
    pick(dsp())(w, x, &mut got);
    for (r, (a, b)) in want.iter().zip(&got).enumerate() {
        assert_eq!(
            a.to_bits(),
            b.to_bits(),
            "{what}: row {r} of {rows}, {} blocks: scalar {a:e}, arm-dsp {b:e}",
            x.len()
        );
    }
}

/// Q4_0 (both orders) and Q8_0 on one random case.
fn check_q(seed: u64, rows: usize, blocks: usize, offset: usize) {
    let mut g = Gen(seed);
    let x = acts_q8_0(&mut g, blocks);
    let w4 = weights_q(&mut g, rows, blocks, 18);
    same_rows("q4_0", |k| k.q4_0, &w4, offset, &x, rows);
    same_rows("q4_0_repacked", |k| k.q4_0_repacked, &w4, offset, &x, rows);
    let w8 = weights_q(&mut g, rows, blocks, 34);
    same_rows("q8_0", |k| k.q8_0, &w8, offset, &x, rows);
}

fn check_q6k(seed: u64, rows: usize, blocks: usize, offset: usize) {
    let mut g = Gen(seed);
    let x = acts_q8_k(&mut g, blocks);
    let w = weights_q6k(&mut g, rows, blocks);
    same_rows("q6_k", |k| k.q6_k, &w, offset, &x, rows);
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

#[test]
fn arm_dsp_table_is_available_and_chosen() {
    assert_eq!(dsp().backend, Backend::ArmDsp);
    assert_eq!(Kernels::select(Some("arm-dsp")).unwrap(), dsp());
    // No other native table exists for 32-bit Arm.
    assert_eq!(Kernels::best(), dsp());
}

#[test]
fn every_column_count_matches_scalar() {
    for blocks in 1..=MAX_BLOCKS {
        check_q(blocks as u64, 1 + blocks % MAX_ROWS, blocks, blocks % 4);
    }
    for blocks in 1..=MAX_BLOCKS_K {
        check_q6k(blocks as u64, 1 + blocks % MAX_ROWS, blocks, blocks % 4);
    }
}

#[test]
fn all_extreme_blocks_match_scalar() {
    // Every weight pattern against every activation pattern, one block each, plus the
    // scale extremes.
    for &wq in &Q8_EXTREMES {
        for &xq in &Q8_EXTREMES {
            for &s in &ODD_F16 {
                let x = [BlockQ8_0 {
                    d: f16::from_bits(s),
                    qs: [xq as i8; QK8_0],
                }];
                let mut w8 = [wq; 34];
                w8[..2].copy_from_slice(&0x3c00u16.to_le_bytes());
                same_rows("q8_0", |k| k.q8_0, &w8, 0, &x, 1);
            }
        }
    }
    for &wq in &Q4_EXTREMES {
        for &xq in &Q8_EXTREMES {
            let x = [BlockQ8_0 {
                d: f16::from_bits(0x3c00),
                qs: [xq as i8; QK8_0],
            }];
            for &s in &ODD_F16 {
                let mut w4 = [wq; 18];
                w4[..2].copy_from_slice(&s.to_le_bytes());
                same_rows("q4_0", |k| k.q4_0, &w4, 1, &x, 1);
                same_rows("q4_0_repacked", |k| k.q4_0_repacked, &w4, 1, &x, 1);
            }
        }
    }
    for &wq in &Q6_EXTREMES {
        for &sc in &SCALE_EXTREMES {
            for &xq in &Q8_EXTREMES {
                let mut x = [BlockQ8K::ZERO];
                x[0].d = 1.0;
                x[0].qs = [xq as i8; QK_K];
                x[0].bsums = [16 * xq as i8 as i16; QK_K / 16];
                let mut w = [wq; 210];
                w[192..208].fill(sc);
                w[208..].copy_from_slice(&0x3c00u16.to_le_bytes());
                same_rows("q6_k", |k| k.q6_k, &w, 3, &x, 1);
            }
        }
    }
}

#[test]
fn shared_entries_match_scalar() {
    // f32, f16 and the activation quantizers are the scalar functions; check they are
    // wired to the right slots.
    let mut g = Gen(99);
    let n = 3 * QK_K;
    let f: Vec<f32> = (0..n).map(|_| (g.next() as i32 as f32) * 1e-9).collect();
    let (mut a, mut b) = (
        vec![BlockQ8_0::ZERO; n / QK8_0],
        vec![BlockQ8_0::ZERO; n / QK8_0],
    );
    (SCALAR.quantize_q8_0)(&f, &mut a);
    (dsp().quantize_q8_0)(&f, &mut b);
    assert_eq!(a, b);
    let (mut a, mut b) = (
        vec![BlockQ8K::ZERO; n / QK_K],
        vec![BlockQ8K::ZERO; n / QK_K],
    );
    (SCALAR.quantize_q8_k)(&f, &mut a);
    (dsp().quantize_q8_k)(&f, &mut b);
    assert_eq!(a, b);

    let rows = 5;
    let w32: Vec<u8> = (0..rows * n)
        .flat_map(|_| ((g.next() as i32 as f32) * 1e-9).to_le_bytes())
        .collect();
    same_rows("f32", |k| k.f32, &w32, 2, &f, rows);
    let w16: Vec<u8> = (0..rows * n)
        .flat_map(|_| f16::from_f32((g.next() as i32 as f32) * 1e-9).to_le_bytes())
        .collect();
    let x16: Vec<f16> = f.iter().map(|&v| f16::from_f32(v)).collect();
    same_rows("f16", |k| k.f16, &w16, 1, &x16, rows);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn q4_0_and_q8_0_match_scalar(
        seed in any::<u64>(),
        rows in 1..=MAX_ROWS,
        blocks in 1..=MAX_BLOCKS,
        offset in 0usize..4,
    ) {
        check_q(seed, rows, blocks, offset);
    }

    #[test]
    fn q6_k_matches_scalar(
        seed in any::<u64>(),
        rows in 1..=MAX_ROWS,
        blocks in 1..=MAX_BLOCKS_K,
        offset in 0usize..4,
    ) {
        check_q6k(seed, rows, blocks, offset);
    }
}
