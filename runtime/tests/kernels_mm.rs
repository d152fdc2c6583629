//! Multi-position kernels against the single-position row kernels of the same table: every
//! output (row, position) must carry the same bits, whatever the shape and the data.

mod common;
use common::Rng;

use half::f16;
use mote_runtime::kernels::dispatch::{MmQ8_0, RowsQ8_0};
use mote_runtime::kernels::Kernels;
use mote_runtime::quant::{BlockQ8_0, QK8_0};
use proptest::prelude::*;

impl Rng {
    /// An f16 scale, now and then an extreme one.
    fn scale(&mut self) -> f16 {
        match self.next() % 16 {
            0 => f16::from_f32(0.0),
            1 => f16::MAX,
            2 => f16::from_bits(1),
            _ => f16::from_f32(((self.next() % 2000) as f32 - 1000.0) / 4096.0),
        }
    }

    /// A quant in `-127..=127`, now and then an extreme.
    fn quant(&mut self) -> i8 {
        match self.next() % 16 {
            0 => 127,
            1 => -127,
            _ => self.next() as i8,
        }
        .max(-127)
    }
}

/// `rows` rows of `nb` blocks of `block` bytes each (f16 scale, then random quant bytes).
fn weights(rng: &mut Rng, rows: usize, nb: usize, block: usize) -> Vec<u8> {
    let mut w = Vec::with_capacity(rows * nb * block);
    for _ in 0..rows * nb {
        w.extend_from_slice(&rng.scale().to_bits().to_le_bytes());
        for _ in 2..block {
            w.push(rng.quant() as u8);
        }
    }
    w
}

/// `n` positions of `stride` blocks each (only the first `nb` of each are read).
fn activations(rng: &mut Rng, n: usize, stride: usize) -> Vec<BlockQ8_0> {
    (0..n * stride)
        .map(|_| BlockQ8_0 {
            d: rng.scale(),
            qs: core::array::from_fn(|_| rng.quant()),
        })
        .collect()
}

fn check(
    name: &str,
    mm: MmQ8_0,
    rows_k: RowsQ8_0,
    block: usize,
    shape: (u64, usize, usize, usize, usize),
) {
    let (seed, n, rows, nb, pad) = shape;
    let mut rng = Rng(seed);
    let w = weights(&mut rng, rows, nb, block);
    let stride = nb + pad;
    let x = activations(&mut rng, n, stride);
    let mut got = vec![f32::NAN; n * rows];
    mm(&w, &x, stride, n, &mut got);
    let mut want = vec![0.0f32; rows];
    for b in 0..n {
        rows_k(&w, &x[b * stride..][..nb], &mut want);
        for (r, &v) in want.iter().enumerate() {
            let g = got[b * rows + r];
            assert!(
                g.to_bits() == v.to_bits() || (g.is_nan() && v.is_nan()),
                "{name}: row {r} position {b} of {rows}x{nb} blocks, {n} positions: mm {g:e} != rows {v:e}"
            );
        }
    }
}

fn shapes() -> impl Strategy<Value = (u64, usize, usize, usize, usize)> {
    (
        any::<u64>(),
        1usize..=9,
        1usize..=37,
        1usize..=80,
        0usize..=3,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn q4_0_repacked_mm_matches_rows(shape in shapes()) {
        for k in Kernels::available() {
            if let Some(mm) = k.q4_0_repacked_mm {
                check(&format!("{k:?} q4_0_repacked"), mm, k.q4_0_repacked, 2 + QK8_0 / 2, shape);
            }
        }
    }

    #[test]
    fn q8_0_mm_matches_rows(shape in shapes()) {
        for k in Kernels::available() {
            if let Some(mm) = k.q8_0_mm {
                check(&format!("{k:?} q8_0"), mm, k.q8_0, 2 + QK8_0, shape);
            }
        }
    }
}

/// A table offering a multi-position kernel on this CPU must be checked above.
#[test]
fn x86_has_q4_0_mm() {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2")
        && is_x86_feature_detected!("fma")
        && is_x86_feature_detected!("f16c")
    {
        let k = Kernels::get(mote_runtime::kernels::Backend::Avx2).unwrap();
        assert!(k.q4_0_repacked_mm.is_some());
        if let Some(k) = Kernels::get(mote_runtime::kernels::Backend::Avx512) {
            assert!(k.q4_0_repacked_mm.is_some() && k.q8_0_mm.is_some());
        }
    }
}
