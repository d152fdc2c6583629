//! The allocator of the `mote` binary and the examples: mimalloc, told to keep freed memory.
//!
//! A training step allocates and frees the same large buffers every step (activations,
//! gradients, logits of tens of MB). glibc's allocator hands them back to the kernel, and
//! mimalloc by default purges them after 10 ms; either way the next step faults them in
//! again and the kernel zeroes every page (a third of a step's time at 15M weights).

use std::os::raw::{c_int, c_long};

pub use mimalloc::MiMalloc;

// `mi_option_purge_delay` in mimalloc.h (v3's `mi_option_e`).
const MI_OPTION_PURGE_DELAY: c_int = 15;

extern "C" {
    fn mi_option_set(option: c_int, value: c_long);
}

/// Makes mimalloc keep the memory it frees for reuse. Call at the start of `main` in a
/// program whose global allocator is [`MiMalloc`].
pub fn keep_freed_memory() {
    // SAFETY: `mi_option_set` only stores an option value; -1 for the purge delay is
    // documented as "never purge".
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}
