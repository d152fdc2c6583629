//! A block of 32-bit memory-mapped registers, read and written volatile: what every board's
//! UART driver stands on.

use core::ptr::{read_volatile, write_volatile};

pub struct Registers {
    base: *mut u32,
}

impl Registers {
    /// # Safety
    /// `base` is the address of a device's register block (mapped as device memory where
    /// the core has an MMU), every offset later passed to `read`/`write` lies inside it, and
    /// nothing else drives that device while this value is used.
    pub unsafe fn new(base: usize) -> Self {
        Registers {
            base: base as *mut u32,
        }
    }

    /// The register `offset` bytes into the block.
    pub fn read(&self, offset: usize) -> u32 {
        // SAFETY: `new`'s contract: `base` points at the register block and `offset` lies
        // inside it.
        unsafe { read_volatile(self.base.byte_add(offset)) }
    }

    pub fn write(&mut self, offset: usize, value: u32) {
        // SAFETY: as in `read`; `&mut self` keeps writes from this value exclusive.
        unsafe { write_volatile(self.base.byte_add(offset), value) }
    }
}
