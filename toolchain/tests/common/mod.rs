//! A tiny word-level tokenizer for data and training tests.

use tokenizers::Tokenizer;

pub const WORDS: &[&str] = &[
    "<unk>",
    "<|im_start|>",
    "<|im_end|>",
    "system",
    "user",
    "assistant",
    "hello",
    "hi",
    "there",
    "how",
    "are",
    "you",
    "fine",
    "be",
    "brief",
    ".",
    "?",
    "!",
    "<s>",
    "</s>",
];

pub fn id(word: &str) -> u32 {
    WORDS.iter().position(|w| *w == word).unwrap() as u32
}

/// Words split on whitespace and punctuation; the ChatML delimiters are special tokens.
pub fn tokenizer() -> Tokenizer {
    let vocab: serde_json::Map<String, serde_json::Value> = WORDS
        .iter()
        .enumerate()
        .map(|(i, w)| (w.to_string(), i.into()))
        .collect();
    let special = |i: usize| {
        serde_json::json!({"id": i, "content": WORDS[i], "single_word": false, "lstrip": false,
            "rstrip": false, "normalized": false, "special": true})
    };
    let json = serde_json::json!({
        "version": "1.0", "truncation": null, "padding": null,
        "added_tokens": [special(0), special(1), special(2)],
        "normalizer": null,
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": null, "decoder": null,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "<unk>"}
    });
    Tokenizer::from_bytes(serde_json::to_vec(&json).unwrap()).unwrap()
}
