//! Kernel tables side by side at the matrix shapes of stories15M and stories110M.
//!
//! Every table this CPU runs is measured (`Kernels::available()`), so a table registered in
//! `Kernels::get` shows up here with no change to this file; `TABLES` narrows the list.
//!
//! ```text
//! cargo bench -p mote-runtime --bench kernels -- --warm-up-time 1 --measurement-time 2
//! cargo bench -p mote-runtime --bench kernels -- 'q8_0/288x'      # a subset
//! ```
//!
//! Benchmark ids are `kernel/ROWSxCOLS/table`; throughput is in weights per second.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use half::f16;
use mote_runtime::kernels::dispatch::{MmQ8_0, RowsQ8_0};
use mote_runtime::kernels::{Backend, Kernels};
use mote_runtime::quant::{BlockQ8K, BlockQ8_0, QK8_0, QK_K};
use std::hint::black_box;

/// The tables to compare: every one this CPU runs. To pin a list instead, name them here,
/// e.g. `&[Backend::Scalar, Backend::Avx2]`; an empty list means all.
const TABLES: &[Backend] = &[];

/// Rows × columns: stories15M (dim 288, hidden 768, vocab 32000), then stories110M (dim
/// 768, hidden 2048).
const SHAPES: [(usize, usize); 8] = [
    (288, 288),
    (768, 288),
    (288, 768),
    (32000, 288),
    (768, 768),
    (2048, 768),
    (768, 2048),
    (32000, 768),
];

fn tables() -> Vec<&'static Kernels> {
    Kernels::available()
        .filter(|k| TABLES.is_empty() || TABLES.contains(&k.backend))
        .collect()
}

/// A small deterministic generator (the data's values do not matter, only its shape).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as u32
    }
    fn unit(&mut self) -> f32 {
        (self.next() >> 8) as f32 / (1u32 << 23) as f32 - 1.0
    }
    /// `rows` rows of `nb` blocks of `bs` bytes: random quants, a typical f16 scale at `at`.
    fn blocks(&mut self, rows: usize, nb: usize, bs: usize, at: usize) -> Vec<u8> {
        let mut w: Vec<u8> = (0..rows * nb * bs).map(|_| self.next() as u8).collect();
        for b in w.chunks_exact_mut(bs) {
            let d = f16::from_f32(0.001 + 0.01 * self.unit().abs());
            b[at..at + 2].copy_from_slice(&d.to_le_bytes());
        }
        w
    }
}

fn rows_benches(c: &mut Criterion) {
    let tables = tables();
    let scalar = Kernels::get(Backend::Scalar).unwrap();
    let mut g = Lcg(1);
    for (rows, cols) in SHAPES {
        let x: Vec<f32> = (0..cols).map(|_| g.unit() * 3.0).collect();
        let mut x8 = vec![BlockQ8_0::ZERO; cols / QK8_0];
        (scalar.quantize_q8_0)(&x, &mut x8);
        let mut xk = vec![BlockQ8K::ZERO; cols / QK_K];
        (scalar.quantize_q8_k)(&x, &mut xk);
        let xh: Vec<f16> = x.iter().map(|&v| f16::from_f32(v)).collect();
        let mut out = vec![0.0f32; rows];

        let w4 = g.blocks(rows, cols / QK8_0, 18, 0);
        let mut w8 = g.blocks(rows, cols / QK8_0, 34, 0);
        // Quantizers write Q8_0 quants in -127..=127 (a -128 sends the AVX2 kernel down
        // a slower exact path).
        for b in w8.chunks_exact_mut(34) {
            b[2..]
                .iter_mut()
                .filter(|q| **q == 0x80)
                .for_each(|q| *q = 0x81);
        }
        let mut run = |name: &str, f: &dyn Fn(&Kernels, &mut [f32])| {
            let mut group = c.benchmark_group(format!("{name}/{rows}x{cols}"));
            group.throughput(Throughput::Elements((rows * cols) as u64));
            for &k in &tables {
                group.bench_function(BenchmarkId::from_parameter(k.backend.name()), |b| {
                    b.iter(|| f(k, black_box(&mut out)))
                });
            }
            group.finish();
        };
        run("q4_0_repacked", &|k, o| (k.q4_0_repacked)(&w4, &x8, o));
        run("q4_0", &|k, o| (k.q4_0)(&w4, &x8, o));
        run("q8_0", &|k, o| (k.q8_0)(&w8, &x8, o));
        drop((w4, w8));
        if cols % QK_K == 0 {
            let w6 = g.blocks(rows, cols / QK_K, 210, 208);
            run("q6_k", &|k, o| (k.q6_k)(&w6, &xk, o));
        }
        let wh: Vec<u8> = (0..rows * cols)
            .flat_map(|_| f16::from_f32(g.unit()).to_le_bytes())
            .collect();
        run("f16", &|k, o| (k.f16)(&wh, &xh, o));
        drop(wh);
        let wf: Vec<u8> = (0..rows * cols)
            .flat_map(|_| g.unit().to_le_bytes())
            .collect();
        run("f32", &|k, o| (k.f32)(&wf, &x, o));
    }
}

fn quantize_benches(c: &mut Criterion) {
    let tables = tables();
    let mut g = Lcg(2);
    for n in [288, 768, 2048] {
        let x: Vec<f32> = (0..n).map(|_| g.unit() * 3.0).collect();
        let mut group = c.benchmark_group(format!("quantize_q8_0/{n}"));
        group.throughput(Throughput::Elements(n as u64));
        let mut y = vec![BlockQ8_0::ZERO; n / QK8_0];
        for &k in &tables {
            group.bench_function(BenchmarkId::from_parameter(k.backend.name()), |b| {
                b.iter(|| (k.quantize_q8_0)(black_box(&x), &mut y))
            });
        }
        group.finish();
        if n % QK_K == 0 {
            let mut group = c.benchmark_group(format!("quantize_q8_k/{n}"));
            group.throughput(Throughput::Elements(n as u64));
            let mut y = vec![BlockQ8K::ZERO; n / QK_K];
            for &k in &tables {
                group.bench_function(BenchmarkId::from_parameter(k.backend.name()), |b| {
                    b.iter(|| (k.quantize_q8_k)(black_box(&x), &mut y))
                });
            }
            group.finish();
        }
    }
}

/// A multi-position bench: name, weights, the table's kernel, its row kernel.
type MmCase<'a> = (
    &'static str,
    &'a [u8],
    fn(&Kernels) -> Option<MmQ8_0>,
    fn(&Kernels) -> RowsQ8_0,
);

/// Prompt-processing calls as the batched matmul makes them: 64 rows by 16 positions, each
/// table's multi-position kernel where it has one, else its row kernel position by
/// position (the scalar table's reference).
fn mm_benches(c: &mut Criterion) {
    const ROWS: usize = 64;
    const POS: usize = 16;
    let tables = tables();
    let scalar = Kernels::get(Backend::Scalar).unwrap();
    let mut g = Lcg(3);
    for cols in [288, 768, 2048] {
        let nb = cols / QK8_0;
        let x: Vec<f32> = (0..cols * POS).map(|_| g.unit() * 3.0).collect();
        let mut x8 = vec![BlockQ8_0::ZERO; nb * POS];
        for (xs, ys) in x.chunks_exact(cols).zip(x8.chunks_exact_mut(nb)) {
            (scalar.quantize_q8_0)(xs, ys);
        }
        let w4 = g.blocks(ROWS, nb, 18, 0);
        let w8 = g.blocks(ROWS, nb, 34, 0);
        let mut out = vec![0.0f32; ROWS * POS];
        let cases: [MmCase; 2] = [
            (
                "q4_0_repacked_mm",
                &w4,
                |k| k.q4_0_repacked_mm,
                |k| k.q4_0_repacked,
            ),
            ("q8_0_mm", &w8, |k| k.q8_0_mm, |k| k.q8_0),
        ];
        for (name, w, mm, rows) in cases {
            let mut group = c.benchmark_group(format!("{name}/{ROWS}x{cols}x{POS}"));
            group.throughput(Throughput::Elements((ROWS * cols * POS) as u64));
            for &k in &tables {
                group.bench_function(BenchmarkId::from_parameter(k.backend.name()), |b| {
                    b.iter(|| match mm(k) {
                        Some(f) => f(w, &x8, nb, POS, black_box(&mut out)),
                        None => {
                            for (xs, o) in x8.chunks_exact(nb).zip(out.chunks_exact_mut(ROWS)) {
                                rows(k)(w, xs, black_box(o));
                            }
                        }
                    })
                });
            }
            group.finish();
        }
    }
}

criterion_group!(benches, rows_benches, quantize_benches, mm_benches);
criterion_main!(benches);
