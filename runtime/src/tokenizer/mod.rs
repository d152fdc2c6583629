//! The "llama" (SentencePiece-style) tokenizer, built from GGUF metadata, with no heap.
//!
//! It reproduces llama.cpp's `llama_tokenize` and `llama_token_to_piece` /
//! `llama_detokenize` for `tokenizer.ggml.model = "llama"`:
//!
//! - **Encoding** ([`Tokenizer::encode`]): special tokens (control, unknown and user-defined;
//!   without `parse_special` only user-defined) are split out of the text first, longest
//!   first (`partition.rs`). Each remaining raw fragment gets a leading space when
//!   `add_space_prefix` is set and it is the first fragment or follows a special token, its
//!   spaces become `▁`, and it is merged by best-scoring bigrams with byte fallback (`spm.rs`).
//!   `add_special` adds BOS (and EOS) as the file's `add_bos_token`/`add_eos_token` say.
//! - **Decoding** ([`Tokenizer::piece`], [`Decoder`]): a normal token shows `▁` as a space, a
//!   byte token `<0xXX>` is that byte, control and unknown tokens show their text only when
//!   asked to. [`Decoder`] streams ids to complete UTF-8 text.
//!
//! All tables live in one caller-provided `&mut [u32]` ([`Tokenizer::table_len`] words);
//! encoding works in the caller's output buffer (or a separate scratch buffer).
//!
//! llama.cpp also adjusts token attributes when it loads a vocabulary, and so does mote
//! (`special.rs`): end-of-turn, end-of-message and fill-in-the-middle texts such as
//! `<|im_end|>` become control tokens, and in models named Phi-3 special tokens drop the
//! whitespace after them.
//!
//! Known differences from llama.cpp, all on vocabularies it rejects or leaves unspecified:
//! an empty vocabulary entry (llama.cpp renames it `[EMPTY_<id>]`) matches nothing and
//! renders as nothing; duplicate token texts are an error (llama.cpp aborts); a missing byte
//! token falls back to the unknown token (llama.cpp throws); where llama.cpp picks one of
//! several candidate tokens from a hash map, the lowest id is taken, and equally long
//! special tokens are tried in id order; the Phi-3 rule does not require `<|endoftext|>`
//! (llama.cpp fails to load without it). The `lstrip` attribute, which llama.cpp only sets
//! for BERT-style models, is not implemented.

mod decode;
mod encode;
mod partition;
mod special;
mod spm;
mod vocab;

#[cfg(test)]
mod tests;

pub use decode::{Decoder, Piece};
pub use special::SpecialIds;
pub use vocab::{Attrs, MAX_VOCAB};

use crate::error::{Error, Result};
use crate::gguf::{Array, Gguf, ValueType};
use vocab::{Meta, Tables};

/// A "llama" vocabulary: borrowed GGUF arrays plus lookup tables in caller memory.
#[derive(Clone, Copy)]
pub struct Tokenizer<'a> {
    t: Tables<'a>,
    scores: Option<Array<'a>>,
    special: SpecialIds,
    max_token_len: usize,
}

impl core::fmt::Debug for Tokenizer<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Tokenizer")
            .field("n_vocab", &self.n_vocab())
            .field("special", &self.special)
            .field("n_special_tokens", &self.t.specials.len())
            .field("max_token_len", &self.max_token_len)
            .finish()
    }
}

impl<'a> Tokenizer<'a> {
    /// `u32` words of table memory [`Tokenizer::build`] needs for this file's vocabulary.
    pub fn table_len(g: &Gguf<'a>) -> Result<usize> {
        let meta = Meta::read(g)?;
        Ok(vocab::table_words(meta.n, meta.max_specials()))
    }

    /// Validate the tokenizer metadata and build the lookup tables into `table`
    /// (at least [`Tokenizer::table_len`] words).
    pub fn build(g: &Gguf<'a>, table: &'a mut [u32]) -> Result<Tokenizer<'a>> {
        let meta = Meta::read(g)?;
        let built = vocab::build(&meta, table)?;
        Ok(Tokenizer {
            t: built.tables,
            scores: meta.scores,
            special: built.special,
            max_token_len: built.max_token_len,
        })
    }

    /// Number of tokens in the vocabulary.
    pub fn n_vocab(&self) -> usize {
        self.t.n()
    }

    pub fn bos(&self) -> Option<u32> {
        self.special.bos
    }

    pub fn eos(&self) -> Option<u32> {
        self.special.eos
    }

    /// End-of-turn token (from the key, or detected by text such as `<|im_end|>`).
    pub fn eot(&self) -> Option<u32> {
        self.special.eot
    }

    pub fn unk(&self) -> Option<u32> {
        self.special.unk
    }

    pub fn pad(&self) -> Option<u32> {
        self.special.pad
    }

    /// All special ids and the `add_bos`/`add_eos`/`add_space_prefix` flags.
    pub fn special_ids(&self) -> &SpecialIds {
        &self.special
    }

    /// Length in bytes of the longest vocabulary entry (an upper bound on any piece).
    pub fn max_token_len(&self) -> usize {
        self.max_token_len
    }

    /// Exact vocabulary lookup, e.g. `b"<|im_end|>"`. The empty text matches nothing.
    pub fn token_id(&self, text: &[u8]) -> Option<u32> {
        self.t.find(text)
    }

    /// The raw vocabulary text of `id`.
    pub fn token_bytes(&self, id: u32) -> Option<&'a [u8]> {
        ((id as usize) < self.n_vocab()).then(|| self.t.text(id))
    }

    /// The token's score (0.0 when the file has no scores).
    pub fn token_score(&self, id: u32) -> Option<f32> {
        ((id as usize) < self.n_vocab()).then(|| self.score(id))
    }

    /// The token's attributes, as llama.cpp derives them.
    pub fn attrs(&self, id: u32) -> Option<Attrs> {
        ((id as usize) < self.n_vocab()).then(|| self.t.attrs(id))
    }

    /// A control token (BOS, EOS, `<|im_start|>`, ...): not printed unless asked for.
    pub fn is_control(&self, id: u32) -> bool {
        self.attrs(id).is_some_and(Attrs::is_control)
    }

    /// In llama.cpp's end-of-generation set: EOS, EOT, EOM and texts such as `<|im_end|>`.
    pub fn is_eog(&self, id: u32) -> bool {
        self.attrs(id).is_some_and(Attrs::is_eog)
    }

    fn score(&self, id: u32) -> f32 {
        match self.scores {
            Some(s) if s.elem_type() == ValueType::F32 => s.f32(id as usize).unwrap_or(0.0),
            Some(s) => s.i32(id as usize).map_or(0.0, |v| v as f32),
            None => 0.0,
        }
    }

    /// What `id` renders as ([`Piece`]): llama.cpp's `token_to_piece`. Control and unknown
    /// tokens render their text only when `special` is set.
    pub fn piece_parts(&self, id: u32, special: bool) -> Result<Piece<'a>> {
        let a = self.attrs(id).ok_or(Error::BadToken(id))?;
        let text = self.t.text(id);
        Ok(if a.is_control() || a.is_unknown() {
            if special {
                Piece::Text(text)
            } else {
                Piece::Empty
            }
        } else if a.is_user_defined() {
            Piece::Text(text)
        } else if a.is_normal() {
            Piece::Spaced(text)
        } else if a.is_byte() {
            Piece::Byte(vocab::byte_value(text).unwrap_or(0))
        } else {
            // Unused and undefined tokens render as nothing, as in llama.cpp.
            Piece::Empty
        })
    }

    /// The bytes `id` renders as, copied into `buf` (which [`Tokenizer::max_token_len`]
    /// bytes always suffice for).
    pub fn piece<'b>(&self, id: u32, special: bool, buf: &'b mut [u8]) -> Result<&'b [u8]> {
        let p = self.piece_parts(id, special)?;
        let n = p.copy_to(buf)?;
        Ok(&buf[..n])
    }
}
