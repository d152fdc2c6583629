//! Where the console gets time for `/stats`.

/// A monotonic tick counter supplied by the board.
///
/// `now() / ticks_per_second()` is a time in [`Clock::unit`]s. Real boards count seconds
/// (the default unit); under `qemu -icount shift=0` a board can report instructions
/// instead (`ticks_per_second` 1, unit `"instr"`), which makes `/stats` deterministic.
pub trait Clock {
    /// Ticks since some fixed start; must not go backwards.
    fn now(&self) -> u64;
    /// Ticks in one [`Clock::unit`].
    fn ticks_per_second(&self) -> u64;
    /// The unit `/stats` reports time in; rates are per second only when this is `"s"`.
    fn unit(&self) -> &'static str {
        "s"
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> u64 {
        (**self).now()
    }
    fn ticks_per_second(&self) -> u64 {
        (**self).ticks_per_second()
    }
    fn unit(&self) -> &'static str {
        (**self).unit()
    }
}
