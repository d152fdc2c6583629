//! What every mote board does after reset, once it has a serial port, a clock and memory:
//! find the model, carve the tokenizer tables and the console's memory out of one arena,
//! and run the chat console until the user ends it.
//!
//! Board crates (`firmware/qemu-virt`, `firmware/mps2-an500`, `firmware/rp2350`) own the
//! hardware: reset code, UART driver, clock, exit. This crate owns nothing hardware-specific,
//! so it builds and is tested on the host.
#![no_std]

mod boot;
mod image;
pub mod mmio;
mod stack;
mod statics;

pub use boot::{arena_needed, boot, BoardConfig, BootError};
pub use image::{gguf_len, model_in_region};
pub use mote_console::{Clock, ConsoleConfig, StackGauge};
pub use stack::{PaintedStack, STACK_PAINT};
