//! BPE training with the Hugging Face `tokenizers` trainer, into the fixed layout.
//!
//! The trainer sees words the way SentencePiece cuts them: each raw fragment (special
//! tokens removed) gets the space prefix, a word starts at each `▁`, every digit is a word
//! of its own (no multi-digit pieces), and newlines are left out (they become `<0x0A>`).
//! No piece therefore holds a `▁` after its first character. The trainer is deterministic:
//! it breaks count ties by token ids, and its ids come from the sorted alphabet.

use std::collections::HashSet;

use tokenizers::models::bpe::{BpeTrainer, BPE};
use tokenizers::Trainer;

use super::{byte_token, raw_fragments, SpmVocab, TokenType, BOS_ID, EOS_ID, SPACE, SPECIALS};
use super::{FIRST_PIECE_ID, UNK_ID};
use crate::error::{Error, Result};

/// Pairs seen fewer times than this are not merged.
const MIN_FREQUENCY: u64 = 2;

/// Train a vocabulary of at most `vocab_size` tokens on `texts`.
///
/// Merged pieces come first, by merge rank, with score −rank (1-based); the characters of
/// the corpus follow with lower scores. llama.cpp's best-score merging then replays the
/// trainer's merges.
pub fn train(texts: &[String], vocab_size: usize) -> Result<SpmVocab> {
    let head = FIRST_PIECE_ID as usize;
    let mut trainer = BpeTrainer::builder()
        .vocab_size(vocab_size.saturating_sub(head))
        .min_frequency(MIN_FREQUENCY)
        .show_progress(false)
        .build();
    trainer
        .feed(texts.iter(), |t| Ok(training_words(t)))
        .map_err(|e| Error::Tokenizer(format!("training failed: {e}")))?;
    let mut bpe = BPE::default();
    trainer
        .train(&mut bpe)
        .map_err(|e| Error::Tokenizer(format!("training failed: {e}")))?;

    // The trainer numbers characters first, then each new piece when it is created.
    let mut learned: Vec<(String, u32)> = bpe.get_vocab().into_iter().collect();
    learned.sort_by_key(|&(_, id)| id);
    let mut tokens: Vec<String> = SPECIALS.iter().map(|(s, _)| s.to_string()).collect();
    tokens.extend((0..=255u8).map(byte_token));
    let reserved: HashSet<String> = tokens.iter().cloned().collect();
    let learned = learned.into_iter().map(|(s, _)| s);
    let learned = learned.filter(|s| !reserved.contains(s));
    let (chars, merged): (Vec<String>, Vec<String>) = learned.partition(|s| s.chars().count() == 1);
    let needed = head + chars.len();
    if needed > vocab_size {
        return Err(Error::VocabTooSmall {
            requested: vocab_size,
            needed,
        });
    }

    let mut scores = vec![0.0f32; head];
    let mut token_types: Vec<TokenType> = SPECIALS.iter().map(|&(_, t)| t).collect();
    token_types.resize(head, TokenType::Byte);
    for (rank, piece) in merged.into_iter().chain(chars).enumerate() {
        tokens.push(piece);
        scores.push(-((rank + 1) as f32));
        token_types.push(TokenType::Normal);
    }
    Ok(SpmVocab {
        tokens,
        scores,
        token_types,
        bos: BOS_ID,
        eos: EOS_ID,
        unk: UNK_ID,
        add_bos: true,
        add_eos: false,
    })
}

/// The words the trainer counts in one text.
fn training_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    for fragment in raw_fragments(text) {
        let mut word = String::new();
        for c in std::iter::once(' ').chain(fragment.chars()) {
            let boundary = c == ' ' || c == '\n' || c.is_ascii_digit();
            if boundary && !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            match c {
                ' ' => word.push(SPACE),
                '\n' => {}
                c if c.is_ascii_digit() => words.push(c.to_string()),
                c => word.push(c),
            }
        }
        if !word.is_empty() {
            words.push(word);
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_cut_like_sentencepiece() {
        let w = training_words("Hi  there, 42 cats\nsat<|im_end|>x");
        assert_eq!(
            w,
            ["▁Hi", "▁", "▁there,", "▁", "4", "2", "▁cats", "sat", "▁x"].map(String::from)
        );
        assert!(training_words("").is_empty());
    }
}
