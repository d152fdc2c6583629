//! Stack use, measured by painting: the reset code fills the whole stack with
//! [`STACK_PAINT`], and whatever has been on the stack since has scrubbed the paint off.
//! The paint left above the stack's bottom is the part never used.

use core::ptr::read_volatile;
use mote_console::StackGauge;

/// The word the stack is painted with: cortex-m-rt's `paint-stack` value, and what
/// qemu-virt's reset code writes.
pub const STACK_PAINT: u32 = 0xCCCC_CCCC;

/// A descending stack, `bottom..top`, painted with [`STACK_PAINT`] at reset.
pub struct PaintedStack {
    bottom: *const u32,
    top: *const u32,
}

impl PaintedStack {
    /// # Safety
    /// `bottom..top` is the whole stack (it grows down from `top`), both word-aligned; it
    /// was filled with [`STACK_PAINT`] before anything ran on it; and it stays mapped and
    /// readable while this value is used.
    pub const unsafe fn new(bottom: *const u32, top: *const u32) -> Self {
        PaintedStack { bottom, top }
    }
}

impl StackGauge for PaintedStack {
    /// Bytes from the top down to the lowest word without paint. A word the program wrote
    /// with the paint's value looks unused, so this can be low by a few words, never high.
    fn used(&self) -> usize {
        let words = self.size() / 4;
        let mut unused = 0;
        // SAFETY: `new`'s contract: every word of bottom..top is mapped and readable. The
        // words below the deepest live frame belong to no Rust object, and the scan stops
        // at the first word that is not paint, at or below that frame; volatile, because
        // the compiler cannot know what the reset code and earlier calls wrote there.
        while unused < words && unsafe { read_volatile(self.bottom.add(unused)) } == STACK_PAINT {
            unused += 1;
        }
        (words - unused) * 4
    }

    fn size(&self) -> usize {
        self.top as usize - self.bottom as usize
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec;

    #[test]
    fn the_high_water_mark_is_where_the_paint_ends() {
        let mut mem = vec![STACK_PAINT; 64];
        let gauge = |mem: &[u32]| {
            // SAFETY: `mem` is the "stack", painted, and outlives the gauge.
            let s = unsafe { PaintedStack::new(mem.as_ptr(), mem.as_ptr().add(mem.len())) };
            (s.used(), s.size())
        };
        assert_eq!(gauge(&mem), (0, 256));
        // Used down to word 40 once, then shallower: the deepest use counts.
        mem[40] = 0;
        mem[50..].fill(7);
        assert_eq!(gauge(&mem), (24 * 4, 256));
        mem[0] = 1;
        assert_eq!(gauge(&mem), (256, 256));
    }
}
