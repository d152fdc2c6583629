//! Keeping a pool worker off its caller's CPU (Linux).
//!
//! Linux may start a worker on its caller's CPU, or wake a parked one there, and leave
//! them together for 100 ms or more while another CPU idles; two spinning threads on one
//! CPU run a stories260K prompt ~4× slower than on two (14k against 60k tokens/s). So a
//! worker that finds itself on the caller's CPU moves itself to another allowed CPU and
//! then lets the scheduler place it freely again: no lasting pinning.

#[cfg(target_os = "linux")]
mod linux {
    use core::mem::{size_of, zeroed};

    /// The CPU the calling thread runs on now.
    pub fn current_cpu() -> Option<usize> {
        // SAFETY: no arguments; returns −1 on failure.
        let cpu = unsafe { libc::sched_getcpu() };
        usize::try_from(cpu).ok()
    }

    fn affinity() -> Option<libc::cpu_set_t> {
        // SAFETY: an all-zero `cpu_set_t` is the empty set.
        let mut set: libc::cpu_set_t = unsafe { zeroed() };
        // SAFETY: pid 0 is the calling thread; `set` is a writable `cpu_set_t` of the
        // size passed.
        let rc = unsafe { libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &mut set) };
        (rc == 0).then_some(set)
    }

    fn set_affinity(set: &libc::cpu_set_t) -> bool {
        // SAFETY: pid 0 is the calling thread; `set` is a valid `cpu_set_t` of the size
        // passed.
        unsafe { libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), set) == 0 }
    }

    /// How many CPUs the calling thread may run on (0 if unknown).
    pub fn cpus() -> usize {
        affinity().map_or(0, |set| allowed(&set).count())
    }

    /// The CPUs the calling thread may run on, in order.
    fn allowed(set: &libc::cpu_set_t) -> impl Iterator<Item = usize> + '_ {
        // SAFETY: `CPU_ISSET` reads the set; indices are below its capacity.
        (0..libc::CPU_SETSIZE as usize).filter(move |&c| unsafe { libc::CPU_ISSET(c, set) })
    }

    /// Moves the calling thread, the pool's worker `index` (≥ 1), to one of its allowed CPUs
    /// other than `avoid`, then restores its affinity. Returns the CPU it moved to, or
    /// `None` when there is no other CPU or the calls fail (it then stays where it is).
    pub fn spread(index: usize, avoid: usize) -> Option<usize> {
        let original = affinity()?;
        let others: std::vec::Vec<usize> = allowed(&original).filter(|&c| c != avoid).collect();
        let target = *others.get((index - 1) % others.len().max(1))?;
        // SAFETY: an all-zero `cpu_set_t` is the empty set; `target < CPU_SETSIZE`.
        let mut one: libc::cpu_set_t = unsafe { zeroed() };
        // SAFETY: `target` came from the set's own index range.
        unsafe { libc::CPU_SET(target, &mut one) };
        // Restricting the mask migrates the thread before the call returns.
        let moved = set_affinity(&one);
        let now = current_cpu();
        let restored = set_affinity(&original);
        (moved && restored).then_some(now).flatten()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn spreading_moves_off_the_cpu_and_keeps_the_mask() {
            let Some(here) = current_cpu() else {
                panic!("sched_getcpu failed")
            };
            let before = affinity().expect("sched_getaffinity");
            let n = allowed(&before).count();
            let joined = std::thread::spawn(move || {
                let moved = spread(1, here);
                let after = affinity().expect("sched_getaffinity");
                (moved, allowed(&after).collect::<std::vec::Vec<_>>())
            })
            .join()
            .unwrap();
            let (moved, after) = joined;
            assert_eq!(after, allowed(&before).collect::<std::vec::Vec<_>>());
            if n > 1 {
                let cpu = moved.expect("a second CPU is allowed, so the worker moves");
                assert_ne!(cpu, here);
                assert!(after.contains(&cpu));
            } else {
                assert_eq!(moved, None);
            }
        }
    }
}

#[cfg(target_os = "linux")]
pub use linux::{cpus, current_cpu, spread};

/// Elsewhere the scheduler places threads as it likes.
#[cfg(not(target_os = "linux"))]
pub fn cpus() -> usize {
    0
}

#[cfg(not(target_os = "linux"))]
pub fn current_cpu() -> Option<usize> {
    None
}

#[cfg(not(target_os = "linux"))]
pub fn spread(_index: usize, _avoid: usize) -> Option<usize> {
    None
}
