//! Memory bandwidth as STREAM measures it (McCalpin's copy, scale, add and triad over f64
//! arrays much larger than the last-level cache), plus a read-only sum, the access pattern
//! of a matrix-vector product over streamed weights. Bytes are counted as STREAM counts
//! them: the arrays read plus the array written, without write-allocate traffic.

use std::hint::black_box;
use std::thread;
use std::time::Instant;

/// Bytes per array by default: 64 MiB, twice a 32 MiB L3.
pub const DEFAULT_ARRAY_BYTES: usize = 64 << 20;

/// Median GB/s (10^9 bytes per second) of each kernel at one thread count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bandwidth {
    pub threads: usize,
    pub copy: f64,
    pub scale: f64,
    pub add: f64,
    pub triad: f64,
    /// Σ a[i], the read-only stream.
    pub read: f64,
}

/// Run `f(chunk index, range)` over `0..n` split into `threads` contiguous chunks, one per
/// thread (the caller runs the first); returns the wall time in seconds.
fn timed(threads: usize, n: usize, f: &(dyn Fn(usize, std::ops::Range<usize>) + Sync)) -> f64 {
    let per = n.div_ceil(threads);
    let chunk = |t: usize| (t * per).min(n)..((t + 1) * per).min(n);
    let start = Instant::now();
    thread::scope(|s| {
        for t in 1..threads {
            s.spawn(move || f(t, chunk(t)));
        }
        f(0, chunk(0));
    });
    start.elapsed().as_secs_f64()
}

/// A shared f64 array that threads write at disjoint ranges.
struct Shared(*mut f64);
// SAFETY: every use writes only the range its thread was given (the ranges of `timed` are
// disjoint) while the owning vector outlives the scope.
unsafe impl Sync for Shared {}

impl Shared {
    /// # Safety
    /// No other thread touches `r` while the slice lives; `r` is inside the array.
    #[allow(clippy::mut_from_ref)]
    unsafe fn slice(&self, r: std::ops::Range<usize>) -> &mut [f64] {
        // SAFETY: the caller's contract.
        unsafe { std::slice::from_raw_parts_mut(self.0.add(r.start), r.len()) }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// STREAM on `threads` threads over three arrays of `array_bytes` each, `reps` repetitions
/// (the first of each kernel is a warm-up and not counted).
pub fn measure(threads: usize, array_bytes: usize, reps: usize) -> Bandwidth {
    let threads = threads.max(1);
    let n = (array_bytes / 8).max(threads);
    let (mut a, mut b, mut c) = (vec![0.0f64; n], vec![0.0f64; n], vec![0.0f64; n]);
    let (pa, pb, pc) = (
        Shared(a.as_mut_ptr()),
        Shared(b.as_mut_ptr()),
        Shared(c.as_mut_ptr()),
    );
    // First touch by the thread that later uses each range.
    timed(threads, n, &|_, r| {
        // SAFETY: `timed` hands each thread its own range of the three arrays.
        let (a, b, c) = unsafe { (pa.slice(r.clone()), pb.slice(r.clone()), pc.slice(r)) };
        a.fill(1.0);
        b.fill(2.0);
        c.fill(0.0);
    });
    let q = 3.0f64;
    let mut t = [vec![], vec![], vec![], vec![], vec![]];
    for rep in 0..reps.max(1) + 1 {
        let s = [
            timed(threads, n, &|_, r| {
                // SAFETY: `timed` hands each thread its own range of the arrays.
                let (a, c) = unsafe { (pa.slice(r.clone()), pc.slice(r)) };
                c.copy_from_slice(a);
            }),
            timed(threads, n, &|_, r| {
                // SAFETY: as above.
                let (b, c) = unsafe { (pb.slice(r.clone()), pc.slice(r)) };
                for (b, &c) in b.iter_mut().zip(c.iter()) {
                    *b = q * c;
                }
            }),
            timed(threads, n, &|_, r| {
                // SAFETY: as above.
                let (a, b, c) = unsafe { (pa.slice(r.clone()), pb.slice(r.clone()), pc.slice(r)) };
                for ((c, &a), &b) in c.iter_mut().zip(a.iter()).zip(b.iter()) {
                    *c = a + b;
                }
            }),
            timed(threads, n, &|_, r| {
                // SAFETY: as above.
                let (a, b, c) = unsafe { (pa.slice(r.clone()), pb.slice(r.clone()), pc.slice(r)) };
                for ((a, &b), &c) in a.iter_mut().zip(b.iter()).zip(c.iter()) {
                    *a = b + q * c;
                }
            }),
            timed(threads, n, &|_, r| {
                // SAFETY: as above (read only).
                let a = unsafe { pa.slice(r) };
                // Integer lanes so the sum vectorizes (no float reassociation needed).
                let mut s = [0u64; 8];
                for ch in a.chunks_exact(8) {
                    for (s, v) in s.iter_mut().zip(ch) {
                        *s = s.wrapping_add(v.to_bits());
                    }
                }
                black_box(s);
            }),
        ];
        if rep > 0 {
            for (t, s) in t.iter_mut().zip(s) {
                t.push(s);
            }
        }
    }
    black_box((&a, &b, &c));
    let bytes = n as f64 * 8.0;
    let gbs = |t: &Vec<f64>, arrays: f64| arrays * bytes / median(t.clone()) / 1e9;
    Bandwidth {
        threads,
        copy: gbs(&t[0], 2.0),
        scale: gbs(&t[1], 2.0),
        add: gbs(&t[2], 3.0),
        triad: gbs(&t[3], 3.0),
        read: gbs(&t[4], 1.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_arrays_give_finite_positive_bandwidths() {
        for threads in [1, 2, 3] {
            let b = measure(threads, 1 << 16, 2);
            assert_eq!(b.threads, threads);
            for v in [b.copy, b.scale, b.add, b.triad, b.read] {
                assert!(v.is_finite() && v > 0.0, "{b:?}");
            }
        }
    }
}
