//! A `no_std` serial chat console for mote boards.
//!
//! ```text
//! let needed = Console::<MyClock>::memory_needed(&model, &cfg)?;   // size a static buffer
//! let mut console = Console::new(&model, &tokenizer, &mut MEM, clock, cfg)?;
//! console.run(&mut uart)?;                                          // until Ctrl-D
//! ```
//!
//! - [`Console::new`]`(model, tokenizer, mem, clock, cfg)`: the model is a
//!   [`mote_runtime::Model`] loaded from the flash image, the tokenizer is built from the
//!   same GGUF with [`mote_runtime::Tokenizer::build`] into a table the board provides.
//!   Everything else lives in `mem`, of any alignment.
//! - [`Console::memory_needed`]: bytes of `mem` for a model and [`ConsoleConfig`].
//! - [`Console::run`]: serves a serial port implementing `embedded_io::{Read, Write,
//!   ReadReady}` (embedded-io 0.7). `ReadReady` is how Ctrl-C is noticed between reply
//!   tokens; a port that cannot tell can be wrapped in [`Uninterruptible`].
//! - [`Clock`]: ticks for `/stats`.
#![no_std]

mod clock;
mod commands;
mod config;
mod console;
mod error;
mod export;
mod feedback;
mod input;
mod json;
mod last_turn;
mod line_editor;
mod memory;
mod reply_stream;
mod stats;
mod system_prompt;
mod term;
mod uninterruptible;

pub use clock::Clock;
pub use config::ConsoleConfig;
pub use console::Console;
pub use error::ConsoleError;
pub use uninterruptible::Uninterruptible;
