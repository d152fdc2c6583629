//! mote on QEMU's `virt` machine: Cortex-A72, bare metal at EL1, PL011 serial, NEON kernels.
//! The model is a separate image QEMU loads at 0x4400_0000 (see `link.x`).
#![no_std]
#![no_main]

mod pl011;
mod psci;
mod start;
mod timer;

use core::fmt::Write as _;
use core::ptr::addr_of_mut;

include!(concat!(env!("OUT_DIR"), "/board_config.rs"));

const UART_BASE: usize = 0x0900_0000;

mote_board::board_statics!(arena_bytes: ARENA_BYTES);

extern "C" {
    static __model_start: u8;
    static __model_end: u8;
    static __stack_bottom: u32;
    static __stack_top: u32;
}

#[no_mangle]
extern "C" fn kmain() -> ! {
    // SAFETY: the PL011 of `virt` is at UART_BASE, device memory with the MMU off; only
    // this value drives it (the panic and exception paths run after `kmain` has stopped).
    let mut uart = unsafe { pl011::Pl011::new(UART_BASE) };
    uart.init();
    // SAFETY: the linker script defines both symbols as the bounds of the model region,
    // which is RAM that QEMU's loader filled before reset and nothing writes afterwards.
    let region = unsafe {
        let start = &raw const __model_start;
        let len = (&raw const __model_end as usize) - (start as usize);
        core::slice::from_raw_parts(start, len)
    };
    // SAFETY: `kmain` runs once, and this is the only place that names ARENA.
    let arena = unsafe { &mut (*addr_of_mut!(ARENA)).0 };
    // SAFETY: link.x makes __stack_bottom..__stack_top the stack, and `_start` painted all
    // of it before setting the stack pointer.
    let stack =
        unsafe { mote_board::PaintedStack::new(&raw const __stack_bottom, &raw const __stack_top) };
    let result = match mote_board::model_in_region(region) {
        Ok(model) => mote_board::boot(
            model,
            arena,
            &mut uart,
            timer::GenericTimer::new(ICOUNT),
            Some(&stack),
            &CONFIG,
        ),
        Err(e) => Err(mote_board::BootError::Model(e)),
    };
    if let Err(e) = result {
        let _ = write!(Writer(&mut uart), "\r\nerror: {e}\r\n");
    }
    psci::system_off()
}

/// `core::fmt` output to the UART.
struct Writer<'a>(&'a mut pl011::Pl011);

impl core::fmt::Write for Writer<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        embedded_io::Write::write_all(self.0, s.as_bytes()).map_err(|_| core::fmt::Error)
    }
}

/// Reached from `start.rs`'s vectors: an exception nothing expects (a fault, an interrupt).
#[no_mangle]
extern "C" fn mote_exception(index: u64) -> ! {
    let (esr, elr, far): (u64, u64, u64);
    // SAFETY: reading the syndrome registers has no side effects at EL1.
    unsafe {
        core::arch::asm!(
            "mrs {0}, esr_el1", "mrs {1}, elr_el1", "mrs {2}, far_el1",
            out(reg) esr, out(reg) elr, out(reg) far, options(nomem, nostack)
        )
    };
    // SAFETY: `kmain` no longer runs; this is the last user of the UART.
    let mut uart = unsafe { pl011::Pl011::new(UART_BASE) };
    let _ = write!(
        Writer(&mut uart),
        "\r\nexception {index}: esr {esr:#x} elr {elr:#x} far {far:#x}\r\n"
    );
    psci::system_off()
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    // SAFETY: a panic ends `kmain`'s use of the UART; this is the last user.
    let mut uart = unsafe { pl011::Pl011::new(UART_BASE) };
    let _ = write!(Writer(&mut uart), "\r\npanic: {info}\r\n");
    psci::system_off()
}
