//! The machine's measured f32 FMA peak, the yardstick for training throughput.
//!
//! Training a model of N weights costs about 6·N FLOP per token (2·N forward, 4·N
//! backward), so `6·N·tokens/s ÷ peak` is the fraction of the peak a training loop reaches.

use std::hint::black_box;
use std::sync::Barrier;
use std::time::Instant;

/// A measured FMA peak.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FmaPeak {
    pub threads: usize,
    /// FLOP/s (one FMA counts as two).
    pub flops: f64,
    /// The instruction set the loop used.
    pub isa: &'static str,
}

/// FLOP of one training step per token for a model of `params` weights.
pub fn train_flop_per_token(params: u64) -> f64 {
    6.0 * params as f64
}

/// The fraction of `peak` that training `params` weights at `tokens_per_s` reaches.
pub fn fraction_of_peak(params: u64, tokens_per_s: f64, peak: &FmaPeak) -> f64 {
    train_flop_per_token(params) * tokens_per_s / peak.flops
}

/// Independent accumulators per thread: more than FMA latency × FMA units (4 × 2 on
/// current x86 cores), so the loop is bound by throughput, not latency.
const ACCS: usize = 12;
/// Iterations of one run (~50 ms on a 3–4 GHz core).
const ITERS: u64 = 1 << 24;

/// The f32 FMA peak of `threads` threads: the median of `runs` timed runs.
pub fn fma_peak(threads: usize, runs: usize) -> FmaPeak {
    let threads = threads.max(1);
    let (isa, lanes) = isa();
    let mut rates: Vec<f64> = (0..runs.max(1))
        .map(|_| {
            let secs = timed_run(threads);
            (threads as u64 * ITERS * ACCS as u64 * lanes as u64 * 2) as f64 / secs
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    FmaPeak {
        threads,
        flops: rates[rates.len() / 2],
        isa,
    }
}

/// Seconds until the slowest of `threads` threads, started together, finishes its loop.
fn timed_run(threads: usize) -> f64 {
    let barrier = Barrier::new(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    let start = Instant::now();
                    black_box(kernel(black_box(ITERS)));
                    start.elapsed().as_secs_f64()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(f64::INFINITY))
            .fold(0.0, f64::max)
    })
}

#[cfg(target_arch = "x86_64")]
fn isa() -> (&'static str, usize) {
    if is_x86_feature_detected!("avx512f") {
        ("avx512f", 16)
    } else if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        ("avx2+fma", 8)
    } else {
        ("scalar", 1)
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn isa() -> (&'static str, usize) {
    ("scalar", 1)
}

#[cfg(target_arch = "x86_64")]
fn kernel(iters: u64) -> f32 {
    match isa().0 {
        // SAFETY: the CPU supports AVX-512F (checked by `isa`).
        "avx512f" => unsafe { x86::fma512(iters) },
        // SAFETY: the CPU supports AVX2 and FMA (checked by `isa`).
        "avx2+fma" => unsafe { x86::fma256(iters) },
        _ => scalar(iters),
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn kernel(iters: u64) -> f32 {
    scalar(iters)
}

fn scalar(iters: u64) -> f32 {
    let (a, b) = (black_box(0.999_99f32), black_box(1e-5f32));
    let mut acc = [black_box(0.5f32); ACCS];
    for _ in 0..iters {
        for x in &mut acc {
            *x = x.mul_add(a, b);
        }
    }
    acc.iter().sum()
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;
    use std::hint::black_box;

    use super::ACCS;

    // acc ← acc·a + b converges to 1: no overflow, no denormals. The constants go
    // through `black_box` so the compiler cannot fold the loop.
    #[target_feature(enable = "avx512f")]
    pub(super) fn fma512(iters: u64) -> f32 {
        let (a, b) = (
            _mm512_set1_ps(black_box(0.999_99)),
            _mm512_set1_ps(black_box(1e-5)),
        );
        let mut acc = [_mm512_set1_ps(black_box(0.5)); ACCS];
        for _ in 0..iters {
            for x in &mut acc {
                *x = _mm512_fmadd_ps(*x, a, b);
            }
        }
        let sum = acc
            .iter()
            .fold(_mm512_setzero_ps(), |s, &x| _mm512_add_ps(s, x));
        _mm512_reduce_add_ps(sum)
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn fma256(iters: u64) -> f32 {
        let (a, b) = (
            _mm256_set1_ps(black_box(0.999_99)),
            _mm256_set1_ps(black_box(1e-5)),
        );
        let mut acc = [_mm256_set1_ps(black_box(0.5)); ACCS];
        for _ in 0..iters {
            for x in &mut acc {
                *x = _mm256_fmadd_ps(*x, a, b);
            }
        }
        let sum = acc
            .iter()
            .fold(_mm256_setzero_ps(), |s, &x| _mm256_add_ps(s, x));
        let mut out = [0f32; 8];
        // SAFETY: `out` holds 8 f32, the width of one unaligned 256-bit store.
        unsafe { _mm256_storeu_ps(out.as_mut_ptr(), sum) };
        out.iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_converges_and_peak_is_positive() {
        // Each accumulator tends to b/(1−a) ≈ 1 (f32 rounding moves it by ~1e-3), and every
        // SIMD lane computes what the scalar loop does.
        let s = scalar(2_000_000);
        assert!((s / ACCS as f32 - 1.0).abs() < 0.01, "{s}");
        let lanes = isa().1 as f32;
        let k = kernel(2_000_000);
        assert!((k / (s * lanes) - 1.0).abs() < 1e-4, "{k} vs {s}·{lanes}");
        let p = FmaPeak {
            threads: 1,
            flops: 1e11,
            isa: "x",
        };
        assert!((fraction_of_peak(1_000_000, 5000.0, &p) - 0.3).abs() < 1e-12);
    }
}
