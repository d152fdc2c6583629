//! A persistent pool of worker threads (std only): spawned once, woken per job.
//!
//! A token's forward pass runs ~25 jobs, so waking must cost microseconds: workers spin on
//! a job counter for a while before parking, and the caller works on its own share. A
//! worker that finds itself on the caller's CPU moves off it ([`placement`]).

mod placement;

use crate::parallel::Parallel;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle, Thread};
use std::vec::Vec;

/// Busy-wait iterations before yielding the core (~microseconds).
const SPINS: u32 = 1 << 11;
/// Yields before a worker parks: keeps wake-ups fast on an idle core, cheap on a busy one.
const YIELDS: u32 = 1 << 10;

type Job = dyn Fn(usize) + Sync;

struct Shared {
    /// The current job, lifetime-erased; valid while `pending > 0`.
    job: AtomicPtr<&'static Job>,
    /// Bumped once per job; workers run each generation once.
    generation: AtomicUsize,
    /// Workers that have not finished the current job.
    pending: AtomicUsize,
    shutdown: AtomicBool,
    /// The CPU the caller ran on when it posted the current job (`usize::MAX`: unknown).
    caller_cpu: AtomicUsize,
    /// Whether every thread can have a CPU of its own, so sharing one is worth fixing.
    spread: bool,
}

/// A fixed set of worker threads, reused for every job.
pub struct ThreadPool {
    shared: Arc<Shared>,
    workers: Vec<(Thread, Option<JoinHandle<()>>)>,
}

impl ThreadPool {
    /// A pool running jobs on `threads` threads in all (the caller plus `threads − 1`).
    pub fn new(threads: usize) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            job: AtomicPtr::new(core::ptr::null_mut()),
            generation: AtomicUsize::new(0),
            pending: AtomicUsize::new(0),
            shutdown: AtomicBool::new(false),
            caller_cpu: AtomicUsize::new(usize::MAX),
            spread: threads > 1 && threads <= placement::cpus(),
        });
        let mut workers = Vec::new();
        for index in 1..threads.max(1) {
            let s = shared.clone();
            let handle = thread::Builder::new()
                .name(std::format!("mote-worker-{index}"))
                .spawn(move || worker(&s, index))?;
            workers.push((handle.thread().clone(), Some(handle)));
        }
        Ok(ThreadPool { shared, workers })
    }
}

fn worker(s: &Shared, index: usize) {
    let mut seen = 0;
    loop {
        let mut spins = 0;
        let generation = loop {
            let g = s.generation.load(Ordering::Acquire);
            if g != seen {
                break g;
            }
            if s.shutdown.load(Ordering::Acquire) {
                return;
            }
            spins += 1;
            if spins < SPINS {
                core::hint::spin_loop();
            } else if spins < SPINS + YIELDS {
                thread::yield_now();
            } else {
                // Unparked by `run` after it bumps the generation (a stale unpark only
                // makes this return early; the loop re-checks).
                thread::park();
            }
        };
        seen = generation;
        if s.spread {
            let caller = s.caller_cpu.load(Ordering::Relaxed);
            if caller != usize::MAX && placement::current_cpu() == Some(caller) {
                placement::spread(index, caller);
            }
        }
        let job = s.job.load(Ordering::Acquire);
        // SAFETY: `run` stored a pointer to a live `&Job` before bumping the generation and
        // does not return (so the job stays alive) until `pending` reaches zero below.
        let job: &Job = unsafe { *job };
        job(index);
        s.pending.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Parallel for ThreadPool {
    fn threads(&self) -> usize {
        self.workers.len() + 1
    }

    fn run(&self, job: &(dyn Fn(usize) + Sync)) {
        if self.workers.is_empty() {
            return job(0);
        }
        let s = &*self.shared;
        let mut job_ref: &(dyn Fn(usize) + Sync + '_) = job;
        let ptr: *mut &(dyn Fn(usize) + Sync + '_) = &mut job_ref;
        // SAFETY: only the lifetimes are erased; workers use the reference strictly before
        // `pending` drops to zero, which this function waits for before returning (and
        // `job_ref` lives on this frame until then).
        let erased: *mut &'static Job = unsafe { core::mem::transmute(ptr) };
        s.job.store(erased, Ordering::Release);
        if s.spread {
            let cpu = placement::current_cpu().unwrap_or(usize::MAX);
            s.caller_cpu.store(cpu, Ordering::Relaxed);
        }
        s.pending.store(self.workers.len(), Ordering::Release);
        s.generation.fetch_add(1, Ordering::AcqRel);
        for (t, _) in &self.workers {
            t.unpark();
        }
        job(0);
        let mut spins = 0u32;
        while s.pending.load(Ordering::Acquire) != 0 {
            // With more threads than free cores, give the workers the core.
            if spins < SPINS {
                spins += 1;
                core::hint::spin_loop();
            } else {
                thread::yield_now();
            }
        }
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::Release);
        for (t, h) in &mut self.workers {
            t.unpark();
            if let Some(h) = h.take() {
                let _ = h.join();
            }
        }
    }
}

impl core::fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ThreadPool({} threads)", self.threads())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    #[test]
    fn every_worker_runs_every_job_once() {
        for threads in 1..5 {
            let pool = ThreadPool::new(threads).unwrap();
            assert_eq!(pool.threads(), threads);
            for round in 0..300u64 {
                let hits = AtomicU64::new(0);
                pool.run(&|i| {
                    hits.fetch_add(1 << (8 * i), Ordering::Relaxed);
                });
                let want: u64 = (0..threads).map(|i| 1u64 << (8 * i)).sum();
                assert_eq!(hits.load(Ordering::Relaxed), want, "round {round}");
            }
        }
    }

    #[test]
    fn parked_workers_wake_up() {
        let pool = ThreadPool::new(2).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
        let hits = AtomicU64::new(0);
        pool.run(&|_| {
            hits.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(hits.load(Ordering::Relaxed), 2);
    }
}
