//! The x86-64 kernel tables (AVX2, and AVX-512 where the CPU has it) against the scalar
//! reference: every entry must give the same bits for every input (ragged row counts, every
//! column count, extreme scales and quants).
//!
//! These tests fail, rather than skip, on an x86-64 CPU without AVX2, FMA or F16C: a run
//! there would otherwise pass without having checked anything. On a CPU with AVX-512F/BW/VL
//! and VNNI the AVX-512 table must be offered and is checked as well.
#![cfg(target_arch = "x86_64")]

mod common;
use common::Rng;

use half::f16;
use mote_runtime::kernels::{Backend, Kernels};
use mote_runtime::quant::{BlockQ8K, BlockQ8_0, QK8_0, QK_K};
use proptest::prelude::*;

/// The AVX2 table; panics if this CPU cannot run it.
fn avx2() -> &'static Kernels {
    assert!(
        is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("fma")
            && is_x86_feature_detected!("f16c"),
        "this x86-64 CPU lacks AVX2, FMA or F16C, so the AVX2 kernels cannot be checked \
         here; run these tests on a CPU that has all three"
    );
    Kernels::get(Backend::Avx2).expect("Kernels::get(Avx2) is None on a CPU with AVX2+FMA+F16C")
}

/// Every native x86 table this CPU runs: AVX2, then AVX-512 if the CPU has its features.
fn natives() -> Vec<&'static Kernels> {
    let mut v = vec![avx2()];
    let avx512 = ["avx512f", "avx512bw", "avx512vl", "avx512vnni"];
    let has = is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512vl")
        && is_x86_feature_detected!("avx512vnni");
    match Kernels::get(Backend::Avx512) {
        Some(k) => {
            assert!(has, "Kernels::get(Avx512) on a CPU without {avx512:?}");
            v.push(k);
        }
        None => assert!(
            !has,
            "Kernels::get(Avx512) is None on a CPU with {avx512:?}"
        ),
    }
    // The variants used for models that stream from memory are checked the same way.
    let streaming: Vec<_> = v.iter().filter_map(|k| k.streaming).collect();
    v.extend(streaming);
    v
}

#[test]
fn large_models_take_the_streaming_variant() {
    use mote_runtime::kernels::dispatch::STREAMING_BYTES;
    for k in natives() {
        assert!(std::ptr::eq(k.for_weights(STREAMING_BYTES), k));
        let s = k.for_weights(STREAMING_BYTES + 1);
        assert_eq!(s.backend, k.backend);
        if let Some(v) = k.streaming {
            assert!(std::ptr::eq(s, v));
        }
    }
}

fn scalar() -> &'static Kernels {
    Kernels::get(Backend::Scalar).unwrap()
}

/// Equal bits (two NaNs count as equal: their payloads carry no meaning).
fn same(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn assert_rows_equal(what: &str, got: &[f32], want: &[f32]) {
    for (r, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            same(g, w),
            "{what}: row {r}: native {g:e} ({:#010x}) != scalar {w:e} ({:#010x})",
            g.to_bits(),
            w.to_bits()
        );
    }
}

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, per_256: u64) -> bool {
        self.below(256) < per_256
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
    /// Uniform in [-1, 1).
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
}

/// How wild the data is.
#[derive(Clone, Copy, Debug)]
enum Flavor {
    /// Scales and quants as real models have them.
    Typical,
    /// Uniformly random bytes (any quant, any finite f16 scale).
    Bytes,
    /// Extremes: zero, subnormal, infinite and largest scales; quants at ±127, −128, 0.
    Extreme,
}

fn flavor() -> impl Strategy<Value = Flavor> {
    prop_oneof![
        Just(Flavor::Typical),
        Just(Flavor::Bytes),
        Just(Flavor::Extreme)
    ]
}

/// An f16 scale (never NaN).
fn scale16(g: &mut Rng, f: Flavor) -> u16 {
    let sign = if g.chance(128) { 0x8000 } else { 0 };
    match f {
        Flavor::Typical => 0x1c00 + g.below(0x1800) as u16,
        Flavor::Bytes => sign | g.below(0x7c00) as u16,
        Flavor::Extreme => {
            sign | match g.below(6) {
                0 => 0,
                1 => 1 + g.below(0x3ff) as u16, // subnormal
                2 => 0x7c00,                    // infinity
                3 => 0x7bff,                    // largest finite
                4 => 0x0400,                    // smallest normal
                _ => 0x1c00 + g.below(0x1800) as u16,
            }
        }
    }
}

/// A weight quant byte.
fn quant_byte(g: &mut Rng, f: Flavor) -> u8 {
    match f {
        Flavor::Extreme => g.pick(&[0x7f, 0x81, 0x80, 0x00, 0xff, 0x01, 0x88, 0x77]),
        _ => g.next() as u8,
    }
}

/// `rows` rows of `nb` blocks of `bs` bytes (scale at `scale_at`), each row followed by
/// `extra` bytes of padding that no kernel may read as a block.
fn weight_rows(
    g: &mut Rng,
    f: Flavor,
    rows: usize,
    nb: usize,
    bs: usize,
    scale_at: usize,
    extra: usize,
) -> Vec<u8> {
    let mut w = Vec::with_capacity(rows * (nb * bs + extra));
    for _ in 0..rows {
        for _ in 0..nb {
            let mut blk: Vec<u8> = (0..bs).map(|_| quant_byte(g, f)).collect();
            blk[scale_at..scale_at + 2].copy_from_slice(&scale16(g, f).to_le_bytes());
            w.extend_from_slice(&blk);
        }
        w.extend((0..extra).map(|_| g.next() as u8));
    }
    w
}

/// Q8_0 activation blocks. `minus_128` allows the quant −128 (which `quantize_q8_0` never
/// makes; the AVX2 Q8_0 kernel hands such calls to the scalar one).
fn q8_0_acts(g: &mut Rng, f: Flavor, nb: usize, minus_128: bool) -> Vec<BlockQ8_0> {
    (0..nb)
        .map(|_| {
            let mut b = BlockQ8_0 {
                d: f16::from_bits(scale16(g, f)),
                qs: [0; QK8_0],
            };
            for q in b.qs.iter_mut() {
                *q = match f {
                    Flavor::Extreme => g.pick(&[127, -127, 0, 1, -1]),
                    _ => (g.below(255) as i32 - 127) as i8,
                };
                if minus_128 && g.chance(8) {
                    *q = -128;
                }
            }
            b
        })
        .collect()
}

fn q8_k_acts(g: &mut Rng, f: Flavor, nb: usize) -> Vec<BlockQ8K> {
    (0..nb)
        .map(|_| {
            let mut b = BlockQ8K::ZERO;
            for q in b.qs.iter_mut() {
                *q = match f {
                    Flavor::Extreme => g.pick(&[127, -127, -128, 0]),
                    _ => g.next() as i8,
                };
            }
            for (s, grp) in b.bsums.iter_mut().zip(b.qs.chunks_exact(16)) {
                *s = grp.iter().map(|&q| q as i16).sum();
            }
            if matches!(f, Flavor::Bytes) && g.chance(64) {
                // The kernels must use the given sums, whatever they are.
                b.bsums.iter_mut().for_each(|s| *s = g.next() as i16);
            }
            b.d = match f {
                Flavor::Extreme => g.pick(&[0.0, -0.0, 1e-40, f32::MAX, 1.0, -3.5e-3]),
                _ => g.unit() * 0.05,
            };
            b
        })
        .collect()
}

/// A finite float of varied magnitude (or a special value for `Extreme`).
fn float(g: &mut Rng, f: Flavor) -> f32 {
    match f {
        Flavor::Typical => g.unit() * 4.0,
        Flavor::Bytes => loop {
            let v = f32::from_bits(g.next() as u32);
            if v.is_finite() && v.abs() < 1e15 {
                break v;
            }
        },
        Flavor::Extreme => g.pick(&[0.0, -0.0, 1e-45, -1e-40, 1e30, -1e30, 1.0, 65504.0, 0.5]),
    }
}

/// Splits `w` into `rows` rows, runs both tables' row kernel, compares.
fn check_rows<X: ?Sized>(
    what: &str,
    rows: usize,
    w: &[u8],
    x: &X,
    pick: impl Fn(&Kernels) -> fn(&[u8], &X, &mut [f32]),
) {
    let mut want = vec![0.0f32; rows];
    (pick(scalar()))(w, x, &mut want);
    for k in natives() {
        let mut got = vec![f32::NAN; rows];
        (pick(k))(w, x, &mut got);
        assert_rows_equal(&format!("{what} ({})", k.backend.name()), &got, &want);
    }
}

/// Activation blocks a row kernel sees: as many as the rows have, or one more or fewer.
fn x_blocks(nb: usize, dx: usize) -> usize {
    (nb + dx).saturating_sub(1)
}

fn q8_0_case(
    rows: usize,
    nb: usize,
    dx: usize,
    extra: usize,
    f: Flavor,
    seed: u64,
    minus_128: bool,
) {
    let mut g = Rng(seed);
    let x = q8_0_acts(&mut g, f, x_blocks(nb, dx), minus_128);
    let w4 = weight_rows(&mut g, f, rows, nb, 18, 0, extra);
    let w8 = weight_rows(&mut g, f, rows, nb, 34, 0, extra);
    let what = format!("{rows}x{nb} blocks (+{dx} −1 x blocks, +{extra} B) {f:?}");
    check_rows(&format!("q4_0 {what}"), rows, &w4, &x[..], |k| k.q4_0);
    check_rows(&format!("q4_0_repacked {what}"), rows, &w4, &x[..], |k| {
        k.q4_0_repacked
    });
    check_rows(&format!("q8_0 {what}"), rows, &w8, &x[..], |k| k.q8_0);
}

fn q6_k_case(rows: usize, nb: usize, dx: usize, extra: usize, f: Flavor, seed: u64) {
    let mut g = Rng(seed);
    let x = q8_k_acts(&mut g, f, x_blocks(nb, dx));
    let w = weight_rows(&mut g, f, rows, nb, 210, 208, extra);
    let what = format!("q6_k {rows}x{nb} blocks (+{dx} −1 x blocks, +{extra} B) {f:?}");
    check_rows(&what, rows, &w, &x[..], |k| k.q6_k);
}

fn float_case(rows: usize, n: usize, extra: usize, f: Flavor, seed: u64) {
    let mut g = Rng(seed);
    let x32: Vec<f32> = (0..n).map(|_| float(&mut g, f)).collect();
    let w32: Vec<u8> = (0..rows)
        .flat_map(|_| {
            let mut row: Vec<u8> = (0..n)
                .flat_map(|_| float(&mut g, f).to_le_bytes())
                .collect();
            row.extend((0..extra).map(|_| g.next() as u8));
            row
        })
        .collect();
    check_rows(
        &format!("f32 {rows}x{n} (+{extra} B) {f:?}"),
        rows,
        &w32,
        &x32[..],
        |k| k.f32,
    );

    let h = |g: &mut Rng| match f {
        Flavor::Typical => f16::from_f32(g.unit() * 2.0),
        Flavor::Bytes => f16::from_bits(g.below(0x7c00) as u16 | (g.next() as u16 & 0x8000)),
        Flavor::Extreme => {
            f16::from_bits(g.pick(&[0, 0x8000, 1, 0x83ff, 0x7bff, 0xfbff, 0x7c00, 0x3c00]))
        }
    };
    let x16: Vec<f16> = (0..n).map(|_| h(&mut g)).collect();
    let w16: Vec<u8> = (0..rows)
        .flat_map(|_| {
            let mut row: Vec<u8> = (0..n).flat_map(|_| h(&mut g).to_le_bytes()).collect();
            row.extend((0..extra).map(|_| g.next() as u8));
            row
        })
        .collect();
    check_rows(
        &format!("f16 {rows}x{n} (+{extra} B) {f:?}"),
        rows,
        &w16,
        &x16[..],
        |k| k.f16,
    );
}

fn check_quantize_q8_0(x: &[f32], what: &str) {
    let nb = x.len() / QK8_0;
    let mut want = vec![BlockQ8_0::ZERO; nb];
    let mut got = vec![
        BlockQ8_0 {
            d: f16::NAN,
            qs: [0x55; QK8_0]
        };
        nb
    ];
    (scalar().quantize_q8_0)(x, &mut want);
    (avx2().quantize_q8_0)(x, &mut got);
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(
            (g.d.to_bits(), g.qs),
            (w.d.to_bits(), w.qs),
            "quantize_q8_0 {what}: block {i}"
        );
    }
}

fn check_quantize_q8_k(x: &[f32], what: &str) {
    let nb = x.len() / QK_K;
    let mut want = vec![BlockQ8K::ZERO; nb];
    let mut got = vec![
        BlockQ8K {
            d: f32::NAN,
            qs: [0x55; QK_K],
            bsums: [0x55; 16]
        };
        nb
    ];
    (scalar().quantize_q8_k)(x, &mut want);
    (avx2().quantize_q8_k)(x, &mut got);
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(
            g.d.to_bits(),
            w.d.to_bits(),
            "quantize_q8_k {what}: block {i}: d"
        );
        assert_eq!(g.qs, w.qs, "quantize_q8_k {what}: block {i}: qs");
        assert_eq!(g.bsums, w.bsums, "quantize_q8_k {what}: block {i}: bsums");
    }
}

/// Activation vectors for the quantizers: `flavor`-random values, with some blocks holding
/// exact ties (`k + 0.5` beside a ±127 that makes the scale 1), zeros, or one spike.
fn activation(g: &mut Rng, f: Flavor, n: usize, block: usize) -> Vec<f32> {
    let mut x: Vec<f32> = (0..n).map(|_| float(g, f)).collect();
    for b in x.chunks_exact_mut(block) {
        match g.below(6) {
            0 => {
                // Ties: with amax = 127 the scale is exactly 1 (Q8_K: ±1).
                b.iter_mut()
                    .for_each(|v| *v = g.below(254) as f32 - 127.0 + 0.5);
                let at = g.below(block as u64) as usize;
                b[at] = if g.chance(128) { 127.0 } else { -127.0 };
            }
            1 => b
                .iter_mut()
                .for_each(|v| *v = if g.chance(128) { 0.0 } else { -0.0 }),
            2 => {
                let at = g.below(block as u64) as usize;
                b[at] = float(g, Flavor::Extreme);
            }
            3 => {
                // Equal magnitudes of both signs: the first one sets Q8_K's sign.
                let m = g.unit() * 8.0;
                b.iter_mut()
                    .for_each(|v| *v = if g.chance(128) { m } else { -m });
            }
            _ => {}
        }
    }
    x
}

#[test]
fn the_widest_table_is_selected_on_this_cpu() {
    let k = avx2();
    assert_eq!(k.backend, Backend::Avx2);
    let widest = natives().last().unwrap().backend;
    assert_eq!(Kernels::best().backend, widest);
    for t in natives() {
        assert_eq!(
            Kernels::select(Some(t.backend.name())).unwrap().backend,
            t.backend
        );
    }
    assert_eq!(
        Kernels::select(Some("avx2")).unwrap().backend,
        Backend::Avx2
    );
    assert!(Kernels::available().any(|t| t.backend == Backend::Avx2));
}

/// Every row count 1..=13 and every column count from one block to 1024 columns.
#[test]
fn q4_0_and_q8_0_sweep_rows_and_columns() {
    for rows in 1..=13 {
        for nb in 1..=32 {
            for f in [Flavor::Typical, Flavor::Bytes, Flavor::Extreme] {
                q8_0_case(rows, nb, 1, 0, f, (rows * 1000 + nb) as u64, false);
            }
        }
    }
}

/// Blocks whose quants are all one value, at the corners of the ranges: the largest and
/// smallest block sums (Q4_0's reach both ends of its 16-bit window: −8·127·32 = −32512 and
/// −8·−128·32 = 32768).
#[test]
fn constant_blocks_at_the_corners() {
    let acts: [i8; 6] = [127, -127, -128, 0, 1, -1];
    for rows in [1, 8, 9, 13] {
        for nb in [1, 3, 8, 9] {
            for &a in &acts {
                let x = vec![
                    BlockQ8_0 {
                        d: f16::from_f32(0.5),
                        qs: [a; QK8_0]
                    };
                    nb
                ];
                for byte in [0x00u8, 0xff, 0x88, 0x0f, 0xf0, 0x80, 0x7f, 0x81] {
                    let mut w4 = vec![byte; rows * nb * 18];
                    let mut w8 = vec![byte; rows * nb * 34];
                    for b in w4.chunks_exact_mut(18) {
                        b[..2].copy_from_slice(&f16::from_f32(1.5).to_le_bytes());
                    }
                    for b in w8.chunks_exact_mut(34) {
                        b[..2].copy_from_slice(&f16::from_f32(-0.25).to_le_bytes());
                    }
                    let what = format!("{rows}x{nb} quant byte {byte:#04x}, act {a}");
                    check_rows(&format!("q4_0 {what}"), rows, &w4, &x[..], |k| k.q4_0);
                    check_rows(&format!("q4_0_repacked {what}"), rows, &w4, &x[..], |k| {
                        k.q4_0_repacked
                    });
                    check_rows(&format!("q8_0 {what}"), rows, &w8, &x[..], |k| k.q8_0);
                }
            }
            for &a in &acts {
                let mut xb = BlockQ8K::ZERO;
                xb.qs = [a; QK_K];
                xb.bsums = [16 * a as i16; 16];
                xb.d = 0.75;
                let x = vec![xb; nb.min(4)];
                for byte in [0x00u8, 0xff, 0x55, 0xaa] {
                    for sc in [127i8, -128, 0, 1] {
                        let mut w = vec![byte; rows * x.len() * 210];
                        for b in w.chunks_exact_mut(210) {
                            b[192..208].fill(sc as u8);
                            b[208..].copy_from_slice(&f16::from_f32(2.0).to_le_bytes());
                        }
                        let what = format!("q6_k {rows}x{nb} byte {byte:#04x} scale {sc} act {a}");
                        check_rows(&what, rows, &w, &x[..], |k| k.q6_k);
                    }
                }
            }
        }
    }
}

/// Rows long enough to cross the kernels' internal limits (activation scales prepared once
/// per call up to 256 blocks; Q4_0 prepared chunks of 512 blocks).
#[test]
fn long_rows() {
    for rows in [9, 16, 17] {
        for nb in [255, 256, 257, 511, 512, 513, 600] {
            for (i, f) in [Flavor::Typical, Flavor::Bytes].into_iter().enumerate() {
                q8_0_case(rows, nb, 1, 3, f, (rows * 1000 + nb * 2 + i) as u64, false);
            }
        }
    }
}

#[test]
fn q8_0_with_minus_128_activations() {
    for rows in [1, 4, 7, 13] {
        for nb in [1, 2, 9, 24] {
            q8_0_case(
                rows,
                nb,
                1,
                0,
                Flavor::Bytes,
                (rows * 100 + nb) as u64,
                true,
            );
        }
    }
}

#[test]
fn q6_k_sweep_rows_and_columns() {
    for rows in 1..=13 {
        for nb in 1..=4 {
            for f in [Flavor::Typical, Flavor::Bytes, Flavor::Extreme] {
                q6_k_case(rows, nb, 1, 0, f, (rows * 1000 + nb) as u64);
            }
        }
    }
}

/// Every column count 1..=320 (all leftover shapes of the 32-wide step), all row counts.
#[test]
fn float_sweep_rows_and_columns() {
    for rows in 1..=5 {
        for n in 1..=320 {
            float_case(rows, n, 0, Flavor::Typical, (rows * 1000 + n) as u64);
        }
    }
    for rows in 6..=13 {
        for n in [1, 7, 8, 12, 31, 32, 45, 64, 100, 288] {
            for f in [Flavor::Typical, Flavor::Bytes, Flavor::Extreme] {
                float_case(rows, n, 0, f, (rows * 1000 + n) as u64);
            }
        }
    }
}

#[test]
fn quantize_ties_zeros_and_spikes() {
    for seed in 0..200 {
        let mut g = Rng(seed);
        for f in [Flavor::Typical, Flavor::Bytes, Flavor::Extreme] {
            let x = activation(&mut g, f, 1024, QK8_0);
            check_quantize_q8_0(&x, &format!("seed {seed} {f:?}"));
            let x = activation(&mut g, f, 1024, QK_K);
            check_quantize_q8_k(&x, &format!("seed {seed} {f:?}"));
        }
    }
}

#[test]
fn quantize_any_bits() {
    // NaN and infinity included: the quants are then defined by the scalar's bit
    // arithmetic, and the AVX2 path must follow it.
    for seed in 0..200 {
        let mut g = Rng(seed);
        let x: Vec<f32> = (0..512).map(|_| f32::from_bits(g.next() as u32)).collect();
        check_quantize_q8_0(&x, &format!("bits seed {seed}"));
        check_quantize_q8_k(&x, &format!("bits seed {seed}"));
    }
}

#[test]
fn empty_and_short_inputs() {
    // No rows, no blocks, rows shorter than one block: nothing to read, nothing to panic.
    let x = [BlockQ8_0::ZERO; 2];
    for w in [&[][..], &[1u8; 5][..], &[1u8; 17][..]] {
        for rows in [1, 3] {
            if w.len() >= rows {
                check_rows("q4_0 short", rows, w, &x[..], |k| k.q4_0);
                check_rows("q4_0_repacked short", rows, w, &x[..], |k| k.q4_0_repacked);
                check_rows("q8_0 short", rows, w, &x[..], |k| k.q8_0);
            }
        }
        for k in natives().into_iter().chain([scalar()]) {
            (k.q8_0)(w, &x, &mut []);
            (k.q4_0_repacked)(w, &x, &mut []);
            (k.f32)(w, &[], &mut []);
        }
    }
    check_rows("q6_k no x", 2, &[0u8; 420], &[][..], |k| k.q6_k);
    check_rows("f32 no x", 2, &[0u8; 16], &[][..], |k| k.f32);
    check_rows("f16 no x", 2, &[0u8; 16], &[][..], |k| k.f16);
    check_quantize_q8_0(&[1.0; 31], "short");
    check_quantize_q8_k(&[1.0; 255], "short");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn q4_0_q8_0_equal_scalar(
        rows in 1usize..=13, nb in 1usize..=80, dx in 0usize..3, extra in 0usize..40,
        f in flavor(), seed in any::<u64>(), minus_128 in proptest::bool::weighted(0.2),
    ) {
        q8_0_case(rows, nb, dx, extra, f, seed, minus_128);
    }

    #[test]
    fn q6_k_equals_scalar(
        rows in 1usize..=13, nb in 1usize..=8, dx in 0usize..3, extra in 0usize..300,
        f in flavor(), seed in any::<u64>(),
    ) {
        q6_k_case(rows, nb, dx, extra, f, seed);
    }

    #[test]
    fn f16_f32_equal_scalar(
        rows in 1usize..=13, n in 1usize..=700, extra in 0usize..9,
        f in flavor(), seed in any::<u64>(),
    ) {
        float_case(rows, n, extra, f, seed);
    }

    #[test]
    fn quantize_equals_scalar(blocks in 1usize..=12, f in flavor(), seed in any::<u64>()) {
        let mut g = Rng(seed);
        let x = activation(&mut g, f, blocks * QK_K, QK8_0);
        check_quantize_q8_0(&x, "q8_0 blocks");
        let x = activation(&mut g, f, blocks * QK_K, QK_K);
        check_quantize_q8_k(&x, "q8_k blocks");
        // Lengths that are not a whole number of blocks: the tail is ignored.
        check_quantize_q8_0(&x[..x.len() - 5], "ragged");
        check_quantize_q8_k(&x[..x.len() - 5], "ragged");
    }
}
