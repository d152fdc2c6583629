//! `boot` on the host with an in-memory serial port and a reference model: the arena size
//! `arena_needed` reports is enough at any alignment, one byte less is refused with that
//! size in the message, and a region holding a padded GGUF file yields the file.

use embedded_io::{ErrorType, Read, ReadReady, Write};
use mote_board::{
    arena_needed, boot, model_in_region, BoardConfig, BootError, Clock, ConsoleConfig,
    PaintedStack, STACK_PAINT,
};
use std::convert::Infallible;
use std::path::PathBuf;

fn reference(name: &str) -> Vec<u8> {
    let dir = std::env::var("MOTE_REFERENCE_DIR").map_or_else(
        |_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference"),
        PathBuf::from,
    );
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e} (set MOTE_REFERENCE_DIR)"))
}

/// Typed input, everything written.
struct Port {
    input: Vec<u8>,
    at: usize,
    output: Vec<u8>,
}

impl ErrorType for Port {
    type Error = Infallible;
}

impl Read for Port {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        // One byte at a time, like a UART; 0 at the end of input.
        let n = buf.len().min(1).min(self.input.len() - self.at);
        buf[..n].copy_from_slice(&self.input[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

impl ReadReady for Port {
    fn read_ready(&mut self) -> Result<bool, Infallible> {
        Ok(false)
    }
}

impl Write for Port {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

struct Counter(std::cell::Cell<u64>);

impl Clock for Counter {
    fn now(&self) -> u64 {
        self.0.set(self.0.get() + 1000);
        self.0.get()
    }
    fn ticks_per_second(&self) -> u64 {
        1_000_000
    }
}

const CFG: BoardConfig = BoardConfig {
    board: "host",
    console: ConsoleConfig {
        ctx_len: 64,
        max_reply: 8,
        temperature: 0.0,
        ..ConsoleConfig::DEFAULT
    },
};

fn run(model: &[u8], arena: &mut [u8]) -> (Result<(), BootError<Infallible>>, String) {
    let mut port = Port {
        input: b"hi\r/stats\r\x04".to_vec(),
        at: 0,
        output: Vec::new(),
    };
    // A stand-in stack, painted, of which the top 56 words were used.
    let mut stack = vec![STACK_PAINT; 256];
    stack[200..].fill(0);
    // SAFETY: `stack` is painted and outlives the gauge.
    let gauge = unsafe { PaintedStack::new(stack.as_ptr(), stack.as_ptr().add(stack.len())) };
    let r = boot(
        model,
        arena,
        &mut port,
        Counter(0.into()),
        Some(&gauge),
        &CFG,
    );
    (r, String::from_utf8_lossy(&port.output).into_owned())
}

#[test]
fn the_reported_arena_is_enough_at_any_alignment() {
    let model = reference("ref-tiny-q8_0.gguf");
    let need = arena_needed(&model, &CFG).unwrap();
    let mut mem = vec![0u8; need + 64];
    for off in [0, 1, 2, 3, 5] {
        let (r, out) = run(&model, &mut mem[off..off + need]);
        r.unwrap();
        assert!(out.starts_with("mote on host: "), "{out}");
        assert!(out.contains(&format!(" of {need} bytes\r\n")), "{out}");
        assert!(out.contains("prompt: "), "no /stats in:\n{out}");
        assert!(
            out.contains("\r\nstack: 224 of 1024 bytes used at most\r\n"),
            "{out}"
        );
    }
}

#[test]
fn a_small_arena_is_refused_with_the_size_needed() {
    let model = reference("ref-tiny-q8_0.gguf");
    let need = arena_needed(&model, &CFG).unwrap();
    let mut mem = vec![0u8; need + 4];
    // At a 4-aligned start the tokenizer table needs no slack: `need - 3` bytes are
    // enough, and one byte fewer is not.
    let off = mem.as_ptr().align_offset(4);
    let end = off + need - 4;
    match run(&model, &mut mem[off..end]) {
        (Err(e @ BootError::Memory { .. }), _) => {
            assert!(
                e.to_string().contains(&format!("MOTE_ARENA_BYTES={need}")),
                "{e}"
            );
        }
        (r, out) => panic!("{r:?}\n{out}"),
    }
}

#[test]
fn a_padded_region_yields_the_model_file() {
    let model = reference("ref-tiny-q4_0.gguf");
    let mut region = model.clone();
    region.resize(model.len() + (1 << 16), 0);
    assert_eq!(model_in_region(&region).unwrap(), &model[..]);
}
