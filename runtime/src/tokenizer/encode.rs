//! Text -> ids: llama.cpp's `llama_tokenize` for SPM vocabularies, in caller memory.

use super::partition::{partition, Matches, WORDS_PER_MATCH};
use super::spm::{Fragment, WORDS_PER_UNIT};
use super::Tokenizer;
use crate::error::{Error, Key, Result};

/// Longest text accepted (positions are kept in `u32` words).
const MAX_TEXT: usize = (u32::MAX / 16) as usize;

impl<'a> Tokenizer<'a> {
    /// `u32` words of `out` that [`Tokenizer::encode`] needs at most for a text of
    /// `text_len` bytes (ids plus working memory).
    pub const fn encode_buffer_len(text_len: usize) -> usize {
        text_len.saturating_mul(8).saturating_add(16)
    }

    /// Words of `scratch` that [`Tokenizer::encode_with_scratch`] needs at most for a text
    /// of `text_len` bytes.
    pub const fn scratch_len(text_len: usize) -> usize {
        text_len.saturating_mul(WORDS_PER_UNIT).saturating_add(8)
    }

    /// Encode `text` into `out` and return the number of ids, as llama.cpp's
    /// `llama_tokenize(text, add_special, parse_special)`:
    ///
    /// - `add_special`: add BOS first (and EOS last) when the file's `add_bos_token`
    ///   (`add_eos_token`) says so;
    /// - `parse_special`: split control and unknown tokens written in the text (such as
    ///   `<|im_start|>`) out as their ids; user-defined tokens are always split out.
    ///
    /// `out` is also the working memory: [`Tokenizer::encode_buffer_len`]`(text.len())`
    /// words always suffice. If `out` is too small the result is [`Error::TooManyTokens`].
    pub fn encode(
        &self,
        text: &str,
        add_special: bool,
        parse_special: bool,
        out: &mut [u32],
    ) -> Result<usize> {
        self.encode_impl(text.as_bytes(), add_special, parse_special, out, None)
            .map_err(|e| match e {
                Error::BufferTooSmall { .. } => Error::TooManyTokens,
                e => e,
            })
    }

    /// [`Tokenizer::encode`] with separate working memory, so `out` only needs room for the
    /// ids. `scratch` needs [`Tokenizer::scratch_len`]`(text.len())` words at most; a smaller
    /// one may suffice (text split by special tokens needs less) or give
    /// [`Error::BufferTooSmall`].
    pub fn encode_with_scratch(
        &self,
        text: &str,
        add_special: bool,
        parse_special: bool,
        out: &mut [u32],
        scratch: &mut [u32],
    ) -> Result<usize> {
        self.encode_impl(
            text.as_bytes(),
            add_special,
            parse_special,
            out,
            Some(scratch),
        )
    }

    /// Encode into a new vector.
    #[cfg(feature = "alloc")]
    pub fn encode_vec(
        &self,
        text: &str,
        add_special: bool,
        parse_special: bool,
    ) -> Result<alloc::vec::Vec<u32>> {
        let mut out = alloc::vec![0u32; Self::encode_buffer_len(text.len())];
        let n = self.encode(text, add_special, parse_special, &mut out)?;
        out.truncate(n);
        Ok(out)
    }

    fn encode_impl(
        &self,
        text: &[u8],
        add_special: bool,
        parse_special: bool,
        out: &mut [u32],
        scratch: Option<&mut [u32]>,
    ) -> Result<usize> {
        if text.len() > MAX_TEXT {
            return Err(Error::TooManyTokens);
        }
        let missing = Error::BadKey(Key::SpecialTokenId);
        let bos = if add_special && self.special.add_bos {
            Some(self.special.bos.ok_or(missing)?)
        } else {
            None
        };
        let eos = if add_special && self.special.add_eos {
            Some(self.special.eos.ok_or(missing)?)
        } else {
            None
        };
        let mut written = 0;
        if let Some(b) = bos {
            *out.first_mut().ok_or(Error::TooManyTokens)? = b;
            written = 1;
        }
        written += match scratch {
            Some(s) => self.encode_split(text, parse_special, &mut out[written..], s)?,
            None => self.encode_single(text, parse_special, &mut out[written..])?,
        };
        // In single-buffer mode the special-token matches sat at the end of `out`; they are
        // no longer needed, so EOS may take their room.
        if let Some(e) = eos {
            *out.get_mut(written).ok_or(Error::TooManyTokens)? = e;
            written += 1;
        }
        Ok(written)
    }

    /// Ids to `out`; special-token matches and merge memory in `scratch`.
    fn encode_split(
        &self,
        text: &[u8],
        parse_special: bool,
        out: &mut [u32],
        scratch: &mut [u32],
    ) -> Result<usize> {
        let total = scratch.len();
        let too_small = Error::BufferTooSmall {
            needed: Self::scratch_len(text.len()),
            got: total,
        };
        let m = partition(&self.t, text, parse_special, scratch).ok_or(too_small)?;
        let (work, tail) = scratch.split_at_mut(total - WORDS_PER_MATCH * m);
        let matches = Matches::new(tail);
        self.encode_fragments(text, matches, out, |tok, f, dst| {
            tok.spm(f, work, dst).map_err(|e| match e {
                Error::BufferTooSmall { needed, .. } => Error::BufferTooSmall {
                    needed: needed + WORDS_PER_MATCH * m,
                    got: total,
                },
                e => e,
            })
        })
    }

    /// Everything in `out`: ids from the front, matches at the end, merge memory between.
    fn encode_single(&self, text: &[u8], parse_special: bool, out: &mut [u32]) -> Result<usize> {
        let m = partition(&self.t, text, parse_special, out).ok_or(Error::TooManyTokens)?;
        let (ids, tail) = out.split_at_mut(out.len() - WORDS_PER_MATCH * m);
        let matches = Matches::new(tail);
        self.encode_fragments(text, matches, ids, |tok, f, rest| {
            // The fragment's ids go ahead of its working memory: reserve the most it can
            // emit (one id per escaped byte).
            let reserve = f.escaped_len().min(rest.len());
            let (dst, work) = rest.split_at_mut(reserve);
            tok.spm(f, work, dst)
        })
    }

    /// Walk the text in order: raw fragments (merged by `merge` into the free part of `ids`)
    /// and special-token matches. Returns the number of ids written.
    fn encode_fragments(
        &self,
        text: &[u8],
        matches: Matches<'_>,
        ids: &mut [u32],
        mut merge: impl FnMut(&Self, Fragment<'_>, &mut [u32]) -> Result<usize>,
    ) -> Result<usize> {
        let mut written = 0usize;
        // llama.cpp prefixes the first fragment, and every fragment after a special token.
        let mut prev_special = true;
        let mut cursor = 0usize;
        for j in 0..=matches.len() {
            let (end, special) = match matches.get(j) {
                Some(m) => (m.start, Some(m)),
                None => (text.len(), None),
            };
            if let Some(raw) = text.get(cursor..end).filter(|r| !r.is_empty()) {
                let f = Fragment {
                    raw,
                    prefix: self.special.add_space_prefix && prev_special,
                };
                let rest = ids.get_mut(written..).ok_or(Error::TooManyTokens)?;
                written += merge(self, f, rest)?;
                prev_special = false;
            }
            if let Some(m) = special {
                *ids.get_mut(written).ok_or(Error::TooManyTokens)? = m.id;
                written += 1;
                prev_special = true;
                cursor = m.end;
            }
        }
        Ok(written)
    }
}
