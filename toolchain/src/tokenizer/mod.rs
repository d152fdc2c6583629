//! Training the project's tokenizer and moving it between formats.
//!
//! One tokenization everywhere (DESIGN §5): the Hugging Face tokenizer used in training,
//! mote-runtime and llama.cpp give the same ids for the same text. The vocabulary has a
//! fixed head, then learned SentencePiece-style pieces (`▁` for a space):
//!
//! | ids | tokens |
//! | --- | --- |
//! | 0 | `<unk>` (unknown) |
//! | 1, 2 | `<s>` (BOS), `</s>` (EOS), control |
//! | 3, 4 | `<|im_start|>`, `<|im_end|>`, control |
//! | 5 ..= 260 | `<0x00>` ..= `<0xFF>`, byte fallback |
//! | 261 .. | merged pieces by merge rank (score −rank), then single characters |
//!
//! Behaviour shared by both files, as llama.cpp's "llama" tokenizer has it: special tokens
//! are split out of the text first; every remaining fragment gets a leading space (`▁`,
//! `add_space_prefix`), including the fragments after `<|im_start|>` or `<|im_end|>`; BOS is
//! added, EOS is not. llama.cpp merges the pair whose concatenation scores best; the
//! `tokenizer.json` BPE gets the merges that reproduce it (see [`hf`]). In GGUF the space
//! prefix is the default of "llama" vocabularies (no `add_space_prefix` key), and
//! `add_bos_token = true`, `add_eos_token = false` are written.
//!
//! - [`corpus`]: training texts from `.txt` / `.jsonl` files;
//! - [`train`]: the BPE trainer, producing an [`SpmVocab`];
//! - [`hf`]: `tokenizer.json` from an [`SpmVocab`], and [`spm_vocab`] back;
//! - [`files`]: the output directory, including a GGUF that carries the vocabulary.

pub mod corpus;
pub mod files;
pub mod hf;
pub mod train;

#[cfg(test)]
mod tests;

pub use crate::gguf::llama::{SpmVocab, TokenType};
pub use files::{train_to_dir, write_vocab_gguf, TrainReport};
pub use hf::{hf_tokenizer, spm_vocab};
pub use train::train;

use crate::gguf::llama::{IM_END, IM_START};

/// SentencePiece's visible space.
pub const SPACE: char = '\u{2581}';
pub const UNK: &str = "<unk>";
pub const BOS: &str = "<s>";
pub const EOS: &str = "</s>";
/// The special tokens in id order, with their types.
pub const SPECIALS: [(&str, TokenType); 5] = [
    (UNK, TokenType::Unknown),
    (BOS, TokenType::Control),
    (EOS, TokenType::Control),
    (IM_START, TokenType::Control),
    (IM_END, TokenType::Control),
];
pub const UNK_ID: u32 = 0;
pub const BOS_ID: u32 = 1;
pub const EOS_ID: u32 = 2;
/// Id of `<0x00>`; `<0xXX>` is `FIRST_BYTE_ID + 0xXX`.
pub const FIRST_BYTE_ID: u32 = 5;
/// Id of the first learned piece.
pub const FIRST_PIECE_ID: u32 = FIRST_BYTE_ID + 256;

/// The text of byte token `b`, as SentencePiece and llama.cpp write it.
pub fn byte_token(b: u8) -> String {
    format!("<0x{b:02X}>")
}

/// The byte a `<0xXX>` token stands for.
pub fn byte_value(token: &str) -> Option<u8> {
    let hex = token.strip_prefix("<0x")?.strip_suffix('>')?;
    if hex.len() != 2 {
        return None;
    }
    u8::from_str_radix(hex, 16).ok()
}

/// `text` cut at every special token, as llama.cpp does with `parse_special`: the raw
/// fragments between them, in order, empty ones left out.
pub fn raw_fragments(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        // The earliest special token; the longest where several start at the same byte.
        let next = SPECIALS
            .iter()
            .filter_map(|(s, _)| rest.find(s).map(|at| (at, s.len())))
            .min_by_key(|&(at, len)| (at, std::cmp::Reverse(len)));
        match next {
            Some((at, len)) => {
                if at > 0 {
                    out.push(&rest[..at]);
                }
                rest = &rest[at + len..];
            }
            None => {
                if !rest.is_empty() {
                    out.push(rest);
                }
                return out;
            }
        }
    }
}
