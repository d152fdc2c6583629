//! The Arm generic timer's virtual counter as the console's clock.

use core::arch::asm;

/// `CNTVCT_EL0` ticks at `CNTFRQ_EL0` Hz. QEMU derives the counter from its virtual clock,
/// which under `-icount shift=0` advances 1 ns per instruction; [`GenericTimer::icount`]
/// then reports instructions instead of seconds.
pub struct GenericTimer {
    freq: u64,
    instructions: bool,
}

impl GenericTimer {
    pub fn new(instructions: bool) -> Self {
        let freq: u64;
        // SAFETY: reading CNTFRQ_EL0 has no side effects and is allowed at EL1.
        unsafe { asm!("mrs {}, cntfrq_el0", out(reg) freq, options(nomem, nostack)) };
        GenericTimer {
            freq: freq.max(1),
            instructions,
        }
    }

    fn ticks(&self) -> u64 {
        let t: u64;
        // SAFETY: reading the counter has no side effects; the ISB keeps it from being read
        // ahead of the code being timed.
        unsafe { asm!("isb", "mrs {}, cntvct_el0", out(reg) t, options(nomem, nostack)) };
        t
    }
}

impl mote_board::Clock for GenericTimer {
    fn now(&self) -> u64 {
        if self.instructions {
            // 1 instruction = 1 ns of virtual time.
            (self.ticks() as u128 * 1_000_000_000 / self.freq as u128) as u64
        } else {
            self.ticks()
        }
    }

    fn ticks_per_second(&self) -> u64 {
        if self.instructions {
            1
        } else {
            self.freq
        }
    }

    fn unit(&self) -> &'static str {
        if self.instructions {
            "instr"
        } else {
            "s"
        }
    }
}
