//! mote on a Raspberry Pi Pico 2: RP2350 (Cortex-M33 at 150 MHz), the console on UART0
//! (GPIO0 TX, GPIO1 RX, 115200 8N1) through rp235x-hal, Arm DSP kernels, the model in flash
//! beside the code and the arena a static buffer sized at build time (see `memory.x`).
#![no_std]
#![no_main]

use core::ptr::addr_of_mut;
use rp235x_hal as hal;

use hal::clocks::Clock as _;
use hal::fugit::RateExtU32;
use hal::uart::{DataBits, StopBits, UartConfig, UartPeripheral};

include!(concat!(env!("OUT_DIR"), "/board_config.rs"));

/// Tells the boot ROM this is a secure Arm executable.
#[link_section = ".start_block"]
#[used]
pub static IMAGE_DEF: hal::block::ImageDef = hal::block::ImageDef::secure_exe();

/// The Pico 2's crystal.
const XTAL_HZ: u32 = 12_000_000;

mote_board::board_statics!(model: env!("MOTE_MODEL_FILE"), arena_bytes: ARENA_BYTES);

// The stack's bounds from memory.x; cortex-m-rt's `paint-stack` paints between them.
extern "C" {
    static _stack_end: u32;
    static _stack_start: u32;
}
const _: () = assert!(cortex_m_rt::STACK_PAINT_VALUE == mote_board::STACK_PAINT);

/// The 1 MHz TIMER0 as the console's clock.
struct TimerClock(hal::Timer<hal::timer::CopyableTimer0>);

impl mote_board::Clock for TimerClock {
    fn now(&self) -> u64 {
        self.0.get_counter().ticks()
    }

    fn ticks_per_second(&self) -> u64 {
        1_000_000
    }
}

#[hal::entry]
fn main() -> ! {
    // `take` succeeds on the first call, which this is.
    let mut pac = hal::pac::Peripherals::take().unwrap();
    let mut watchdog = hal::Watchdog::new(pac.WATCHDOG);
    let Ok(clocks) = hal::clocks::init_clocks_and_plls(
        XTAL_HZ,
        pac.XOSC,
        pac.CLOCKS,
        pac.PLL_SYS,
        pac.PLL_USB,
        &mut pac.RESETS,
        &mut watchdog,
    ) else {
        panic!("clock setup failed");
    };
    let sio = hal::Sio::new(pac.SIO);
    let pins = hal::gpio::Pins::new(
        pac.IO_BANK0,
        pac.PADS_BANK0,
        sio.gpio_bank0,
        &mut pac.RESETS,
    );
    let uart_pins = (
        pins.gpio0.into_function::<hal::gpio::FunctionUart>(),
        pins.gpio1.into_function::<hal::gpio::FunctionUart>(),
    );
    let Ok(mut uart) = UartPeripheral::new(pac.UART0, uart_pins, &mut pac.RESETS).enable(
        UartConfig::new(115_200.Hz(), DataBits::Eight, None, StopBits::One),
        clocks.peripheral_clock.freq(),
    ) else {
        panic!("UART setup failed");
    };
    let timer = hal::Timer::new_timer0(pac.TIMER0, &mut pac.RESETS, &clocks);
    // SAFETY: `main` runs once (the `entry` attribute), and this is the only place that
    // names ARENA.
    let arena = unsafe { &mut (*addr_of_mut!(ARENA)).0 };
    // SAFETY: memory.x makes _stack_end.._stack_start the stack, a region of RAM of its
    // own, and cortex-m-rt painted all of it before calling `main`.
    let stack =
        unsafe { mote_board::PaintedStack::new(&raw const _stack_end, &raw const _stack_start) };
    // A board has no one to exit to: after Ctrl-D (or an error) a new session starts.
    loop {
        if let Err(e) = mote_board::boot(
            MODEL,
            arena,
            &mut uart,
            TimerClock(timer),
            Some(&stack),
            &CONFIG,
        ) {
            let _ = embedded_io::Write::write_fmt(&mut uart, format_args!("\r\nerror: {e}\r\n"));
            // A broken model or memory plan will not get better: wait for a reset.
            loop {
                cortex_m::asm::wfi();
            }
        }
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // A fault stops the core where a debugger shows it.
    cortex_m::asm::udf()
}
