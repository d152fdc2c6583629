//! From model bytes and raw memory to a running console.

use core::fmt;
use embedded_io::{Read, ReadReady, Write};
use mote_runtime::{Gguf, KvType, Model, Tokenizer};

/// Build-time choices of a board image (each board's `build.rs` turns `MOTE_*` variables
/// into one of these).
#[derive(Debug, Clone, Copy)]
pub struct BoardConfig {
    /// Shown in the banner.
    pub board: &'static str,
    /// Positions the KV cache holds.
    pub ctx_len: usize,
    pub kv_type: KvType,
    /// Longest reply in tokens.
    pub max_reply: usize,
    pub temperature: f32,
    pub top_p: f32,
    pub seed: u64,
}

/// Why a board could not start (or keep running) its console.
#[derive(Debug)]
pub enum BootError<E> {
    /// The model image is not a usable llama GGUF.
    Model(mote_runtime::Error),
    /// The arena is smaller than this model and configuration need.
    Memory { needed: usize, have: usize },
    /// The serial port failed.
    Serial(E),
}

impl<E: fmt::Debug> fmt::Display for BootError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BootError::Model(e) => write!(f, "model: {e}"),
            BootError::Memory { needed, have } => {
                write!(f, "arena of {have} bytes, the model needs {needed}")
            }
            BootError::Serial(e) => write!(f, "serial: {e:?}"),
        }
    }
}

/// Parse the model, build the tokenizer in the front of `arena`, give the rest to the
/// console and run it on `serial` until the user ends the session (Ctrl-D).
pub fn boot<S, C>(
    model_bytes: &[u8],
    arena: &mut [u8],
    serial: &mut S,
    clock: C,
    cfg: &BoardConfig,
) -> Result<(), BootError<S::Error>>
where
    S: Read + Write + ReadReady,
    C: crate::Clock,
{
    let g = Gguf::parse(model_bytes).map_err(BootError::Model)?;
    let model = Model::load(&g).map_err(BootError::Model)?;
    let words = Tokenizer::table_len(&g).map_err(BootError::Model)?;
    let have = arena.len();
    let (table, rest) = carve_u32(arena, words).ok_or(BootError::Memory {
        needed: words * 4 + 3,
        have,
    })?;
    let tok = Tokenizer::build(&g, table).map_err(BootError::Model)?;
    let _ = (model, tok, rest, clock, cfg);
    // Until the console lands: echo, Ctrl-D ends.
    let mut b = [0u8; 1];
    loop {
        let n = serial.read(&mut b).map_err(BootError::Serial)?;
        if n == 0 || b[0] == 4 {
            return Ok(());
        }
        serial.write_all(&b).map_err(BootError::Serial)?;
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
