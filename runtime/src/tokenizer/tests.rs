//! Unit tests on small hand-made vocabularies (written as GGUF files in memory).

extern crate std;

use std::string::String;
use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use super::*;
use crate::error::Key;

/// A metadata value for the in-memory GGUF writer.
#[derive(Clone)]
enum Kv {
    Str(String),
    Bool(bool),
    U32(u32),
    I32(i32),
    Strs(Vec<String>),
    F32s(Vec<f32>),
    I32s(Vec<i32>),
}

fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s);
}

/// A GGUF v3 file with the given metadata and no tensors.
fn gguf(kvs: &[(&str, Kv)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"GGUF");
    out.extend_from_slice(&3u32.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes());
    out.extend_from_slice(&(kvs.len() as u64).to_le_bytes());
    for (k, v) in kvs {
        put_str(&mut out, k.as_bytes());
        let arr = |out: &mut Vec<u8>, ty: u32, n: usize| {
            out.extend_from_slice(&9u32.to_le_bytes());
            out.extend_from_slice(&ty.to_le_bytes());
            out.extend_from_slice(&(n as u64).to_le_bytes());
        };
        match v {
            Kv::Str(s) => {
                out.extend_from_slice(&8u32.to_le_bytes());
                put_str(&mut out, s.as_bytes());
            }
            Kv::Bool(b) => {
                out.extend_from_slice(&7u32.to_le_bytes());
                out.push(*b as u8);
            }
            Kv::U32(x) => {
                out.extend_from_slice(&4u32.to_le_bytes());
                out.extend_from_slice(&x.to_le_bytes());
            }
            Kv::I32(x) => {
                out.extend_from_slice(&5u32.to_le_bytes());
                out.extend_from_slice(&x.to_le_bytes());
            }
            Kv::Strs(v) => {
                arr(&mut out, 8, v.len());
                v.iter().for_each(|s| put_str(&mut out, s.as_bytes()));
            }
            Kv::F32s(v) => {
                arr(&mut out, 6, v.len());
                v.iter()
                    .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
            }
            Kv::I32s(v) => {
                arr(&mut out, 5, v.len());
                v.iter()
                    .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
            }
        }
    }
    out
}

const NORMAL: i32 = 1;
const UNKNOWN: i32 = 2;
const CONTROL: i32 = 3;
const USER: i32 = 4;
const BYTE: i32 = 6;

/// A vocabulary file: `(text, score, type)` per token plus extra keys.
fn vocab_file(tokens: &[(String, f32, i32)], extra: &[(&str, Kv)]) -> Vec<u8> {
    let mut kvs: Vec<(&str, Kv)> = vec![
        ("tokenizer.ggml.model", Kv::Str("llama".into())),
        (
            "tokenizer.ggml.tokens",
            Kv::Strs(tokens.iter().map(|t| t.0.clone()).collect()),
        ),
        (
            "tokenizer.ggml.scores",
            Kv::F32s(tokens.iter().map(|t| t.1).collect()),
        ),
        (
            "tokenizer.ggml.token_type",
            Kv::I32s(tokens.iter().map(|t| t.2).collect()),
        ),
    ];
    kvs.extend(extra.iter().cloned());
    gguf(&kvs)
}

/// `<unk> <s> </s> <|im_start|> <|im_end|>`, the 256 byte tokens (ids 5..261), then normal
/// tokens with descending scores in the order given.
fn base_tokens(normal: &[&str]) -> Vec<(String, f32, i32)> {
    let mut t: Vec<(String, f32, i32)> = vec![
        ("<unk>".into(), 0.0, UNKNOWN),
        ("<s>".into(), 0.0, CONTROL),
        ("</s>".into(), 0.0, CONTROL),
        ("<|im_start|>".into(), 0.0, CONTROL),
        ("<|im_end|>".into(), 0.0, CONTROL),
    ];
    for b in 0..256 {
        t.push((std::format!("<0x{b:02X}>"), 0.0, BYTE));
    }
    for (i, s) in normal.iter().enumerate() {
        t.push((String::from(*s), -(i as f32), NORMAL));
    }
    t
}

const BYTE0: u32 = 5;

fn standard() -> Vec<u8> {
    vocab_file(
        &base_tokens(&[
            "▁", "a", "b", "c", "é", "▁a", "ab", "bc", "▁ab", "abc", "▁▁", "x", "\n",
        ]),
        &[],
    )
}

/// Run `f` with the tokenizer of `file`.
fn with<R>(file: &[u8], f: impl FnOnce(&Tokenizer<'_>) -> R) -> R {
    let g = Gguf::parse(file).expect("parse");
    let mut table = vec![0u32; Tokenizer::table_len(&g).expect("table_len")];
    let tok = Tokenizer::build(&g, &mut table).expect("build");
    f(&tok)
}

fn id(tok: &Tokenizer<'_>, s: &str) -> u32 {
    tok.token_id(s.as_bytes())
        .unwrap_or_else(|| panic!("{s:?} not in vocab"))
}

fn enc(tok: &Tokenizer<'_>, text: &str, add_special: bool, parse_special: bool) -> Vec<u32> {
    tok.encode_vec(text, add_special, parse_special)
        .expect("encode")
}

fn decode_pieces(tok: &Tokenizer<'_>, ids: &[u32]) -> String {
    let mut d = Decoder::pieces(false);
    let mut s = String::new();
    for &i in ids {
        d.push(tok, i, |c| s.push_str(c)).unwrap();
    }
    d.finish(|c| s.push_str(c));
    s
}

#[test]
fn tables_and_lookups() {
    with(&standard(), |tok| {
        assert_eq!(tok.n_vocab(), 5 + 256 + 13);
        assert_eq!(
            (tok.bos(), tok.eos(), tok.unk()),
            (Some(1), Some(2), Some(0))
        );
        assert_eq!(tok.token_id(b"<|im_end|>"), Some(4));
        assert_eq!(tok.token_id(b"<0x41>"), Some(BYTE0 + 0x41));
        assert_eq!(tok.token_id(b""), None);
        assert_eq!(tok.token_id(b"zzz"), None);
        assert_eq!(tok.token_bytes(3), Some(&b"<|im_start|>"[..]));
        assert_eq!(tok.token_bytes(10_000), None);
        assert!(tok.is_control(1) && tok.is_control(4) && !tok.is_control(0));
        assert!(tok.is_eog(2) && tok.is_eog(4) && !tok.is_eog(3));
        // `<|im_end|>` is detected as the end-of-turn token by its text.
        assert_eq!(tok.eot(), Some(4));
        assert_eq!(tok.max_token_len(), "<|im_start|>".len());
    });
}

#[test]
fn highest_score_merges_first_and_ties_go_left() {
    // "bc" outscores "ab": a|bc.
    let file = vocab_file(&base_tokens(&["▁", "a", "b", "c", "bc", "ab"]), &[]);
    with(&file, |tok| {
        let ids = enc(tok, "abc", false, false);
        assert_eq!(ids, [id(tok, "▁"), id(tok, "a"), id(tok, "bc")]);
    });
    // Equal scores: the leftmost pair merges first: ab|c.
    let mut t = base_tokens(&["▁", "a", "b", "c", "ab", "bc"]);
    let n = t.len();
    t[n - 1].1 = t[n - 2].1;
    with(&vocab_file(&t, &[]), |tok| {
        let ids = enc(tok, "abc", false, false);
        assert_eq!(ids, [id(tok, "▁"), id(tok, "ab"), id(tok, "c")]);
    });
}

#[test]
fn merges_build_longer_tokens_and_spaces_become_the_marker() {
    with(&standard(), |tok| {
        // "▁abc ab": "▁a" merges first (best score), then "bc" beats "▁ab"; "▁abc" is
        // not a token. The second fragment goes "▁a" then "▁ab".
        let ids = enc(tok, "abc ab", true, false);
        assert_eq!(ids, [1, id(tok, "▁a"), id(tok, "bc"), id(tok, "▁ab")]);
        // "abc" wins when nothing left of it merges first.
        let file = vocab_file(&base_tokens(&["ab", "abc", "▁"]), &[]);
        with(&file, |tok| {
            assert_eq!(
                enc(tok, "abc", false, false),
                [id(tok, "▁"), id(tok, "abc")]
            );
        });
        // Two spaces: "▁▁" then "a".
        let ids = enc(tok, "  a", false, false);
        assert_eq!(ids, [id(tok, "▁▁"), id(tok, "▁a")]);
    });
}

#[test]
fn byte_fallback_for_characters_missing_from_the_vocab() {
    with(&standard(), |tok| {
        // 'é' is in the vocabulary, '😀' (F0 9F 98 80) and 'ü' (C3 BC) are not.
        let ids = enc(tok, "é😀ü", false, false);
        let b = |x: u32| BYTE0 + x;
        assert_eq!(
            ids,
            [
                id(tok, "▁"),
                id(tok, "é"),
                b(0xf0),
                b(0x9f),
                b(0x98),
                b(0x80),
                b(0xc3),
                b(0xbc)
            ]
        );
        assert_eq!(tok.decode_to_string(&ids, true, false).unwrap(), "é😀ü");
        // A space with no "▁" token falls back to the bytes of "▁" (E2 96 81).
        let file = vocab_file(&base_tokens(&["a"]), &[]);
        with(&file, |tok| {
            let ids = enc(tok, " a", false, false);
            let e = [b(0xe2), b(0x96), b(0x81)];
            assert_eq!(
                ids,
                [e, e]
                    .concat()
                    .into_iter()
                    .chain([id(tok, "a")])
                    .collect::<Vec<_>>()
            );
            // Byte tokens render as raw bytes: those spaces come back as "▁" (as in llama.cpp).
            assert_eq!(tok.decode_to_string(&ids, false, false).unwrap(), "▁▁a");
        });
    });
}

#[test]
fn missing_byte_tokens_fall_back_to_unknown() {
    let mut t = base_tokens(&["▁", "a"]);
    t.retain(|(_, _, ty)| *ty != BYTE);
    with(&vocab_file(&t, &[]), |tok| {
        assert_eq!(
            enc(tok, "aß", false, false),
            [id(tok, "▁"), id(tok, "a"), 0, 0]
        );
    });
    // Without an unknown token the text cannot be encoded.
    t[0].2 = NORMAL;
    let file = vocab_file(&t, &[("tokenizer.ggml.unknown_token_id", Kv::I32(-1))]);
    with(&file, |tok| {
        assert_eq!(tok.unk(), None);
        assert_eq!(tok.encode_vec("ß", false, false), Err(Error::BadVocab));
    });
}

#[test]
fn empty_text() {
    with(&standard(), |tok| {
        assert_eq!(enc(tok, "", true, true), [1]);
        assert_eq!(enc(tok, "", false, true), [] as [u32; 0]);
        let mut out = [0u32; 1];
        assert_eq!(tok.encode("", true, false, &mut out), Ok(1));
        assert_eq!(tok.encode("", false, false, &mut []), Ok(0));
        assert_eq!(
            tok.encode("", true, false, &mut []),
            Err(Error::TooManyTokens)
        );
    });
}

#[test]
fn text_that_is_only_a_control_token() {
    with(&standard(), |tok| {
        assert_eq!(enc(tok, "<|im_start|>", true, true), [1, 3]);
        assert_eq!(enc(tok, "<|im_start|>", false, true), [3]);
        // Without parse_special it is ordinary text (byte fallback for '<', '|', ...).
        let plain = enc(tok, "<|im_start|>", false, false);
        assert!(plain.len() > 3 && !plain.contains(&3));
        assert_eq!(decode_pieces(tok, &plain), " <|im_start|>");
        // The control token renders as nothing unless asked for.
        assert_eq!(tok.decode_to_string(&[3], false, false).unwrap(), "");
        assert_eq!(
            tok.decode_to_string(&[3], false, true).unwrap(),
            "<|im_start|>"
        );
        // A fragment after a special token gets its own space prefix.
        let ids = enc(tok, "<|im_start|>a<|im_end|>", false, true);
        assert_eq!(ids, [3, id(tok, "▁a"), 4]);
        assert_eq!(tok.decode_to_string(&ids, true, false).unwrap(), " a");
    });
}

#[test]
fn longer_special_tokens_claim_text_first() {
    // llama.cpp splits by "bcd" before "ab" even though "ab" starts further left.
    let mut t = base_tokens(&["▁", "a", "b", "c", "d"]);
    t.push(("ab".into(), 0.0, USER));
    t.push(("bcd".into(), 0.0, USER));
    with(&vocab_file(&t, &[]), |tok| {
        let (ab, bcd) = (id(tok, "ab"), id(tok, "bcd"));
        assert_eq!(
            enc(tok, "abcd", false, false),
            [id(tok, "▁"), id(tok, "a"), bcd]
        );
        // The " " between them follows a special token, so it gets a prefix space too.
        let sp = id(tok, "▁");
        assert_eq!(enc(tok, "ab ab", false, false), [ab, sp, sp, ab]);
        // User-defined tokens render their text; normal tokens show spaces.
        assert_eq!(decode_pieces(tok, &[ab, bcd]), "abbcd");
    });
}

#[test]
fn add_space_prefix_false_and_add_eos() {
    let file = vocab_file(
        &base_tokens(&["▁", "a", "▁a"]),
        &[
            ("tokenizer.ggml.add_space_prefix", Kv::Bool(false)),
            ("tokenizer.ggml.add_eos_token", Kv::Bool(true)),
        ],
    );
    with(&file, |tok| {
        assert_eq!(
            enc(tok, "a a", true, true),
            [1, id(tok, "a"), id(tok, "▁a"), 2]
        );
        assert_eq!(enc(tok, "a", false, true), [id(tok, "a")]);
        // remove_special drops BOS and the final EOS; no space is stripped.
        let ids = enc(tok, " a", true, true);
        assert_eq!(tok.decode_to_string(&ids, true, false).unwrap(), " a");
        assert_eq!(
            tok.decode_to_string(&ids, false, true).unwrap(),
            "<s> a</s>"
        );
    });
}

#[test]
fn text_fixups_make_end_of_turn_tokens_control() {
    // `<|im_end|>` typed as a normal token becomes control (and ends generation).
    let mut t = base_tokens(&["▁", "a"]);
    t[4].2 = NORMAL;
    t.push(("<|endoftext|>".into(), 0.0, USER));
    with(&vocab_file(&t, &[]), |tok| {
        assert!(tok.is_control(4) && tok.is_eog(4));
        let eot = id(tok, "<|endoftext|>");
        assert!(tok.is_control(eot) && tok.is_eog(eot));
        assert_eq!(tok.eot(), Some(4));
        // Control now: split out only with parse_special.
        assert_eq!(enc(tok, "<|im_end|>", false, true), [4]);
        assert!(!enc(tok, "<|im_end|>", false, false).contains(&4));
    });
}

#[test]
fn too_small_buffers() {
    with(&standard(), |tok| {
        let text = "abc abc <|im_end|> é";
        let want = enc(tok, text, true, true);
        // Single buffer: the documented size always suffices.
        let mut out = vec![0u32; Tokenizer::encode_buffer_len(text.len())];
        assert_eq!(tok.encode(text, true, true, &mut out), Ok(want.len()));
        for len in 0..want.len() {
            let mut out = vec![0u32; len];
            assert_eq!(
                tok.encode(text, true, true, &mut out),
                Err(Error::TooManyTokens)
            );
        }
        // Separate scratch: `out` needs exactly the ids.
        let mut scratch = vec![0u32; Tokenizer::scratch_len(text.len())];
        let mut out = vec![0u32; want.len()];
        assert_eq!(
            tok.encode_with_scratch(text, true, true, &mut out, &mut scratch),
            Ok(want.len())
        );
        assert_eq!(out, want);
        let mut out = vec![0u32; want.len() - 1];
        assert_eq!(
            tok.encode_with_scratch(text, true, true, &mut out, &mut scratch),
            Err(Error::TooManyTokens)
        );
        let mut out = vec![0u32; want.len()];
        let mut scratch = [0u32; 3];
        assert!(matches!(
            tok.encode_with_scratch(text, true, true, &mut out, &mut scratch),
            Err(Error::BufferTooSmall { got: 3, .. })
        ));
        // Pieces.
        let mut buf = [0u8; 2];
        assert_eq!(
            tok.piece(3, true, &mut buf),
            Err(Error::BufferTooSmall { needed: 12, got: 2 })
        );
        assert_eq!(tok.piece(3, false, &mut buf), Ok(&b""[..]));
        assert_eq!(tok.piece(9999, false, &mut buf), Err(Error::BadToken(9999)));
    });
}

#[test]
fn bad_metadata() {
    let build = |file: &[u8]| {
        let g = Gguf::parse(file).expect("parse");
        let mut table = vec![0u32; 4096];
        Tokenizer::build(&g, &mut table).map(|t| t.n_vocab())
    };
    let t = base_tokens(&["a"]);
    let with_model = |m: Kv| {
        let mut kvs = vec![("tokenizer.ggml.model", m)];
        kvs.push((
            "tokenizer.ggml.tokens",
            Kv::Strs(t.iter().map(|x| x.0.clone()).collect()),
        ));
        build(&gguf(&kvs))
    };
    assert_eq!(
        with_model(Kv::Str("gpt2".into())),
        Err(Error::UnsupportedTokenizer)
    );
    assert_eq!(
        with_model(Kv::U32(1)),
        Err(Error::BadKey(Key::TokenizerModel))
    );
    // Scores and types are optional.
    assert_eq!(with_model(Kv::Str("llama".into())), Ok(t.len()));
    assert_eq!(
        build(&gguf(&[])),
        Err(Error::MissingKey(Key::TokenizerModel))
    );
    assert_eq!(
        build(&gguf(&[("tokenizer.ggml.model", Kv::Str("llama".into()))])),
        Err(Error::MissingKey(Key::TokenizerTokens))
    );
    let kvs = [
        ("tokenizer.ggml.model", Kv::Str("llama".into())),
        (
            "tokenizer.ggml.tokens",
            Kv::Strs(vec!["a".into(), "b".into()]),
        ),
        ("tokenizer.ggml.scores", Kv::F32s(vec![0.0])),
    ];
    assert_eq!(build(&gguf(&kvs)), Err(Error::BadKey(Key::TokenizerScores)));
    let kvs = [
        ("tokenizer.ggml.model", Kv::Str("llama".into())),
        (
            "tokenizer.ggml.tokens",
            Kv::Strs(vec!["a".into(), "b".into()]),
        ),
        ("tokenizer.ggml.token_type", Kv::F32s(vec![0.0, 1.0])),
    ];
    assert_eq!(
        build(&gguf(&kvs)),
        Err(Error::BadKey(Key::TokenizerTokenType))
    );
    let kvs = [
        ("tokenizer.ggml.model", Kv::Str("llama".into())),
        (
            "tokenizer.ggml.tokens",
            Kv::Strs(vec!["a".into(), "a".into()]),
        ),
    ];
    assert_eq!(build(&gguf(&kvs)), Err(Error::BadVocab));
    let kvs = [
        ("tokenizer.ggml.model", Kv::Str("llama".into())),
        ("tokenizer.ggml.tokens", Kv::Strs(vec!["a".into()])),
        ("tokenizer.ggml.bos_token_id", Kv::Str("1".into())),
    ];
    assert_eq!(build(&gguf(&kvs)), Err(Error::BadKey(Key::SpecialTokenId)));
    // The table must be large enough.
    let file = standard();
    let g = Gguf::parse(&file).unwrap();
    let need = Tokenizer::table_len(&g).unwrap();
    let mut table = vec![0u32; need - 1];
    assert_eq!(
        Tokenizer::build(&g, &mut table).map(|t| t.n_vocab()),
        Err(Error::BufferTooSmall {
            needed: need,
            got: need - 1
        })
    );
}

#[test]
fn special_ids_from_keys() {
    let t = base_tokens(&["a"]);
    let file = vocab_file(
        &t,
        &[
            ("tokenizer.ggml.bos_token_id", Kv::U32(3)),
            ("tokenizer.ggml.eos_token_id", Kv::U32(99_999)),
            ("tokenizer.ggml.padding_token_id", Kv::U32(0)),
            ("tokenizer.ggml.add_bos_token", Kv::Bool(false)),
        ],
    );
    with(&file, |tok| {
        assert_eq!(tok.bos(), Some(3));
        // Out of range: llama.cpp keeps the default.
        assert_eq!(tok.eos(), Some(2));
        assert_eq!(tok.pad(), Some(0));
        assert!(!tok.special_ids().add_bos);
        // No BOS; no "▁" token either, so the prefix space falls back to bytes.
        let b = |x: u32| BYTE0 + x;
        assert_eq!(
            enc(tok, "a", true, true),
            [b(0xe2), b(0x96), b(0x81), id(tok, "a")]
        );
    });
}

/// Feed `bytes` as byte tokens (split as `cuts` says) and collect the decoded text.
fn stream_bytes(tok: &Tokenizer<'_>, bytes: &[u8]) -> (String, Vec<String>) {
    let mut d = Decoder::pieces(false);
    let mut chunks = Vec::new();
    for &b in bytes {
        let mut s = String::new();
        d.push(tok, BYTE0 + b as u32, |c| s.push_str(c)).unwrap();
        chunks.push(s);
    }
    let mut s = String::new();
    d.finish(|c| s.push_str(c));
    chunks.push(s);
    (chunks.concat(), chunks)
}

#[test]
fn streaming_decoder_holds_split_characters() {
    with(&standard(), |tok| {
        // "é" = C3 A9 and "🙂" = F0 9F 99 82 as byte tokens: nothing until complete.
        let (all, chunks) = stream_bytes(tok, "é🙂".as_bytes());
        assert_eq!(all, "é🙂");
        assert_eq!(chunks, ["", "é", "", "", "", "🙂", ""]);
        // Mixed with a normal token in between.
        let mut d = Decoder::pieces(false);
        let mut s = String::new();
        for i in [BYTE0 + 0xc3, BYTE0 + 0xa9, id(tok, "▁ab"), BYTE0 + 0xe2] {
            d.push(tok, i, |c| s.push_str(c)).unwrap();
        }
        assert_eq!(s, "é ab");
        d.push(tok, BYTE0 + 0x82, |c| s.push_str(c)).unwrap();
        d.push(tok, BYTE0 + 0xac, |c| s.push_str(c)).unwrap();
        assert_eq!(s, "é ab€");
    });
}

#[test]
fn streaming_decoder_replaces_invalid_bytes() {
    with(&standard(), |tok| {
        for bytes in [
            &[0xff][..],
            &[0xc3, b'a'],
            &[0xe0, 0x80],
            &[0xed, 0xa0, 0x80],
            &[0xf4, 0x90, 0x80, 0x80],
            &[0xf0, 0x9f, 0x99],
            &[0xc3],
            &[0x80, 0xc3, 0xa9, 0xbf],
        ] {
            let (all, _) = stream_bytes(tok, bytes);
            assert_eq!(all, String::from_utf8_lossy(bytes), "{bytes:02x?}");
        }
        // A normal token arriving while a sequence is pending ends it with U+FFFD.
        let mut d = Decoder::pieces(false);
        let mut s = String::new();
        d.push(tok, BYTE0 + 0xe2, |c| s.push_str(c)).unwrap();
        d.push(tok, id(tok, "a"), |c| s.push_str(c)).unwrap();
        assert_eq!(s, "\u{FFFD}a");
        assert_eq!(d.push(tok, 100_000, |_| {}), Err(Error::BadToken(100_000)));
    });
}

#[test]
fn detokenize_leading_space_rules() {
    with(&standard(), |tok| {
        let ids = enc(tok, "ab", true, true);
        assert_eq!(ids, [1, id(tok, "▁ab")]);
        // llama.cpp keeps the space when it removed a leading BOS...
        assert_eq!(tok.decode_to_string(&ids, true, false).unwrap(), " ab");
        // ...and when the BOS is there but not removed (it takes the strip itself).
        assert_eq!(tok.decode_to_string(&ids, false, false).unwrap(), " ab");
        // Without BOS the first token loses its space.
        assert_eq!(tok.decode_to_string(&ids[1..], true, false).unwrap(), "ab");
        // A byte token for ' ' first is stripped too.
        assert_eq!(
            tok.decode_to_string(&[BYTE0 + 0x20, BYTE0 + 0x20], false, false)
                .unwrap(),
            " "
        );
        // On request, a streaming decoder drops the next leading space.
        let mut d = Decoder::pieces(false);
        d.strip_next_space();
        let mut s = String::new();
        d.push(tok, id(tok, "▁ab"), |c| s.push_str(c)).unwrap();
        d.push(tok, id(tok, "▁ab"), |c| s.push_str(c)).unwrap();
        assert_eq!(s, "ab ab");
    });
}

#[test]
fn piece_kinds() {
    with(&standard(), |tok| {
        assert_eq!(tok.piece_parts(0, false), Ok(Piece::Empty));
        assert_eq!(tok.piece_parts(0, true), Ok(Piece::Text(b"<unk>")));
        assert_eq!(tok.piece_parts(BYTE0 + 0x41, false), Ok(Piece::Byte(b'A')));
        let p = tok.piece_parts(id(tok, "▁▁"), false).unwrap();
        assert_eq!(p.len(), 2);
        let mut buf = [0u8; 8];
        assert_eq!(tok.piece(id(tok, "▁ab"), false, &mut buf), Ok(&b" ab"[..]));
    });
}

/// A random vocabulary: arbitrary texts (some empty or odd), types and scores.
fn weird_vocab() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        "[ab▁ <>|0x]{0,4}",
        Just(String::new()),
        "<0x[0-9A-Fa-f]{0,2}>?",
        any::<String>().prop_map(|s| s.chars().take(3).collect()),
    ];
    let score = prop_oneof![
        Just(f32::NAN),
        Just(f32::INFINITY),
        Just(-0.0f32),
        -10.0f32..10.0,
    ];
    (
        proptest::collection::vec((token, score, -2i32..9), 1..40),
        proptest::option::of(0u32..50),
        any::<bool>(),
    )
        .prop_map(|(tokens, unk, prefix)| {
            let mut extra: Vec<(&str, Kv)> =
                vec![("tokenizer.ggml.add_space_prefix", Kv::Bool(prefix))];
            if let Some(u) = unk {
                extra.push(("tokenizer.ggml.unknown_token_id", Kv::U32(u)));
            }
            vocab_file(&tokens, &extra)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>(), len in 0usize..64, special in any::<bool>()) {
        with(&standard(), |tok| {
            // The documented buffer size always works.
            let ids = tok.encode_vec(&text, true, special).unwrap();
            // Smaller buffers give an error, never a panic or a different result.
            let mut out = vec![0u32; len];
            match tok.encode(&text, true, special, &mut out) {
                Ok(n) => prop_assert_eq!(&out[..n], &ids[..]),
                Err(e) => prop_assert_eq!(e, Error::TooManyTokens),
            }
            let mut scratch = vec![0u32; len];
            let mut out = vec![0u32; ids.len()];
            match tok.encode_with_scratch(&text, true, special, &mut out, &mut scratch) {
                Ok(n) => prop_assert_eq!(&out[..n], &ids[..]),
                Err(e) => {
                    let small = matches!(e, Error::BufferTooSmall { .. });
                    prop_assert!(small, "{:?}", e);
                }
            }
            // Encoding round-trips: the prefix space stays after a removed BOS, and a `▁`
            // in the text is indistinguishable from a space.
            let back = tok.decode_to_string(&ids, true, false).unwrap();
            if !special && !text.is_empty() {
                prop_assert_eq!(back, std::format!(" {text}").replace('\u{2581}', " "));
            }
            Ok(())
        })?;
    }

    #[test]
    fn documented_buffer_sizes_suffice(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("#"), Just("<|im_end|>"), Just("<|im_start|>"), Just(" "), Just("a"),
                Just("é"), Just("\n"), Just("ab"), Just("  "),
            ],
            0..40,
        ),
        parse_special in any::<bool>(),
    ) {
        // A one-byte user-defined token gives the most special-token matches per byte.
        let mut t = base_tokens(&["▁", "a", "b", "▁a", "ab"]);
        t.push(("#".into(), 0.0, USER));
        let file = vocab_file(&t, &[("tokenizer.ggml.add_eos_token", Kv::Bool(true))]);
        let text: String = parts.concat();
        with(&file, |tok| {
            let mut out = vec![0u32; Tokenizer::encode_buffer_len(text.len())];
            let n = tok.encode(&text, true, parse_special, &mut out).unwrap();
            let mut exact = vec![0u32; n];
            let mut scratch = vec![0u32; Tokenizer::scratch_len(text.len())];
            let m = tok
                .encode_with_scratch(&text, true, parse_special, &mut exact, &mut scratch)
                .unwrap();
            prop_assert_eq!(&exact[..m], &out[..n]);
            Ok(())
        })?;
    }

    #[test]
    fn streamed_bytes_decode_like_from_utf8_lossy(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
        with(&standard(), |tok| {
            let (all, _) = stream_bytes(tok, &bytes);
            prop_assert_eq!(all, String::from_utf8_lossy(&bytes));
            Ok(())
        })?;
    }

    #[test]
    fn weird_vocabularies_never_panic(
        file in weird_vocab(),
        text in "[ab▁ <>|0xé]{0,24}",
        ids in proptest::collection::vec(0u32..60, 0..12),
    ) {
        let g = Gguf::parse(&file).unwrap();
        let need = Tokenizer::table_len(&g).unwrap();
        let mut table = vec![0u32; need];
        let Ok(tok) = Tokenizer::build(&g, &mut table) else { return Ok(()) };
        for special in [false, true] {
            let mut out = vec![0u32; Tokenizer::encode_buffer_len(text.len())];
            match tok.encode(&text, true, special, &mut out) {
                Ok(n) => {
                    prop_assert!(out[..n].iter().all(|&i| (i as usize) < tok.n_vocab()));
                }
                Err(e) => {
                    let expected = matches!(e, Error::BadVocab | Error::BadKey(_));
                    prop_assert!(expected, "{:?}", e);
                }
            }
        }
        for (rs, us) in [(false, false), (true, true)] {
            let mut d = Decoder::detokenize(&tok, rs, us);
            for &i in &ids {
                let r = d.push(&tok, i, |_| {});
                prop_assert_eq!(r.is_err(), i as usize >= tok.n_vocab());
            }
            d.finish(|_| {});
        }
    }
}
