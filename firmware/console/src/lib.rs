//! A `no_std` serial chat console for mote boards: a ChatML conversation
//! ([`mote_runtime::chat::Chat`]) behind a line editor, over any serial port with the
//! `embedded-io` 0.7 traits.
//!
//! # Use
//!
//! ```text
//! let model = Model::load(&Gguf::parse(FLASH_IMAGE)?)?;
//! let tok = Tokenizer::build(&gguf, &mut TOKENIZER_TABLE)?;     // Tokenizer::table_len words
//! let cfg = ConsoleConfig { ctx_len: 256, model_bytes: FLASH_IMAGE.len(), ..ConsoleConfig::DEFAULT };
//! let needed = Console::<BoardClock>::memory_needed(&model, &cfg)?;  // size MEM with this
//! let mut console = Console::new(&model, &tok, &mut MEM[..needed], BoardClock, cfg)?;
//! console.run(&mut uart)?;                                       // returns at Ctrl-D
//! ```
//!
//! - `Console::new(model: &'a Model<'a>, tokenizer: &'a Tokenizer<'a>, mem: &'a mut [u8],
//!   clock: C, cfg: ConsoleConfig) -> Result<Console<'a, C>, ConsoleError>`. The model
//!   and the tokenizer come from the same GGUF image (the tokenizer's tables live in a
//!   `u32` buffer the board provides). Everything else is carved out of `mem`, which may
//!   have any alignment: the session arena (KV cache and activations), the chat's token
//!   and text scratch, the line, last-prompt, system-prompt and last-reply buffers, and
//!   the feedback ring.
//! - `Console::memory_needed(model: &Model<'_>, cfg: &ConsoleConfig) -> Result<usize,
//!   ConsoleError>`: the bytes `mem` needs, alignment slack (at most 69 bytes) included,
//!   so a board can size a static buffer or check a linker budget.
//! - `Console::run<S: Read + Write + ReadReady>(&mut self, serial: &mut S) -> Result<(),
//!   S::Error>`: serves until Ctrl-D on an empty line or the end of input (`Ok`), or the
//!   port's first error. `ReadReady` is required so that Ctrl-C can stop a reply between
//!   two tokens: the console polls it before each token and reads only what is waiting.
//!   A port that cannot tell goes through [`Uninterruptible`] (replies then always run
//!   to their end).
//! - [`Clock`]: `now()` ticks, `ticks_per_second()`, and `unit()` (default `"s"`; e.g.
//!   `"instr"` for a guest clock counting instructions under `qemu -icount`).
//! - `Console::with_stack(self, gauge: &'a dyn StackGauge) -> Self`: `/stats` also shows
//!   the board's stack high-water mark ([`StackGauge`]: `used()` and `size()` bytes).
//!
//! # At the terminal
//!
//! Typed bytes are echoed; Backspace or DEL erases one UTF-8 character (`\x08 \x08`);
//! CR, LF and CRLF each end one line; ANSI escape sequences (arrow keys) are ignored.
//! Ctrl-C clears the line being typed, or stops a reply; Ctrl-D on an empty line ends
//! [`Console::run`]. Output uses `\r\n`, and control characters in a reply are shown as
//! U+FFFD. Bytes typed while a reply streams are kept (up to 64; the rest stays in the
//! port) and handled after it.
//!
//! A line longer than [`ConsoleConfig::line_len`] gets a message and is dropped up to its
//! end; a line that is not UTF-8 gets a message; a message too long for the context, or a
//! reply that fills it, gets a message. The console goes on after each, and no input makes
//! it panic.
//!
//! Commands: `/help`; `/reset` (forget the turns, keep the system prompt); `/temp [X]`
//! and `/seed [N]` (show or set; the same seed after `/reset` gives the same reply);
//! `/stats` (prompt and reply of the last turn apart: tokens, time, per-token time and,
//! for seconds, tokens/s; context used, arena, console and model bytes, feedback use, and
//! the stack's high-water mark when the board measures it);
//! `/system [TEXT]` (set or clear the system prompt, and reset); `/good`, `/bad`,
//! `/better TEXT` (feedback on the last reply); `/export`.
//!
//! # Feedback
//!
//! Feedback entries (system prompt, user message, reply, better text) are kept in a byte
//! ring of [`ConsoleConfig::feedback_bytes`] bytes; each takes 9 bytes plus its texts. When
//! one does not fit, the oldest entries go and a notice says so. Entries whose texts hold
//! `<|im_start|>` or `<|im_end|>` are refused (the toolchain rejects them).
//!
//! `/export` prints them as JSONL, in blocks: each block starts with a line
//! `--- NAME: ... ---` and is meant to be saved as the file NAME; `--- end of export ...`
//! closes the export. Blocks, because the toolchain's readers reject a whole file when
//! one line is of another kind (a demonstration has no `chosen`, a pair no `completion`):
//!
//! - `sft.jsonl`, for `mote sft`: `{"system"?,"prompt","completion"}` from `/good` (the
//!   reply) and `/better` (the better text);
//! - `preferences.jsonl`, for `mote rm` and `mote dpo`: `{"system"?,"prompt","chosen",
//!   "rejected"}` from `/better` (the better text chosen over the reply);
//! - `labels.jsonl`: `{"system"?,"prompt","completion","label"}` from `/good` (`true`)
//!   and `/bad` (`false`), the unpaired-label convention of KTO trainers. No mote command
//!   reads it yet. It is kept out of `sft.jsonl` because `mote sft` ignores unknown fields
//!   and would train on the bad replies.
//!
//! `"system"` is present when a system prompt was set. `"prompt"` is the user message of
//! the rated turn alone: earlier turns are not kept. Strings are JSON-escaped (quotes,
//! backslashes, control characters as `\u00XX`).
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
mod stack;
mod stats;
mod system_prompt;
mod term;
mod uninterruptible;

pub use clock::Clock;
pub use config::ConsoleConfig;
pub use console::Console;
pub use error::ConsoleError;
pub use stack::StackGauge;
pub use uninterruptible::Uninterruptible;
