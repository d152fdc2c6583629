//! The x86-64 attention kernels (scores, values, softmax, SwiGLU, f16 conversions) against
//! the scalar reference: the same bits for every input shape (ragged query tiles, key
//! counts, head dims and weight rows) and NaN-free values from typical to extreme.
//!
//! Like `kernels_x86.rs`, these fail rather than skip on a CPU without AVX2, FMA or F16C.
#![cfg(target_arch = "x86_64")]

mod common;
use common::Rng;

use half::f16;
use mote_runtime::kernels::attention::{AttnKernels, SCALAR, TILE};
use mote_runtime::kernels::{Backend, Kernels};
use proptest::prelude::*;

/// The distinct attention tables of the native backends this CPU runs (AVX2, and AVX-512
/// where present). Panics if this CPU cannot run the AVX2 one.
fn natives() -> Vec<&'static AttnKernels> {
    let k = Kernels::get(Backend::Avx2)
        .expect("this x86-64 CPU lacks AVX2, FMA or F16C: the kernels cannot be checked here");
    let mut v = vec![AttnKernels::for_kernels(k)];
    if let Some(k) = Kernels::get(Backend::Avx512) {
        let ak = AttnKernels::for_kernels(k);
        if !v.iter().any(|t| core::ptr::eq(*t, ak)) {
            v.push(ak);
        }
    }
    for ak in &v {
        assert!(
            !core::ptr::eq(*ak, &SCALAR),
            "a native backend without its own table"
        );
    }
    v
}

/// Equal bits (two NaNs count as equal: their payloads carry no meaning).
fn same(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn assert_same(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            same(g, w),
            "{what}: element {i}: native {g:e} ({:#010x}) != scalar {w:e} ({:#010x})",
            g.to_bits(),
            w.to_bits()
        );
    }
}

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// Uniform in [-1, 1).
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
    /// A value of the given flavor, never NaN.
    fn value(&mut self, f: Flavor) -> f32 {
        match f {
            Flavor::Typical => 2.0 * self.unit(),
            // Any exponent from subnormal to huge, either sign.
            Flavor::Wide => {
                let bits = self.next() as u32 & 0x807f_ffff | ((self.below(254) as u32) << 23);
                f32::from_bits(bits)
            }
            // Zeros, subnormals, f16's edges, infinities.
            Flavor::Extreme => {
                let s = if self.below(2) == 0 { 1.0 } else { -1.0 };
                s * match self.below(8) {
                    0 => 0.0,
                    1 => f32::from_bits(1 + self.below(0x7f_ffff) as u32),
                    2 => 65504.0,
                    3 => 65520.0 * (1.0 + self.unit().abs()),
                    4 => f32::INFINITY,
                    5 => 5.96e-8 * self.unit(),
                    _ => 8.0 * self.unit(),
                }
            }
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Flavor {
    Typical,
    Wide,
    Extreme,
}

fn flavor() -> impl Strategy<Value = Flavor> {
    prop_oneof![
        4 => Just(Flavor::Typical),
        1 => Just(Flavor::Wide),
        1 => Just(Flavor::Extreme)
    ]
}

fn round16(v: f32) -> f32 {
    f16::from_f32(v).to_f32()
}

fn refs(v: &[Vec<f32>]) -> Vec<&[f32]> {
    v.iter().map(|r| r.as_slice()).collect()
}

/// Scores of `m` queries against `n` keys of `hd` values at `stride`, both tables, both
/// cache types; the cache ends right after the last key.
fn check_scores(seed: u64, f: Flavor, hd: usize, extra: usize, n: usize, m: usize) {
    let mut g = Rng(seed);
    let stride = hd + extra;
    let len = if n == 0 { 0 } else { (n - 1) * stride + hd };
    let cache: Vec<f32> = (0..len).map(|_| g.value(f)).collect();
    let cache16: Vec<f16> = cache.iter().map(|&v| f16::from_f32(v)).collect();
    let q: Vec<Vec<f32>> = (0..m)
        .map(|_| (0..hd).map(|_| g.value(f)).collect())
        .collect();
    let q16: Vec<Vec<f32>> = q
        .iter()
        .map(|r| r.iter().map(|&v| round16(v)).collect())
        .collect();
    let run = |k: &AttnKernels| {
        let mut s32 = vec![0.0f32; m * n];
        let mut s16 = vec![0.0f32; m * n];
        (k.scores_f32)(&cache, stride, &refs(&q), n, &mut s32);
        (k.scores_f16)(&cache16, stride, &refs(&q16), n, &mut s16);
        (s32, s16)
    };
    let want = run(&SCALAR);
    for (t, native) in natives().into_iter().enumerate() {
        let got = run(native);
        let what = format!("table {t}, hd {hd} stride {stride} n {n} m {m}");
        assert_same(&format!("scores f32, {what}"), &got.0, &want.0);
        assert_same(&format!("scores f16, {what}"), &got.1, &want.1);
        // Each query of a tile scores as if alone.
        for (j, qj) in q16.iter().enumerate() {
            let mut one = vec![0.0f32; n];
            (native.scores_f16)(&cache16, stride, &[qj.as_slice()], n, &mut one);
            assert_same(&format!("alone, {what}"), &one, &got.1[j * n..(j + 1) * n]);
        }
    }
}

/// Weighted sums of `lens.len()` weight rows of ragged lengths over `dims` values stored
/// transposed (`stride` between dimensions); the cache ends right after the last one read.
fn check_values(seed: u64, f: Flavor, dims: usize, extra: usize, lens: &[usize]) {
    let mut g = Rng(seed);
    let nmax = lens.iter().copied().max().unwrap_or(0);
    let stride = nmax + extra;
    let len = if dims == 0 {
        0
    } else {
        (dims - 1) * stride + nmax
    };
    let cache: Vec<f32> = (0..len).map(|_| g.value(f)).collect();
    let cache16: Vec<f16> = cache.iter().map(|&v| f16::from_f32(v)).collect();
    // Softmax-like weights mostly; any sign and size sometimes.
    let signed = g.below(4) == 0;
    let w: Vec<Vec<f32>> = lens
        .iter()
        .map(|&n| {
            (0..n)
                .map(|_| {
                    if signed {
                        g.value(f)
                    } else {
                        g.unit().abs() * if g.below(8) == 0 { 0.0 } else { 1.0 }
                    }
                })
                .collect()
        })
        .collect();
    let w16: Vec<Vec<f32>> = w
        .iter()
        .map(|r| r.iter().map(|&v| round16(v)).collect())
        .collect();
    let run = |k: &AttnKernels| {
        let mut v32 = vec![vec![0.0f32; dims]; lens.len()];
        let mut v16 = vec![vec![0.0f32; dims]; lens.len()];
        let mut o: Vec<&mut [f32]> = v32.iter_mut().map(|r| r.as_mut_slice()).collect();
        (k.values_f32)(&cache, stride, &refs(&w), &mut o);
        let mut o: Vec<&mut [f32]> = v16.iter_mut().map(|r| r.as_mut_slice()).collect();
        (k.values_f16)(&cache16, stride, &refs(&w16), &mut o);
        (v32.concat(), v16.concat())
    };
    let want = run(&SCALAR);
    for (t, native) in natives().into_iter().enumerate() {
        let got = run(native);
        let what = format!("table {t}, dims {dims} stride {stride} lens {lens:?}");
        assert_same(&format!("values f32, {what}"), &got.0, &want.0);
        assert_same(&format!("values f16, {what}"), &got.1, &want.1);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn scores_equal_scalar(
        seed in any::<u64>(),
        f in flavor(),
        hd in prop_oneof![1usize..=130, Just(8usize), Just(48), Just(64), Just(128)],
        extra in prop_oneof![Just(0usize), 1usize..300],
        n in 0usize..=70,
        m in 1usize..=TILE,
    ) {
        check_scores(seed, f, hd, extra, n, m);
    }

    #[test]
    fn values_equal_scalar(
        seed in any::<u64>(),
        f in flavor(),
        dims in prop_oneof![1usize..=130, Just(8usize), Just(48), Just(64), Just(128)],
        extra in prop_oneof![Just(0usize), 1usize..300],
        lens in prop_oneof![
            // Consecutive prompt positions: lengths p, p + 1, ...
            (0usize..=70, 1usize..=TILE).prop_map(|(p, m)| (p..p + m).collect::<Vec<_>>()),
            proptest::collection::vec(0usize..=70, 1..=TILE),
        ],
    ) {
        check_values(seed, f, dims, extra, &lens);
    }

    #[test]
    fn softmax_equals_scalar(
        seed in any::<u64>(),
        lens in proptest::collection::vec(prop_oneof![0usize..=70, 70usize..=600], 1..=TILE),
        range in prop_oneof![Just(1.0f32), Just(10.0), Just(100.0), Just(300.0), Just(3000.0)],
        masked in 0u64..4,
    ) {
        let mut g = Rng(seed);
        let mut x: Vec<Vec<f32>> = lens
            .iter()
            .map(|&len| {
                let mut score = || match g.below(16) < masked {
                    true => f32::NEG_INFINITY,
                    false => range * g.unit(),
                };
                (0..len).map(|_| score()).collect()
            })
            .collect();
        let y = x.clone();
        let scale = [1.0, 0.125, 0.144_337_57][g.below(3) as usize];
        let f16 = g.below(2) == 0;
        let mut rx: Vec<&mut [f32]> = x.iter_mut().map(|r| r.as_mut_slice()).collect();
        (SCALAR.softmax)(&mut rx, scale, f16);
        for native in natives() {
            let mut y = y.clone();
            let mut ry: Vec<&mut [f32]> = y.iter_mut().map(|r| r.as_mut_slice()).collect();
            (native.softmax)(&mut ry, scale, f16);
            let what = format!("softmax, lens {lens:?} range {range} f16 {f16}");
            assert_same(&what, &y.concat(), &x.concat());
        }
    }

    #[test]
    fn silu_mul_equals_scalar(
        seed in any::<u64>(),
        len in prop_oneof![0usize..=70, 70usize..=600],
        range in prop_oneof![Just(1.0f32), Just(10.0), Just(100.0), Just(300.0)],
        up_extra in 0usize..3,
    ) {
        let mut g = Rng(seed);
        let mut x: Vec<f32> = (0..len).map(|_| range * g.unit()).collect();
        let u: Vec<f32> = (0..len.saturating_sub(up_extra)).map(|_| 2.0 * g.unit()).collect();
        let y0 = x.clone();
        (SCALAR.silu_mul)(&mut x, &u);
        for native in natives() {
            let mut y = y0.clone();
            (native.silu_mul)(&mut y, &u);
            assert_same(&format!("silu_mul, len {len} range {range}"), &y, &x);
        }
    }

    #[test]
    fn rope_rotate_equals_scalar(
        seed in any::<u64>(),
        head_dim in 1usize..=80,
        heads in 1usize..=4,
        rope_dims in 0usize..=80,
        pos in 0usize..5000,
    ) {
        let mut g = Rng(seed);
        let x: Vec<f32> = (0..head_dim * heads).map(|_| g.value(Flavor::Wide)).collect();
        let mut cs = vec![0.0; 2 * mote_runtime::kernels::rope_pairs(head_dim, rope_dims)];
        mote_runtime::kernels::rope_angles(&mut cs, head_dim, rope_dims, pos, 10000.0);
        let mut a = x.clone();
        (SCALAR.rope_rotate)(&mut a, head_dim, &cs);
        for native in natives() {
            let mut b = x.clone();
            (native.rope_rotate)(&mut b, head_dim, &cs);
            assert_same(&format!("rope, head_dim {head_dim} rope_dims {rope_dims}"), &b, &a);
        }
    }

    #[test]
    fn f16_conversions_equal_scalar(seed in any::<u64>(), len in 0usize..=70) {
        let mut g = Rng(seed);
        let x: Vec<f32> = (0..len)
            .map(|_| match g.below(3) {
                0 => g.value(Flavor::Wide),
                1 => g.value(Flavor::Extreme),
                // f16's range, ties included.
                _ => f32::from_bits(g.next() as u32 & 0x807f_e000 | 0x3000_1000),
            })
            .collect();
        for native in natives() {
            let (mut a, mut b) = (x.clone(), x.clone());
            (SCALAR.round_f16)(&mut a);
            (native.round_f16)(&mut b);
            assert_same("round_f16", &b, &a);
            let (mut a, mut b) = (vec![f16::ZERO; len], vec![f16::ZERO; len]);
            (SCALAR.to_f16)(&x, &mut a);
            (native.to_f16)(&x, &mut b);
            let bits = |v: &[f16]| v.iter().map(|h| h.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&b), bits(&a), "to_f16");
        }
    }
}

/// SiLU (and so ggml's exp) over a dense sample of every finite f32, tail-free lengths.
#[test]
fn silu_mul_equals_scalar_across_all_exponents() {
    let x: Vec<f32> = (0..1u32 << 20)
        .map(|i| f32::from_bits(i << 12 | (i & 0xfff)))
        .filter(|v| !v.is_nan())
        .collect();
    let x = &x[..x.len() - x.len() % 8];
    let u: Vec<f32> = (0..x.len()).map(|i| 1.0 + (i % 7) as f32 * 0.25).collect();
    let mut a = x.to_vec();
    (SCALAR.silu_mul)(&mut a, &u);
    for native in natives() {
        let mut b = x.to_vec();
        (native.silu_mul)(&mut b, &u);
        assert_same("silu_mul sweep", &b, &a);
    }
}

/// Deterministic shapes of the bench and reference models, every tile size.
#[test]
fn model_shapes_equal_scalar() {
    for (i, &(hd, stride)) in [(8, 32), (48, 288), (64, 768), (16, 64)].iter().enumerate() {
        for m in 1..=TILE {
            for n in [1, 7, 8, 9, 31, 32, 33, 64, 127, 128] {
                check_scores(
                    i as u64 * 1000 + n as u64,
                    Flavor::Typical,
                    hd,
                    stride - hd,
                    n,
                    m,
                );
                let lens: Vec<usize> = (n..n + m).collect();
                check_values(
                    i as u64 * 7 + m as u64,
                    Flavor::Typical,
                    hd,
                    stride - hd,
                    &lens,
                );
            }
        }
    }
}
