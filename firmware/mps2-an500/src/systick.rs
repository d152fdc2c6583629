//! SysTick, extended to 64 bits by counting wraps, as the console's clock.
//!
//! SysTick runs from the core clock (25 MHz on mps2-an500). QEMU derives it from its
//! virtual clock, which under `-icount shift=0` advances 1 ns per instruction: 40
//! instructions per tick. (QEMU has no DWT cycle counter to use instead.)

use core::sync::atomic::{AtomicU32, Ordering};
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::SYST;
use cortex_m_rt::exception;

const CORE_HZ: u64 = 25_000_000;
/// The 24-bit reload value: a wrap every 2^24 ticks (0.67 s at 25 MHz).
const RELOAD: u32 = 0x00ff_ffff;

static WRAPS: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    // Only this handler writes WRAPS; a load and a store cannot be interrupted by itself.
    WRAPS.store(
        WRAPS.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Relaxed,
    );
}

pub struct SysTickClock {
    _syst: SYST,
    instructions: bool,
}

impl SysTickClock {
    pub fn new(mut syst: SYST, instructions: bool) -> Self {
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(RELOAD);
        syst.clear_current();
        syst.enable_interrupt();
        syst.enable_counter();
        SysTickClock {
            _syst: syst,
            instructions,
        }
    }

    fn ticks(&self) -> u64 {
        // The exception is taken as the count reaches 0, so at 0 the wrap is already
        // counted and the period starts: 0, RELOAD, …, 1 are 0, 1, …, RELOAD ticks into it.
        // (This also makes the start continuous: `clear_current` leaves 0 without an
        // exception.) Re-read if a wrap happened between reading the count and the wraps.
        loop {
            let w = WRAPS.load(Ordering::Relaxed);
            let cur = SYST::get_current();
            if WRAPS.load(Ordering::Relaxed) == w {
                let into = (RELOAD + 1 - cur) & RELOAD;
                return ((w as u64) << 24) + into as u64;
            }
        }
    }
}

impl mote_board::Clock for SysTickClock {
    fn now(&self) -> u64 {
        if self.instructions {
            self.ticks() * (1_000_000_000 / CORE_HZ)
        } else {
            self.ticks()
        }
    }

    fn ticks_per_second(&self) -> u64 {
        if self.instructions {
            1
        } else {
            CORE_HZ
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
