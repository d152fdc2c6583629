//! Shared pieces of the console tests: the reference model, a scripted in-memory serial
//! port and a fake clock.
#![allow(dead_code)]

use std::cell::Cell;
use std::collections::VecDeque;
use std::path::PathBuf;

use embedded_io::{ErrorKind, ErrorType, Read, ReadReady, Write};
use mote_console::{Clock, Console, ConsoleConfig, StackGauge};
use mote_runtime::{Gguf, Model, Tokenizer};

/// `../shared/reference` beside the checkout, or `$MOTE_REFERENCE_DIR`.
pub fn reference_dir() -> PathBuf {
    std::env::var("MOTE_REFERENCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference")
        })
}

pub fn read_reference(name: &str) -> Vec<u8> {
    let path = reference_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

pub const MODEL: &str = "ref-tiny-q8_0.gguf";

/// Advances by `step` ticks at every reading; a million ticks per unit.
pub struct FakeClock {
    pub t: Cell<u64>,
    pub step: u64,
    pub unit: &'static str,
}

impl FakeClock {
    pub fn new() -> Self {
        FakeClock {
            t: Cell::new(0),
            step: 1000,
            unit: "s",
        }
    }
}

impl Clock for FakeClock {
    fn now(&self) -> u64 {
        self.t.set(self.t.get() + self.step);
        self.t.get()
    }
    fn ticks_per_second(&self) -> u64 {
        1_000_000
    }
    fn unit(&self) -> &'static str {
        self.unit
    }
}

/// Scripted input and captured output. An input byte may be held back from `read_ready`
/// for a number of polls, to arrive "while" a reply streams; a blocking `read` takes it
/// at once.
#[derive(Default)]
pub struct Serial {
    input: VecDeque<(u32, u8)>,
    pub out: Vec<u8>,
    /// Writes fail once the output has this many bytes.
    pub fail_after: Option<usize>,
    pub polls: usize,
}

impl Serial {
    pub fn new(input: &[u8]) -> Self {
        let mut s = Serial::default();
        s.push(input);
        s
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.input.extend(bytes.iter().map(|&b| (0, b)));
    }

    /// `bytes`, the first of which `read_ready` reports only at its `polls + 1`-th call.
    pub fn push_after_polls(&mut self, polls: u32, bytes: &[u8]) {
        for (i, &b) in bytes.iter().enumerate() {
            self.input.push_back((if i == 0 { polls } else { 0 }, b));
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.out).into_owned()
    }
}

impl ErrorType for Serial {
    type Error = ErrorKind;
}

impl Read for Serial {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        match (buf.first_mut(), self.input.pop_front()) {
            (Some(dst), Some((_, b))) => {
                *dst = b;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

impl ReadReady for Serial {
    fn read_ready(&mut self) -> Result<bool, ErrorKind> {
        self.polls += 1;
        match self.input.front_mut() {
            Some((0, _)) => Ok(true),
            Some((wait, _)) => {
                *wait -= 1;
                Ok(false)
            }
            None => Ok(false),
        }
    }
}

impl Write for Serial {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        if self.fail_after.is_some_and(|n| self.out.len() >= n) {
            return Err(ErrorKind::BrokenPipe);
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

/// A small, fast configuration: greedy unless a test says otherwise.
pub fn config() -> ConsoleConfig {
    ConsoleConfig {
        ctx_len: 128,
        max_reply: 8,
        temperature: 0.0,
        ..ConsoleConfig::DEFAULT
    }
}

/// Run a console over `serial` until its input ends; returns what `run` returned.
pub fn run_with(
    cfg: ConsoleConfig,
    clock: &FakeClock,
    serial: &mut Serial,
) -> Result<(), ErrorKind> {
    run_with_stack(cfg, clock, serial, None)
}

/// [`run_with`], the console reporting `stack` in `/stats`.
pub fn run_with_stack(
    cfg: ConsoleConfig,
    clock: &FakeClock,
    serial: &mut Serial,
    stack: Option<&dyn StackGauge>,
) -> Result<(), ErrorKind> {
    let file = read_reference(MODEL);
    let g = Gguf::parse(&file).unwrap();
    let model = Model::load(&g).unwrap();
    let mut table = vec![0u32; Tokenizer::table_len(&g).unwrap()];
    let tok = Tokenizer::build(&g, &mut table).unwrap();
    let mut mem = vec![0u8; Console::<&FakeClock>::memory_needed(&model, &cfg).unwrap()];
    let mut console = Console::new(&model, &tok, &mut mem, clock, cfg).unwrap();
    if let Some(g) = stack {
        console = console.with_stack(g);
    }
    console.run(serial)
}

/// The transcript of a session typed as `input`.
pub fn transcript(cfg: ConsoleConfig, input: &[u8]) -> String {
    let mut serial = Serial::new(input);
    run_with(cfg, &FakeClock::new(), &mut serial).unwrap();
    serial.text()
}

/// The lines of a transcript, without line ends.
pub fn lines(text: &str) -> Vec<&str> {
    text.split("\r\n").collect()
}

/// The JSON records of an `/export`, grouped under the block headers.
pub fn export_blocks(text: &str) -> Vec<(String, Vec<serde_json::Value>)> {
    let mut blocks: Vec<(String, Vec<serde_json::Value>)> = Vec::new();
    for line in lines(text) {
        let line = line.strip_prefix("> ").unwrap_or(line);
        if line.starts_with("--- end of export") {
            break;
        }
        if let Some(h) = line.strip_prefix("--- ") {
            let name = h.split(':').next().unwrap().to_string();
            blocks.push((name, Vec::new()));
        } else if let Some((_, recs)) = blocks.last_mut() {
            recs.push(serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}")));
        }
    }
    blocks
}
