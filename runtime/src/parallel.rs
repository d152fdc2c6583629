//! Splitting work across threads without depending on how many there are.
//!
//! The runtime only needs "run this job on every worker and wait": [`Parallel`]. On a
//! host it is a persistent [`crate::thread_pool::ThreadPool`]; on a microcontroller it is
//! [`Serial`] (or a second core). Work is split by output rows, each row computed exactly
//! as in a single thread, so results do not depend on the thread count.

use core::marker::PhantomData;
use core::ops::Range;

/// Runs a job on every worker (the caller's thread included) and returns when all are done.
pub trait Parallel: Sync {
    /// Workers a job runs on, the caller included (≥ 1).
    fn threads(&self) -> usize;
    /// Call `job(i)` once for every worker index `i < threads()`, concurrently.
    fn run(&self, job: &(dyn Fn(usize) + Sync));
}

/// One thread: the caller does everything.
pub struct Serial;

impl Parallel for Serial {
    fn threads(&self) -> usize {
        1
    }
    fn run(&self, job: &(dyn Fn(usize) + Sync)) {
        job(0)
    }
}

/// The shared serial runner.
pub static SERIAL: Serial = Serial;

/// Worker `i` of `n`'s share of `0..len`, in whole units of `align` (the last share takes
/// the remainder).
pub fn share(len: usize, i: usize, n: usize, align: usize) -> Range<usize> {
    let units = len.div_ceil(align);
    let per = units.div_ceil(n.max(1));
    let start = (i * per * align).min(len);
    let end = ((i + 1) * per * align).min(len);
    start..end
}

/// A mutable `f32` buffer that workers write at disjoint indices.
///
/// Each worker reaches it only through [`Disjoint::slice`] with index ranges that no other
/// worker of the same job touches; the job scheduler guarantees the buffer outlives them.
pub struct Disjoint<'a> {
    ptr: *mut f32,
    len: usize,
    _buf: PhantomData<&'a mut [f32]>,
}

// SAFETY: workers only create slices at disjoint ranges (the `slice` contract), so sharing
// the pointer across threads cannot create aliasing mutable access.
unsafe impl Sync for Disjoint<'_> {}

impl<'a> Disjoint<'a> {
    pub fn new(buf: &'a mut [f32]) -> Self {
        Disjoint {
            ptr: buf.as_mut_ptr(),
            len: buf.len(),
            _buf: PhantomData,
        }
    }

    /// The elements `range` of the buffer.
    ///
    /// # Safety
    /// No other live slice obtained from this `Disjoint` may overlap `range`.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn slice(&self, range: Range<usize>) -> &mut [f32] {
        assert!(
            range.start <= range.end && range.end <= self.len,
            "range outside the buffer"
        );
        // SAFETY: in bounds (asserted); exclusive by the caller's contract; the buffer is
        // borrowed mutably for 'a by `new`.
        unsafe { core::slice::from_raw_parts_mut(self.ptr.add(range.start), range.len()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_cover_everything_once() {
        for len in 0..70 {
            for n in 1..5 {
                for align in [1, 4, 8] {
                    let mut seen = 0;
                    let mut next = 0;
                    for i in 0..n {
                        let r = share(len, i, n, align);
                        assert_eq!(r.start, next.min(len));
                        assert!(r.start.is_multiple_of(align) || r.start == len);
                        seen += r.len();
                        next = r.end;
                    }
                    assert_eq!(seen, len, "len {len} n {n} align {align}");
                }
            }
        }
    }
}
