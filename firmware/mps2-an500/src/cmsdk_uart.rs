//! The Arm CMSDK APB UART (mps2-an500's UART0 at 0x4000_4000) as an `embedded_io` port.
//!
//! A one-byte buffer each way, polled. Its only state bits are "TX full" and "RX full".

use core::convert::Infallible;
use embedded_io::{ErrorType, Read, ReadReady, Write};
use mote_board::mmio::Registers;

// Register offsets in bytes.
const DATA: usize = 0x00;
const STATE: usize = 0x04;
const CTRL: usize = 0x08;
const BAUDDIV: usize = 0x10;

const STATE_TX_FULL: u32 = 1 << 0;
const STATE_RX_FULL: u32 = 1 << 1;
const CTRL_TX_EN: u32 = 1 << 0;
const CTRL_RX_EN: u32 = 1 << 1;

pub struct CmsdkUart {
    regs: Registers,
}

impl CmsdkUart {
    /// # Safety
    /// `base` is the address of a CMSDK UART's registers and nothing else drives that UART
    /// while this value is used.
    pub unsafe fn new(base: usize) -> Self {
        CmsdkUart {
            // SAFETY: this function's contract, and the offsets used are the ones above.
            regs: unsafe { Registers::new(base) },
        }
    }

    /// Enable both directions at 115200 baud from the 25 MHz APB clock (QEMU ignores it).
    pub fn init(&mut self) {
        self.regs.write(BAUDDIV, 25_000_000 / 115_200);
        self.regs.write(CTRL, CTRL_TX_EN | CTRL_RX_EN);
        // QEMU (checked with 7.2) only resumes taking input from its character backend
        // after DATA has been read once; without this, piped input is never seen.
        let _ = self.regs.read(DATA);
    }

    fn rx_full(&self) -> bool {
        self.regs.read(STATE) & STATE_RX_FULL != 0
    }
}

impl ErrorType for CmsdkUart {
    type Error = Infallible;
}

impl Read for CmsdkUart {
    /// Blocks for the first byte, then takes any that are already waiting.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        if buf.is_empty() {
            return Ok(0);
        }
        while !self.rx_full() {}
        let mut n = 0;
        while n < buf.len() && self.rx_full() {
            buf[n] = self.regs.read(DATA) as u8;
            n += 1;
        }
        Ok(n)
    }
}

impl ReadReady for CmsdkUart {
    fn read_ready(&mut self) -> Result<bool, Infallible> {
        Ok(self.rx_full())
    }
}

impl Write for CmsdkUart {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        for &b in buf {
            while self.regs.read(STATE) & STATE_TX_FULL != 0 {}
            self.regs.write(DATA, b as u32);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        while self.regs.read(STATE) & STATE_TX_FULL != 0 {}
        Ok(())
    }
}
