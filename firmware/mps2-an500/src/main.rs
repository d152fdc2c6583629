//! mote on QEMU's `mps2-an500`: Cortex-M7, CMSDK UART0, Arm DSP kernels, the model in flash
//! beside the code, the arena a static buffer sized at build time (see `memory.x`).
#![no_std]
#![no_main]

mod cmsdk_uart;
mod semihosting;
mod systick;

use core::fmt::Write as _;
use core::ptr::addr_of_mut;
use cortex_m_rt::{entry, exception, ExceptionFrame};

include!(concat!(env!("OUT_DIR"), "/board_config.rs"));

const UART0_BASE: usize = 0x4000_4000;

mote_board::board_statics!(model: env!("MOTE_MODEL_FILE"), arena_bytes: ARENA_BYTES);

// The stack's bounds from memory.x; cortex-m-rt's `paint-stack` paints between them.
extern "C" {
    static _stack_end: u32;
    static _stack_start: u32;
}
const _: () = assert!(cortex_m_rt::STACK_PAINT_VALUE == mote_board::STACK_PAINT);

#[entry]
fn main() -> ! {
    // `take` succeeds on the first call, which this is.
    let cp = cortex_m::Peripherals::take().unwrap();
    let clock = systick::SysTickClock::new(cp.SYST, ICOUNT);
    // SAFETY: UART0 of mps2-an500 is at UART0_BASE; only this value drives it (the panic
    // and fault paths run after `main` has stopped).
    let mut uart = unsafe { cmsdk_uart::CmsdkUart::new(UART0_BASE) };
    uart.init();
    // SAFETY: `main` runs once (cortex-m-rt's `entry`), and this is the only place that
    // names ARENA.
    let arena = unsafe { &mut (*addr_of_mut!(ARENA)).0 };
    // SAFETY: memory.x makes _stack_end.._stack_start the stack, a region of RAM of its
    // own, and cortex-m-rt painted all of it before calling `main`.
    let stack =
        unsafe { mote_board::PaintedStack::new(&raw const _stack_end, &raw const _stack_start) };
    let result = mote_board::boot(MODEL, arena, &mut uart, clock, Some(&stack), &CONFIG);
    if let Err(e) = &result {
        let _ = write!(Writer(&mut uart), "\r\nerror: {e}\r\n");
    }
    semihosting::exit(result.is_ok())
}

/// `core::fmt` output to the UART.
struct Writer<'a>(&'a mut cmsdk_uart::CmsdkUart);

impl core::fmt::Write for Writer<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        embedded_io::Write::write_all(self.0, s.as_bytes()).map_err(|_| core::fmt::Error)
    }
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    // SAFETY: `main` no longer runs; this is the last user of the UART.
    let mut uart = unsafe { cmsdk_uart::CmsdkUart::new(UART0_BASE) };
    let _ = write!(
        Writer(&mut uart),
        "\r\nhard fault at pc {:#x}\r\n",
        frame.pc()
    );
    semihosting::exit(false)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    // SAFETY: a panic ends `main`'s use of the UART; this is the last user.
    let mut uart = unsafe { cmsdk_uart::CmsdkUart::new(UART0_BASE) };
    let _ = write!(Writer(&mut uart), "\r\npanic: {info}\r\n");
    semihosting::exit(false)
}
