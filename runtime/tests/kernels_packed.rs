//! Q4_0 and Q8_0 packed sixteen rows to a group: the layout round-trips, and every table's
//! kernels over it (and the portable fallback) give the bits of the scalar kernels on the
//! rows in place (repacked Q4_0, Q8_0), one position or several.

mod common;
use common::Rng;

use half::f16;
use mote_runtime::kernels::dispatch::{Packed, RowsQ8_0, SCALAR};
use mote_runtime::kernels::Kernels;
use mote_runtime::quant::interleaved::{self, GROUP_ROWS};
use mote_runtime::quant::{BlockQ8_0, QK8_0};
use proptest::prelude::*;

impl Rng {
    /// A scale of typical size, now and then zero, tiny or huge.
    fn scale(&mut self) -> f16 {
        match self.next() % 16 {
            0 => f16::ZERO,
            1 => f16::from_f32(6.0e-8),
            2 => f16::MAX,
            _ => f16::from_f32((self.next() % 2000) as f32 * 1e-5 - 0.01),
        }
    }
}

/// A packed type: its block bytes, packing, fallback kernel, table entry and the scalar
/// kernel on rows in place.
#[derive(Clone, Copy, Debug)]
enum Ty {
    Q4_0,
    Q8_0,
}

impl Ty {
    fn block(self) -> usize {
        match self {
            Ty::Q4_0 => 18,
            Ty::Q8_0 => 34,
        }
    }

    fn pack(self) -> fn(&[u8], usize, usize, &mut [u8]) -> bool {
        match self {
            Ty::Q4_0 => interleaved::pack_q4_0,
            Ty::Q8_0 => interleaved::pack_q8_0,
        }
    }

    fn unpack(self) -> fn(&[u8], usize, usize, &mut [u8]) -> bool {
        match self {
            Ty::Q4_0 => interleaved::unpack_q4_0,
            Ty::Q8_0 => interleaved::unpack_q8_0,
        }
    }

    fn fallback(self) -> RowsQ8_0 {
        match self {
            Ty::Q4_0 => interleaved::rows_q4_0,
            Ty::Q8_0 => interleaved::rows_q8_0,
        }
    }

    fn table(self, k: &Kernels) -> Option<Packed> {
        match self {
            Ty::Q4_0 => k.q4_0_packed,
            Ty::Q8_0 => k.q8_0_packed,
        }
    }

    fn in_place(self) -> RowsQ8_0 {
        match self {
            Ty::Q4_0 => SCALAR.q4_0_repacked,
            Ty::Q8_0 => SCALAR.q8_0,
        }
    }
}

fn ty() -> impl Strategy<Value = Ty> {
    prop_oneof![Just(Ty::Q4_0), Just(Ty::Q8_0)]
}

/// `rows` rows of `nb` blocks of `ty` (any quant byte, −128 included for Q8_0).
fn weights(g: &mut Rng, ty: Ty, rows: usize, nb: usize) -> Vec<u8> {
    let mut w = Vec::with_capacity(rows * nb * ty.block());
    for _ in 0..rows * nb {
        w.extend_from_slice(&g.scale().to_le_bytes());
        w.extend((0..ty.block() - 2).map(|_| g.next() as u8));
    }
    w
}

fn activations(g: &mut Rng, n: usize) -> Vec<BlockQ8_0> {
    (0..n)
        .map(|_| {
            let mut b = BlockQ8_0 {
                d: g.scale(),
                qs: [0; QK8_0],
            };
            for q in b.qs.iter_mut() {
                // Quantizers write −127..=127; −128 must work too.
                *q = g.next() as i8;
            }
            b
        })
        .collect()
}

fn pack(ty: Ty, w: &[u8], rows: usize, nb: usize) -> Vec<u8> {
    let mut p = vec![0u8; w.len()];
    assert!((ty.pack())(w, rows, nb, &mut p));
    p
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Every table's packed row kernel (or the fallback), against the scalar kernel in place.
fn rows_case(ty: Ty, seed: u64, groups: usize, nb: usize, extra_x: usize) {
    let mut g = Rng(seed);
    let rows = groups * GROUP_ROWS;
    let w = weights(&mut g, ty, rows, nb);
    let x = activations(&mut g, nb + extra_x);
    let p = pack(ty, &w, rows, nb);
    let mut want = vec![0.0f32; rows];
    (ty.in_place())(&w, &x[..nb], &mut want);
    let mut got = vec![f32::NAN; rows];
    (ty.fallback())(&p, &x[..nb], &mut got);
    assert_eq!(bits(&got), bits(&want), "{ty:?} fallback, {rows}x{nb}");
    for k in Kernels::available() {
        let Some(pk) = ty.table(k) else { continue };
        got.fill(f32::NAN);
        (pk.rows)(&p, &x[..nb], &mut got);
        assert_eq!(
            bits(&got),
            bits(&want),
            "{ty:?} {}, {rows}x{nb}",
            k.backend.name()
        );
        // Any whole groups, as threads split them.
        let half = (groups / 2) * GROUP_ROWS;
        let mut part = vec![f32::NAN; rows - half];
        (pk.rows)(&p[half * nb * ty.block()..], &x[..nb], &mut part);
        assert_eq!(
            bits(&part),
            bits(&want[half..]),
            "{}, tail",
            k.backend.name()
        );
    }
}

/// Every table's packed multi-position kernel against its row kernel per position.
fn mm_case(ty: Ty, seed: u64, groups: usize, nb: usize, n: usize, gap: usize) {
    let mut g = Rng(seed);
    let rows = groups * GROUP_ROWS;
    let w = weights(&mut g, ty, rows, nb);
    let stride = nb + gap;
    let x = activations(&mut g, (n - 1) * stride + nb);
    let p = pack(ty, &w, rows, nb);
    for k in Kernels::available() {
        let Some(pk) = ty.table(k) else { continue };
        let mut got = vec![f32::NAN; n * rows];
        (pk.mm)(&p, &x, stride, n, &mut got);
        for b in 0..n {
            let mut want = vec![0.0f32; rows];
            (ty.in_place())(&w, &x[b * stride..b * stride + nb], &mut want);
            let at = b * rows;
            assert_eq!(
                bits(&got[at..at + rows]),
                bits(&want),
                "{ty:?} {}, {rows}x{nb}, position {b} of {n}",
                k.backend.name()
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn pack_round_trips(
        ty in ty(), seed in any::<u64>(), groups in 1usize..4, nb in 1usize..40,
    ) {
        let mut g = Rng(seed);
        let rows = groups * GROUP_ROWS;
        let w = weights(&mut g, ty, rows, nb);
        let p = pack(ty, &w, rows, nb);
        let mut back = vec![0u8; w.len()];
        prop_assert!((ty.unpack())(&p, rows, nb, &mut back));
        prop_assert_eq!(&back, &w);
        // Any one block, as the embedding lookup of a packed tied head reads it.
        let bs = ty.block();
        let mut blk = [0u8; 34];
        for r in 0..rows {
            for b in 0..nb {
                prop_assert!(interleaved::block_of(&p, bs, nb, r, b, &mut blk));
                prop_assert_eq!(&blk[..bs], &w[(r * nb + b) * bs..][..bs]);
            }
        }
        prop_assert!(!interleaved::block_of(&p, bs, nb, rows, 0, &mut blk));
        prop_assert!(!interleaved::block_of(&p, bs, nb, 0, nb, &mut blk));
    }

    // Up to 140 blocks: past the chunks of prepared activations (64 for Q4_0, 128 Q8_0).
    #[test]
    fn packed_rows_equal_scalar(
        ty in ty(), seed in any::<u64>(), groups in 1usize..5, nb in 1usize..=140,
        extra in 0usize..2,
    ) {
        rows_case(ty, seed, groups, nb, extra);
    }

    #[test]
    fn packed_mm_equals_rows(
        ty in ty(), seed in any::<u64>(), groups in 1usize..4, nb in 1usize..=140,
        n in 1usize..=17, gap in 0usize..3,
    ) {
        mm_case(ty, seed, groups, nb, n, gap);
    }
}

#[test]
fn shapes_that_do_not_pack_are_refused() {
    let w = vec![0u8; 8 * 18];
    let mut p = vec![0u8; 8 * 18];
    assert!(!interleaved::pack_q4_0(&w, 8, 1, &mut p));
    let w = vec![0u8; 16 * 18];
    let mut short = vec![0u8; 16 * 18 - 1];
    assert!(!interleaved::pack_q4_0(&w, 16, 1, &mut short));
    assert!(!interleaved::packable(0) && !interleaved::packable(24) && interleaved::packable(32));
}

/// The AVX-512 table packs Q4_0 and Q8_0 (and must be offered on a CPU with its features).
#[cfg(target_arch = "x86_64")]
#[test]
fn avx512_packs_q4_0_and_q8_0() {
    use mote_runtime::kernels::Backend;
    let has = is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512vl")
        && is_x86_feature_detected!("avx512vnni");
    match Kernels::get(Backend::Avx512) {
        Some(k) => {
            assert!(k.q4_0_packed.is_some() && k.q8_0_packed.is_some());
            let s = k.streaming.unwrap();
            assert!(s.q4_0_packed.is_some() && s.q8_0_packed.is_some());
        }
        None => assert!(!has, "AVX-512 VNNI CPU without the AVX-512 table"),
    }
    let scalar = Kernels::get(Backend::Scalar).unwrap();
    assert!(scalar.q4_0_packed.is_none() && scalar.q8_0_packed.is_none());
}
