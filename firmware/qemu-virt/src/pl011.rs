//! The Arm PL011 UART (QEMU `virt` has one at 0x0900_0000) as an `embedded_io` port.
//!
//! Polled, 8N1, FIFOs on. Receive errors (framing, parity, overrun) are not reported: the
//! byte is passed on as read, and the console copes with garbage input.

use core::convert::Infallible;
use embedded_io::{ErrorType, Read, ReadReady, Write};
use mote_board::mmio::Registers;

// Register offsets in bytes.
const DR: usize = 0x00;
const FR: usize = 0x18;
const IBRD: usize = 0x24;
const FBRD: usize = 0x28;
const LCR_H: usize = 0x2c;
const CR: usize = 0x30;
const IMSC: usize = 0x38;

const FR_BUSY: u32 = 1 << 3;
const FR_RXFE: u32 = 1 << 4;
const FR_TXFF: u32 = 1 << 5;
const LCR_H_FEN: u32 = 1 << 4;
const LCR_H_WLEN8: u32 = 0b11 << 5;
const CR_UARTEN: u32 = 1 << 0;
const CR_TXE: u32 = 1 << 8;
const CR_RXE: u32 = 1 << 9;

pub struct Pl011 {
    regs: Registers,
}

impl Pl011 {
    /// # Safety
    /// `base` is the address of a PL011's registers, mapped as device memory, and nothing
    /// else drives that UART while this value is used.
    pub unsafe fn new(base: usize) -> Self {
        Pl011 {
            // SAFETY: this function's contract, and the offsets used are the ones above.
            regs: unsafe { Registers::new(base) },
        }
    }

    /// 115200 8N1 from the 24 MHz UART clock QEMU's `virt` gives it (QEMU ignores the rate;
    /// set for hardware with the same clock), FIFOs on, no interrupts.
    pub fn init(&mut self) {
        self.regs.write(CR, 0);
        self.regs.write(IMSC, 0);
        // 24e6 / (16 · 115200) = 13.02: IBRD 13, FBRD round(0.02 · 64) = 1.
        self.regs.write(IBRD, 13);
        self.regs.write(FBRD, 1);
        self.regs.write(LCR_H, LCR_H_WLEN8 | LCR_H_FEN);
        self.regs.write(CR, CR_UARTEN | CR_TXE | CR_RXE);
    }

    fn rx_empty(&self) -> bool {
        self.regs.read(FR) & FR_RXFE != 0
    }

    fn put(&mut self, b: u8) {
        while self.regs.read(FR) & FR_TXFF != 0 {}
        self.regs.write(DR, b as u32);
    }
}

impl ErrorType for Pl011 {
    type Error = Infallible;
}

impl Read for Pl011 {
    /// Blocks for the first byte, then takes what the FIFO holds.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        if buf.is_empty() {
            return Ok(0);
        }
        while self.rx_empty() {}
        let mut n = 0;
        while n < buf.len() && !self.rx_empty() {
            buf[n] = self.regs.read(DR) as u8;
            n += 1;
        }
        Ok(n)
    }
}

impl ReadReady for Pl011 {
    fn read_ready(&mut self) -> Result<bool, Infallible> {
        Ok(!self.rx_empty())
    }
}

impl Write for Pl011 {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        for &b in buf {
            self.put(b);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        while self.regs.read(FR) & FR_BUSY != 0 {}
        Ok(())
    }
}
