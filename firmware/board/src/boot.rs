//! From model bytes and raw memory to a running console.

use core::fmt::{self, Write as _};
use embedded_io::{Read, ReadReady, Write};
use mote_console::{Clock, Console, ConsoleConfig, ConsoleError, StackGauge};
use mote_runtime::kernels::Kernels;
use mote_runtime::{Gguf, Model, Tokenizer};

/// Build-time choices of a board image (each board's `build.rs` turns the `MOTE_*`
/// variables into one of these).
#[derive(Debug, Clone, Copy)]
pub struct BoardConfig {
    /// Shown in the banner.
    pub board: &'static str,
    /// `model_bytes` is filled in at boot from the model image.
    pub console: ConsoleConfig,
}

/// Why a board could not start (or keep running) its console.
#[derive(Debug)]
pub enum BootError<E> {
    /// The model image is not a usable llama GGUF.
    Model(mote_runtime::Error),
    /// The arena is smaller than this model and configuration need.
    Memory { needed: usize, have: usize },
    /// The console refused the configuration.
    Console(ConsoleError),
    /// The serial port failed.
    Serial(E),
}

impl<E: fmt::Debug> fmt::Display for BootError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BootError::Model(e) => write!(f, "model: {e}"),
            BootError::Memory { needed, have } => write!(
                f,
                "the arena has {have} bytes, this model and context need {needed} \
                 (rebuild with MOTE_ARENA_BYTES={needed}, or a smaller MOTE_CTX)"
            ),
            BootError::Console(e) => write!(f, "console: {e}"),
            BootError::Serial(e) => write!(f, "serial: {e:?}"),
        }
    }
}

impl<E> From<mote_runtime::Error> for BootError<E> {
    fn from(e: mote_runtime::Error) -> Self {
        BootError::Model(e)
    }
}

impl<E> From<ConsoleError> for BootError<E> {
    fn from(e: ConsoleError) -> Self {
        BootError::Console(e)
    }
}

/// Arena bytes [`boot`] needs for this model and configuration: the tokenizer tables
/// (plus alignment slack) and the console's memory.
pub fn arena_needed(model_bytes: &[u8], cfg: &BoardConfig) -> Result<usize, BootError<()>> {
    let g = Gguf::parse(model_bytes)?;
    let model = Model::load(&g)?;
    let table = Tokenizer::table_len(&g)? * 4 + (core::mem::align_of::<u32>() - 1);
    let console = Console::<NoClock>::memory_needed(&model, &console_config(model_bytes, cfg))?;
    Ok(table + console)
}

/// Parse the model, build the tokenizer in the front of `arena`, give the rest to the
/// console and run it on `serial` until the user ends the session (Ctrl-D). With `stack`,
/// `/stats` reports the stack's high-water mark.
pub fn boot<S, C>(
    model_bytes: &[u8],
    arena: &mut [u8],
    serial: &mut S,
    clock: C,
    stack: Option<&dyn StackGauge>,
    cfg: &BoardConfig,
) -> Result<(), BootError<S::Error>>
where
    S: Read + Write + ReadReady,
    C: Clock,
{
    let g = Gguf::parse(model_bytes)?;
    let model = Model::load(&g)?;
    let cc = console_config(model_bytes, cfg);
    let words = Tokenizer::table_len(&g)?;
    let have = arena.len();
    let too_small = || BootError::Memory {
        needed: arena_needed(model_bytes, cfg).unwrap_or(0),
        have,
    };
    let (table, rest) = carve_u32(arena, words).ok_or_else(too_small)?;
    let tok = Tokenizer::build(&g, table)?;
    let console_bytes = Console::<C>::memory_needed(&model, &cc)?;
    if rest.len() < console_bytes {
        return Err(too_small());
    }
    let used = have - rest.len() + console_bytes;
    let mut banner = Line::new();
    // A full buffer truncates the banner; nothing else can fail.
    let _ = write!(
        banner,
        "mote on {}: {} byte model, {} kernels, arena {used} of {have} bytes\r\n",
        cfg.board,
        model_bytes.len(),
        Kernels::best().backend.name(),
    );
    serial
        .write_all(banner.as_bytes())
        .map_err(BootError::Serial)?;
    let mut console = Console::new(&model, &tok, rest, clock, cc)?;
    if let Some(gauge) = stack {
        console = console.with_stack(gauge);
    }
    console.run(serial).map_err(BootError::Serial)
}

fn console_config(model_bytes: &[u8], cfg: &BoardConfig) -> ConsoleConfig {
    ConsoleConfig {
        model_bytes: model_bytes.len(),
        ..cfg.console
    }
}

/// A short line formatted on the stack.
struct Line {
    buf: [u8; 160],
    len: usize,
}

impl Line {
    fn new() -> Self {
        Line {
            buf: [0; 160],
            len: 0,
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        if n == s.len() {
            Ok(())
        } else {
            Err(fmt::Error)
        }
    }
}

/// For sizing only: `memory_needed` does not read the clock.
struct NoClock;

impl Clock for NoClock {
    fn now(&self) -> u64 {
        0
    }
    fn ticks_per_second(&self) -> u64 {
        1
    }
}

/// Split `n` aligned `u32` words off the front of `mem`, returning them and the bytes after.
fn carve_u32(mem: &mut [u8], n: usize) -> Option<(&mut [u32], &mut [u8])> {
    let skip = mem.as_ptr().align_offset(core::mem::align_of::<u32>());
    let bytes = n.checked_mul(4)?.checked_add(skip)?;
    if bytes > mem.len() {
        return None;
    }
    let (table, rest) = mem.split_at_mut(bytes);
    // SAFETY: every bit pattern is a valid `u32`; `table[skip..]` starts aligned and holds
    // exactly `n` words, so the middle part is all of it.
    let (_, words, _) = unsafe { table[skip..].align_to_mut::<u32>() };
    debug_assert_eq!(words.len(), n);
    Some((words, rest))
}

#[cfg(test)]
mod tests {
    use super::carve_u32;

    #[test]
    fn carving_aligns_and_keeps_the_rest() {
        let mut mem = [0u8; 64];
        for off in 0..4 {
            let (words, rest) = carve_u32(&mut mem[off..], 5).unwrap();
            assert_eq!(words.len(), 5);
            assert_eq!(words.as_ptr() as usize % 4, 0);
            assert!(rest.len() >= 64 - off - 5 * 4 - 3);
        }
        assert!(carve_u32(&mut mem, 17).is_none());
    }
}
