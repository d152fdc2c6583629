//! How the caller's `mem` is split: session arena, chat buffers, line and reply buffers,
//! and the feedback ring. `Layout` is the one plan both sizing and splitting use.

use mote_runtime::chat::ChatBuffers;
use mote_runtime::{Model, SessionConfig, ARENA_ALIGN};

use crate::config::ConsoleConfig;
use crate::error::ConsoleError;

/// Largest line, reply or system prompt: lengths are stored as `u16` in the feedback ring.
pub(crate) const MAX_FIELD: usize = u16::MAX as usize;

/// Region sizes in bytes (u32 regions in words), in carving order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    pub arena: usize,
    pub ids: usize,
    pub scratch: usize,
    pub text: usize,
    pub line: usize,
    pub reply: usize,
    pub feedback: usize,
}

/// `mem` carved into the regions of a [`Layout`].
pub(crate) struct Parts<'a> {
    pub arena: &'a mut [u8],
    pub chat: ChatBuffers<'a>,
    /// The line being typed.
    pub line: &'a mut [u8],
    /// The user message of the last turn.
    pub prompt: &'a mut [u8],
    /// The system prompt set with `/system`.
    pub system: &'a mut [u8],
    pub reply: &'a mut [u8],
    pub feedback: &'a mut [u8],
}

pub(crate) fn session_config(cfg: &ConsoleConfig) -> SessionConfig {
    SessionConfig::new(cfg.ctx_len).with_kv_type(cfg.kv_type)
}

impl Layout {
    pub fn new(model: &Model<'_>, cfg: &ConsoleConfig) -> Result<Self, ConsoleError> {
        if cfg.ctx_len == 0 {
            return Err(ConsoleError::BadConfig("ctx_len"));
        }
        if cfg.max_reply == 0 {
            return Err(ConsoleError::BadConfig("max_reply"));
        }
        if cfg.line_len == 0 || cfg.line_len > MAX_FIELD {
            return Err(ConsoleError::BadConfig("line_len"));
        }
        if cfg.reply_bytes > MAX_FIELD {
            return Err(ConsoleError::BadConfig("reply_bytes"));
        }
        let system_len = cfg.system.map_or(0, str::len);
        if system_len > MAX_FIELD {
            return Err(ConsoleError::BadConfig("system"));
        }
        let arena = model.arena_bytes_for(&session_config(cfg))?;
        // Chat renders `role\ncontent`: "system\n" is the longest role header.
        let text = cfg.line_len.max(system_len) + 16;
        Ok(Layout {
            arena,
            ids: cfg.ctx_len,
            scratch: ChatBuffers::scratch_len(text),
            text,
            line: cfg.line_len,
            reply: cfg.reply_bytes,
            feedback: cfg.feedback_bytes,
        })
    }

    /// Bytes of `mem` this layout needs, whatever the alignment of `mem`.
    pub fn total(&self) -> Option<usize> {
        let words = self.ids.checked_add(self.scratch)?.checked_mul(4)?;
        // Alignment slack: up to 63 bytes before the arena, 3 before each word region.
        [
            ARENA_ALIGN - 1,
            self.arena,
            3 + 3,
            words,
            self.text,
            3 * self.line,
            self.reply,
            self.feedback,
        ]
        .iter()
        .try_fold(0usize, |acc, &n| acc.checked_add(n))
    }

    /// Carve `mem` (at least [`Layout::total`] bytes, any alignment).
    pub fn split<'a>(&self, mem: &'a mut [u8]) -> Result<Parts<'a>, ConsoleError> {
        let needed = self.total().ok_or(ConsoleError::BadConfig("ctx_len"))?;
        if mem.len() < needed {
            return Err(ConsoleError::MemoryTooSmall {
                needed,
                got: mem.len(),
            });
        }
        let mut rest = mem;
        let arena = take_aligned(&mut rest, self.arena, ARENA_ALIGN)?;
        let ids = take_words(&mut rest, self.ids)?;
        let scratch = take_words(&mut rest, self.scratch)?;
        let text = take(&mut rest, self.text)?;
        let line = take(&mut rest, self.line)?;
        let prompt = take(&mut rest, self.line)?;
        let system = take(&mut rest, self.line)?;
        let reply = take(&mut rest, self.reply)?;
        let feedback = take(&mut rest, self.feedback)?;
        Ok(Parts {
            arena,
            chat: ChatBuffers { ids, text, scratch },
            line,
            prompt,
            system,
            reply,
            feedback,
        })
    }
}

fn short() -> ConsoleError {
    // Only reachable if `total` and `split` disagree; reported rather than panicking.
    ConsoleError::MemoryTooSmall { needed: 0, got: 0 }
}

fn take<'a>(rest: &mut &'a mut [u8], n: usize) -> Result<&'a mut [u8], ConsoleError> {
    let all = core::mem::take(rest);
    if all.len() < n {
        return Err(short());
    }
    let (head, tail) = all.split_at_mut(n);
    *rest = tail;
    Ok(head)
}

/// `n` bytes starting on an `align` boundary (skipping up to `align - 1` bytes).
fn take_aligned<'a>(
    rest: &mut &'a mut [u8],
    n: usize,
    align: usize,
) -> Result<&'a mut [u8], ConsoleError> {
    let pad = rest.as_ptr().align_offset(align);
    if pad >= align {
        return Err(short());
    }
    take(rest, pad)?;
    take(rest, n)
}

fn take_words<'a>(rest: &mut &'a mut [u8], n: usize) -> Result<&'a mut [u32], ConsoleError> {
    let bytes = n.checked_mul(4).ok_or_else(short)?;
    let region = take_aligned(rest, bytes, core::mem::align_of::<u32>())?;
    // SAFETY: `region` is an exclusive borrow of exactly `n * 4` bytes for `'a`, starting on
    // a `u32` boundary (`take_aligned`); every bit pattern is a valid `u32`.
    Ok(unsafe { core::slice::from_raw_parts_mut(region.as_mut_ptr().cast::<u32>(), n) })
}
