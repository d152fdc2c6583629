//! Ids -> text: token pieces (llama.cpp's `token_to_piece`) and a streaming decoder with
//! llama.cpp's `llama_detokenize` rules that yields only complete UTF-8.

use super::spm::SPACE;
use super::Tokenizer;
use crate::error::{Error, Result};

/// What one token renders as, borrowed from the vocabulary (no copy, no heap).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Nothing: a control or unknown token without `special`, an unused token.
    Empty,
    /// The vocabulary text as is (user-defined tokens; control tokens with `special`).
    Text(&'a [u8]),
    /// A normal token: its text with every `▁` (U+2581) shown as a space.
    Spaced(&'a [u8]),
    /// A byte-fallback token `<0xXX>`: that one byte.
    Byte(u8),
}

impl<'a> Piece<'a> {
    /// Call `f` with the rendered bytes, in order, in one or more chunks.
    pub fn for_each_chunk(&self, mut f: impl FnMut(&[u8])) {
        match *self {
            Piece::Empty => {}
            Piece::Text(t) => f(t),
            Piece::Byte(b) => f(&[b]),
            Piece::Spaced(mut t) => {
                while let Some(i) = t.windows(SPACE.len()).position(|w| w == SPACE) {
                    let (head, tail) = t.split_at(i);
                    if !head.is_empty() {
                        f(head);
                    }
                    f(b" ");
                    t = tail.get(SPACE.len()..).unwrap_or(&[]);
                }
                if !t.is_empty() {
                    f(t);
                }
            }
        }
    }

    /// Rendered length in bytes.
    pub fn len(&self) -> usize {
        let mut n = 0;
        self.for_each_chunk(|c| n += c.len());
        n
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copy the rendered bytes to the start of `buf`; returns their length.
    pub fn copy_to(&self, buf: &mut [u8]) -> Result<usize> {
        let needed = self.len();
        let got = buf.len();
        let dst = buf
            .get_mut(..needed)
            .ok_or(Error::BufferTooSmall { needed, got })?;
        let mut at = 0;
        self.for_each_chunk(|c| {
            if let Some(d) = dst.get_mut(at..at + c.len()) {
                d.copy_from_slice(c);
            }
            at += c.len();
        });
        Ok(needed)
    }

    /// The piece without one leading space (llama.cpp's `lstrip` of one).
    pub fn strip_leading_space(self) -> Piece<'a> {
        match self {
            Piece::Text(t) => Piece::Text(t.strip_prefix(b" ").unwrap_or(t)),
            Piece::Spaced(t) => Piece::Spaced(
                t.strip_prefix(SPACE)
                    .or_else(|| t.strip_prefix(b" "))
                    .unwrap_or(t),
            ),
            Piece::Byte(b' ') => Piece::Empty,
            p => p,
        }
    }
}

/// Bytes of a UTF-8 sequence its first byte announces; 0 for a byte that cannot start one.
fn seq_len(b: u8) -> u8 {
    match b {
        0x00..=0x7f => 1,
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => 0,
    }
}

/// Whether `b` may follow `lead` as the second byte of a sequence (no overlong forms, no
/// surrogates, nothing above U+10FFFF), or any later continuation byte.
fn continues(lead: u8, have: u8, b: u8) -> bool {
    let range = match (have, lead) {
        (1, 0xe0) => 0xa0..=0xbf,
        (1, 0xed) => 0x80..=0x9f,
        (1, 0xf0) => 0x90..=0xbf,
        (1, 0xf4) => 0x80..=0x8f,
        _ => 0x80..=0xbf,
    };
    range.contains(&b)
}

const REPLACEMENT: &str = "\u{FFFD}";

fn emit_str(bytes: &[u8], f: &mut impl FnMut(&str)) {
    if bytes.is_empty() {
        return;
    }
    // The state machine only passes complete, valid sequences here.
    match core::str::from_utf8(bytes) {
        Ok(s) => f(s),
        Err(_) => f(REPLACEMENT),
    }
}

/// Streaming ids -> UTF-8 text with fixed-size state (no heap).
///
/// Bytes of a character split across byte tokens are held until the character is complete;
/// a sequence that cannot be completed becomes one U+FFFD per maximal invalid part (as
/// `String::from_utf8_lossy` does).
///
/// [`Decoder::detokenize`] follows llama.cpp's `llama_detokenize` exactly: with
/// `add_space_prefix` the first token's leading space is dropped, **unless** the ids start
/// with BOS and `remove_special` removes it, in which case the space is kept. (So decoding
/// `encode(text)` with its BOS gives `" " + text`; without the BOS it gives `text`.)
/// [`Decoder::pieces`] just concatenates pieces, as llama.cpp's tools print while
/// generating.
#[derive(Clone, Copy, Debug)]
pub struct Decoder {
    pending: [u8; 4],
    have: u8,
    need: u8,
    /// Drop one leading space from the next piece.
    strip_space: bool,
    first: bool,
    remove_special: bool,
    special: bool,
    /// An EOS withheld because it may be the last id (`remove_special` with `add_eos`).
    held_eos: Option<u32>,
}

impl Decoder {
    /// llama.cpp's `llama_detokenize(remove_special, unparse_special)`, streamed:
    /// `remove_special` drops a leading BOS (and a trailing EOS when the file adds one),
    /// `unparse_special` renders control tokens as their text.
    pub fn detokenize(tok: &Tokenizer<'_>, remove_special: bool, unparse_special: bool) -> Self {
        Decoder {
            pending: [0; 4],
            have: 0,
            need: 0,
            strip_space: tok.special.add_space_prefix,
            first: true,
            remove_special,
            special: unparse_special,
            held_eos: None,
        }
    }

    /// Plain concatenation of `token_to_piece(id, special)`: no id dropped, no space removed.
    pub fn pieces(special: bool) -> Self {
        Decoder {
            pending: [0; 4],
            have: 0,
            need: 0,
            strip_space: false,
            first: false,
            remove_special: false,
            special,
            held_eos: None,
        }
    }

    /// Drop one leading space from the next piece that is output (e.g. the start of a
    /// reply).
    pub fn strip_next_space(&mut self) {
        self.strip_space = true;
    }

    /// Feed one id; `f` receives zero or more chunks of complete UTF-8 text.
    pub fn push(&mut self, tok: &Tokenizer<'_>, id: u32, mut f: impl FnMut(&str)) -> Result<()> {
        if id as usize >= tok.n_vocab() {
            return Err(Error::BadToken(id));
        }
        let s = &tok.special;
        if core::mem::take(&mut self.first) && self.remove_special && s.add_bos && s.bos == Some(id)
        {
            // llama.cpp: a removed leading BOS also cancels the leading-space removal.
            self.strip_space = false;
            return Ok(());
        }
        if let Some(e) = self.held_eos.take() {
            self.emit_piece(tok, e, &mut f)?;
        }
        if self.remove_special && s.add_eos && s.eos == Some(id) {
            self.held_eos = Some(id);
            return Ok(());
        }
        self.emit_piece(tok, id, &mut f)
    }

    /// End of input: an incomplete character becomes U+FFFD; a withheld final EOS is dropped.
    pub fn finish(&mut self, mut f: impl FnMut(&str)) {
        self.held_eos = None;
        if self.have > 0 {
            self.have = 0;
            f(REPLACEMENT);
        }
    }

    fn emit_piece(&mut self, tok: &Tokenizer<'_>, id: u32, f: &mut impl FnMut(&str)) -> Result<()> {
        let mut p = tok.piece_parts(id, self.special)?;
        if core::mem::take(&mut self.strip_space) {
            p = p.strip_leading_space();
        }
        p.for_each_chunk(|c| self.feed(c, f));
        Ok(())
    }

    /// Pass `bytes` through the UTF-8 state machine; valid runs go to `f` as borrowed slices.
    fn feed(&mut self, bytes: &[u8], f: &mut impl FnMut(&str)) {
        // `run..` is the valid text of this chunk not yet passed on; `lead` is where the
        // pending sequence started when that is inside this chunk.
        let mut run = 0;
        let mut lead: Option<usize> = None;
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            if self.have == 0 {
                match seq_len(b) {
                    1 => {}
                    0 => {
                        emit_str(bytes.get(run..i).unwrap_or(&[]), f);
                        f(REPLACEMENT);
                        run = i + 1;
                    }
                    n => {
                        self.pending[0] = b;
                        self.have = 1;
                        self.need = n;
                        lead = Some(i);
                    }
                }
                i += 1;
                continue;
            }
            if continues(self.pending[0], self.have, b) {
                if let Some(slot) = self.pending.get_mut(self.have as usize) {
                    *slot = b;
                }
                self.have += 1;
                i += 1;
                if self.have >= self.need {
                    self.have = 0;
                    if lead.take().is_none() {
                        // Started in an earlier chunk: pass the held character on alone.
                        emit_str(self.pending.get(..self.need as usize).unwrap_or(&[]), f);
                        run = i;
                    }
                } else if lead.is_none() {
                    run = i;
                }
                continue;
            }
            // `b` cannot continue the sequence: the part so far is one U+FFFD, and `b` is
            // looked at again as a possible start.
            let end = lead.take().unwrap_or(i);
            emit_str(bytes.get(run..end).unwrap_or(&[]), f);
            f(REPLACEMENT);
            self.have = 0;
            run = i;
        }
        let end = match (self.have, lead) {
            (0, _) => bytes.len(),
            (_, Some(l)) => l,
            (_, None) => run,
        };
        emit_str(bytes.get(run..end).unwrap_or(&[]), f);
    }
}

impl<'a> Tokenizer<'a> {
    /// Decode `ids` into `buf` as [`Decoder::detokenize`] does; returns the length of the
    /// UTF-8 text written.
    pub fn decode_into(
        &self,
        ids: &[u32],
        remove_special: bool,
        unparse_special: bool,
        buf: &mut [u8],
    ) -> Result<usize> {
        let mut d = Decoder::detokenize(self, remove_special, unparse_special);
        let mut at = 0usize;
        let mut needed = 0usize;
        let mut put = |s: &str| {
            if let Some(dst) = buf.get_mut(at..at + s.len()) {
                dst.copy_from_slice(s.as_bytes());
                at += s.len();
            }
            needed += s.len();
        };
        for &id in ids {
            d.push(self, id, &mut put)?;
        }
        d.finish(&mut put);
        if needed > at {
            return Err(Error::BufferTooSmall {
                needed,
                got: buf.len(),
            });
        }
        Ok(at)
    }

    /// Decode `ids` to a string as [`Decoder::detokenize`] does.
    #[cfg(feature = "alloc")]
    pub fn decode_to_string(
        &self,
        ids: &[u32],
        remove_special: bool,
        unparse_special: bool,
    ) -> Result<alloc::string::String> {
        let mut s = alloc::string::String::new();
        let mut d = Decoder::detokenize(self, remove_special, unparse_special);
        for &id in ids {
            d.push(self, id, |c| s.push_str(c))?;
        }
        d.finish(|c| s.push_str(c));
        Ok(s)
    }
}
