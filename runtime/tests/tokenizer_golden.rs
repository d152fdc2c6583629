//! The tokenizer against llama.cpp: the reference goldens (`*.golden.json`, made by the
//! llama.cpp vendored in llama-cpp-python 0.3.36) and further cases produced by that same
//! llama.cpp build's `llama_tokenize` / `llama_detokenize` on `ref-tiny-f32.gguf`.
//!
//! Decoding, precisely (llama.cpp's `llama_detokenize` with `add_space_prefix`):
//! - encoding gives every raw text fragment a leading space when it starts the text or
//!   follows a special token, so `<|im_start|>user` decodes to `" user"` (the control token
//!   itself renders as nothing unless `unparse_special`);
//! - the first token's leading space is dropped, except when the ids start with BOS and
//!   `remove_special` removes it: then the space stays. So `encode(text)` decodes to
//!   `" " + text` with its BOS and to `text` without it (for text with no special tokens).

mod common;
use common::reference_dir;

use mote_runtime::gguf::Gguf;
use mote_runtime::tokenizer::Decoder;
use mote_runtime::{Error, Tokenizer};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn golden_files() -> Vec<PathBuf> {
    let dir = reference_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.to_string_lossy().ends_with(".golden.json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no *.golden.json in {}", dir.display());
    files
}

fn model_for(golden: &Path) -> Vec<u8> {
    let name = golden.to_string_lossy().replace(".golden.json", ".gguf");
    std::fs::read(&name).unwrap_or_else(|e| panic!("reading {name}: {e}"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn ids_of(v: &Value) -> Vec<u32> {
    v.as_array()
        .expect("id array")
        .iter()
        .map(|x| x.as_u64().expect("id") as u32)
        .collect()
}

/// Build the tokenizer of `bytes` and run `f` with it.
fn with_tokenizer<R>(bytes: &[u8], f: impl FnOnce(&Tokenizer<'_>) -> R) -> R {
    let g = Gguf::parse(bytes).expect("parse");
    let mut table = vec![0u32; Tokenizer::table_len(&g).expect("table_len")];
    let tok = Tokenizer::build(&g, &mut table).expect("build");
    f(&tok)
}

/// Encode through every entry point and check they agree; return the ids.
fn encode_all(tok: &Tokenizer<'_>, text: &str, add_special: bool, parse_special: bool) -> Vec<u32> {
    let mut out = vec![0u32; Tokenizer::encode_buffer_len(text.len())];
    let n = tok
        .encode(text, add_special, parse_special, &mut out)
        .unwrap_or_else(|e| panic!("encode {text:?}: {e}"));
    let ids = out[..n].to_vec();

    let mut exact = vec![0u32; n];
    let mut scratch = vec![0u32; Tokenizer::scratch_len(text.len())];
    let m = tok
        .encode_with_scratch(text, add_special, parse_special, &mut exact, &mut scratch)
        .unwrap_or_else(|e| panic!("encode_with_scratch {text:?}: {e}"));
    assert_eq!(
        &exact[..m],
        &ids[..],
        "{text:?}: scratch and single-buffer encodings differ"
    );
    if n > 0 {
        let mut short = vec![0u32; n - 1];
        assert_eq!(
            tok.encode_with_scratch(text, add_special, parse_special, &mut short, &mut scratch),
            Err(Error::TooManyTokens),
            "{text:?}: an out buffer one id short must fail"
        );
    }
    assert_eq!(
        tok.encode_vec(text, add_special, parse_special)
            .expect("encode_vec"),
        ids
    );
    ids
}

/// Split `text` at the given special-token texts (left to right, longest first at a
/// position); `None` marks a special token.
fn split_specials<'t>(text: &'t str, specials: &[&str]) -> Vec<(Option<&'t str>, Option<&'t str>)> {
    let mut parts = Vec::new();
    let mut raw_start = 0;
    let mut i = 0;
    while i < text.len() {
        let hit = specials
            .iter()
            .filter(|s| text[i..].starts_with(**s))
            .max_by_key(|s| s.len());
        match hit {
            Some(s) => {
                if raw_start < i {
                    parts.push((Some(&text[raw_start..i]), None));
                }
                parts.push((None, Some(&text[i..i + s.len()])));
                i += s.len();
                raw_start = i;
            }
            None => i += text[i..].chars().next().map_or(1, char::len_utf8),
        }
    }
    if raw_start < text.len() {
        parts.push((Some(&text[raw_start..]), None));
    }
    parts
}

/// What llama.cpp's detokenize gives for `encode(text)` (see the module docs).
fn expected_decode(text: &str, specials: &[&str], unparse_special: bool) -> String {
    let mut s = String::new();
    for (raw, special) in split_specials(text, specials) {
        if let Some(r) = raw {
            s.push(' ');
            s.push_str(r);
        }
        if let (Some(sp), true) = (special, unparse_special) {
            s.push_str(sp);
        }
    }
    s
}

fn check_decoding(tok: &Tokenizer<'_>, text: &str, ids: &[u32]) {
    let bos = tok.bos().expect("bos");
    let specials: Vec<&str> = ids
        .iter()
        .filter(|&&id| tok.is_control(id) && id != bos)
        .map(|&id| std::str::from_utf8(tok.token_bytes(id).unwrap()).unwrap())
        .collect();
    let with_space = expected_decode(text, &specials, false);
    let starts_raw = split_specials(text, &specials)
        .first()
        .is_some_and(|(raw, _)| raw.is_some());

    // With the BOS: llama.cpp removes it and keeps the leading space.
    assert_eq!(
        tok.decode_to_string(ids, true, false).unwrap(),
        with_space,
        "{text:?}"
    );
    // Without the BOS the first token's space goes (if the text starts with raw text).
    let no_bos = ids.strip_prefix(&[bos][..]).expect("ids start with BOS");
    let expected = match starts_raw {
        true => with_space.strip_prefix(' ').unwrap().to_string(),
        false => with_space.clone(),
    };
    let got = tok.decode_to_string(no_bos, true, false).unwrap();
    assert_eq!(got, expected, "{text:?}");
    if specials.is_empty() {
        assert_eq!(got, text, "plain text must decode to itself");
    }
    // Rendering control tokens: BOS shows as `<s>`, nothing is stripped.
    assert_eq!(
        tok.decode_to_string(ids, false, true).unwrap(),
        format!("<s>{}", expected_decode(text, &specials, true)),
        "{text:?}"
    );

    // Streaming, one id at a time: only complete UTF-8 comes out, and the result equals
    // the lossy reading of the concatenated pieces (which here is valid UTF-8 throughout).
    let mut d = Decoder::detokenize(tok, true, false);
    let mut streamed = String::new();
    for &id in no_bos {
        d.push(tok, id, |s| streamed.push_str(s)).unwrap();
    }
    d.finish(|s| streamed.push_str(s));
    let mut bytes = Vec::new();
    let mut buf = vec![0u8; tok.max_token_len()];
    for (i, &id) in no_bos.iter().enumerate() {
        let p = tok.piece(id, false, &mut buf).unwrap();
        bytes.extend_from_slice(if i == 0 {
            p.strip_prefix(b" ").unwrap_or(p)
        } else {
            p
        });
    }
    assert_eq!(streamed, String::from_utf8_lossy(&bytes), "{text:?}");
    assert_eq!(streamed, expected);

    let mut out = vec![0u8; expected.len()];
    assert_eq!(
        tok.decode_into(no_bos, true, false, &mut out),
        Ok(expected.len())
    );
    assert_eq!(out, expected.as_bytes());
    if !expected.is_empty() {
        let mut small = vec![0u8; expected.len() - 1];
        assert_eq!(
            tok.decode_into(no_bos, true, false, &mut small),
            Err(Error::BufferTooSmall {
                needed: expected.len(),
                got: expected.len() - 1
            })
        );
    }
}

#[test]
fn goldens_tokenize_and_detokenize() {
    let mut cases = 0;
    for golden in golden_files() {
        let json: Value =
            serde_json::from_str(&std::fs::read_to_string(&golden).expect("read golden"))
                .expect("json");
        let bytes = model_for(&golden);
        with_tokenizer(&bytes, |tok| {
            assert_eq!(tok.n_vocab() as u64, json["n_vocab"].as_u64().unwrap());
            let entries = json["tokenize"].as_array().expect("tokenize array");
            assert!(!entries.is_empty());
            for e in entries {
                let text = e["text"].as_str().unwrap();
                let add_special = e["add_bos"].as_bool().unwrap();
                let parse_special = e["parse_special"].as_bool().unwrap();
                let want = ids_of(&e["ids"]);
                let got = encode_all(tok, text, add_special, parse_special);
                assert_eq!(got, want, "{}: {text:?}", golden.display());

                let pieces = e["pieces_hex"].as_array().unwrap();
                assert_eq!(pieces.len(), want.len());
                let mut buf = vec![0u8; tok.max_token_len()];
                for (&id, p) in want.iter().zip(pieces) {
                    let piece = tok.piece(id, true, &mut buf).unwrap();
                    assert_eq!(hex(piece), p.as_str().unwrap(), "piece of {id}");
                    assert_eq!(piece, &unhex(p.as_str().unwrap())[..]);
                }
                check_decoding(tok, text, &want);
                cases += 1;
            }

            let prompt = json["prompt_text"].as_str().unwrap();
            let prompt_ids = ids_of(&json["prompt_ids"]);
            assert_eq!(
                encode_all(tok, prompt, true, true),
                prompt_ids,
                "{}",
                golden.display()
            );
            check_decoding(tok, prompt, &prompt_ids);
        });
    }
    assert!(cases >= 10);
}

// --- Further llama.cpp cases -------------------------------------------------------------

/// A vocabulary read from a reference file, to be varied and written back.
struct Vocab {
    tokens: Vec<Vec<u8>>,
    scores: Vec<f32>,
    types: Vec<i32>,
    add_space_prefix: Option<bool>,
    add_eos: bool,
    name: Option<&'static str>,
}

fn reference_vocab() -> Vocab {
    let bytes =
        std::fs::read(reference_dir().join("ref-tiny-f32.gguf")).expect("ref-tiny-f32.gguf");
    let g = Gguf::parse(&bytes).expect("parse");
    let arr = |k: &str| g.get(k).and_then(|v| v.as_array()).expect(k);
    let tokens: Vec<Vec<u8>> = arr("tokenizer.ggml.tokens")
        .strings()
        .map(<[u8]>::to_vec)
        .collect();
    let n = tokens.len();
    let scores = (0..n)
        .map(|i| arr("tokenizer.ggml.scores").f32(i).unwrap())
        .collect();
    let types = (0..n)
        .map(|i| arr("tokenizer.ggml.token_type").i32(i).unwrap())
        .collect();
    Vocab {
        tokens,
        scores,
        types,
        add_space_prefix: None,
        add_eos: false,
        name: None,
    }
}

/// The vocabulary as a GGUF file (metadata only).
fn write_gguf(v: &Vocab) -> Vec<u8> {
    fn s(out: &mut Vec<u8>, b: &[u8]) {
        out.extend_from_slice(&(b.len() as u64).to_le_bytes());
        out.extend_from_slice(b);
    }
    fn arr(out: &mut Vec<u8>, key: &str, elem: u32, n: usize) {
        s(out, key.as_bytes());
        out.extend_from_slice(&9u32.to_le_bytes());
        out.extend_from_slice(&elem.to_le_bytes());
        out.extend_from_slice(&(n as u64).to_le_bytes());
    }
    let mut kv = Vec::new();
    let mut n_kv = 0u64;
    s(&mut kv, b"tokenizer.ggml.model");
    kv.extend_from_slice(&8u32.to_le_bytes());
    s(&mut kv, b"llama");
    arr(&mut kv, "tokenizer.ggml.tokens", 8, v.tokens.len());
    v.tokens.iter().for_each(|t| s(&mut kv, t));
    arr(&mut kv, "tokenizer.ggml.scores", 6, v.scores.len());
    v.scores
        .iter()
        .for_each(|x| kv.extend_from_slice(&x.to_le_bytes()));
    arr(&mut kv, "tokenizer.ggml.token_type", 5, v.types.len());
    v.types
        .iter()
        .for_each(|x| kv.extend_from_slice(&x.to_le_bytes()));
    n_kv += 4;
    if let Some(name) = v.name {
        s(&mut kv, b"general.name");
        kv.extend_from_slice(&8u32.to_le_bytes());
        s(&mut kv, name.as_bytes());
        n_kv += 1;
    }
    for (k, id) in [("bos", 1u32), ("eos", 2), ("unknown", 0)] {
        s(&mut kv, format!("tokenizer.ggml.{k}_token_id").as_bytes());
        kv.extend_from_slice(&4u32.to_le_bytes());
        kv.extend_from_slice(&id.to_le_bytes());
        n_kv += 1;
    }
    let flags = [
        ("tokenizer.ggml.add_space_prefix", v.add_space_prefix),
        ("tokenizer.ggml.add_eos_token", v.add_eos.then_some(true)),
    ];
    for (k, b) in flags {
        if let Some(b) = b {
            s(&mut kv, k.as_bytes());
            kv.extend_from_slice(&7u32.to_le_bytes());
            kv.push(b as u8);
            n_kv += 1;
        }
    }
    let mut out = b"GGUF".to_vec();
    out.extend_from_slice(&3u32.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes());
    out.extend_from_slice(&n_kv.to_le_bytes());
    out.extend_from_slice(&kv);
    out
}

/// The vocabularies the cases below were made with: the reference one and variants of it.
fn variant(name: &str) -> Vec<u8> {
    let mut v = reference_vocab();
    match name {
        "reference" => {}
        // Every score equal: every merge is decided by position (leftmost first).
        "tied_scores" => v.scores.iter_mut().for_each(|s| *s = 0.0),
        // User-defined and extra control tokens, some overlapping; "▁"-containing tokens.
        "user_defined" | "user_defined_no_prefix" => {
            for (text, ty, score) in [
                ("<tool>", 4, 0.0),
                ("ab|", 4, 0.0),
                ("b|a", 4, 0.0),
                ("<|im_", 4, 0.0),
                ("▁▁", 1, -1.0),
                ("a▁b", 1, -2.0),
                ("e▁", 1, -3.0),
                ("<|x|>", 3, 0.0),
                ("x|>", 3, 0.0),
                ("<|x", 4, 0.0),
                ("th", 1, -0.5),
                ("he", 1, -0.5),
                ("▁t", 1, -0.5),
            ] {
                match v.tokens.iter().position(|t| t == text.as_bytes()) {
                    Some(i) => {
                        v.types[i] = ty;
                        v.scores[i] = score;
                    }
                    None => {
                        v.tokens.push(text.as_bytes().to_vec());
                        v.types.push(ty);
                        v.scores.push(score);
                    }
                }
            }
            if name == "user_defined_no_prefix" {
                v.add_space_prefix = Some(false);
            }
        }
        // `<|im_end|>` typed user-defined: llama.cpp makes it control by its text.
        "im_end_user_defined" => v.types[4] = 4,
        "eos_added" => v.add_eos = true,
        // llama.cpp's Phi-3 rule (by `general.name`): special tokens drop the whitespace
        // after them, except `<unk>`, `<s>` and `<|endoftext|>`.
        "phi3_name" => {
            v.name = Some("My Phi3 Test");
            v.tokens.push(b"<|endoftext|>".to_vec());
            v.types.push(4);
            v.scores.push(0.0);
        }
        _ => panic!("unknown variant {name}"),
    }
    write_gguf(&v)
}

#[test]
fn llama_cpp_cases() {
    let mut files: std::collections::BTreeMap<String, Vec<u8>> = Default::default();
    let (mut tokenize, mut detokenize) = (0, 0);
    for line in LLAMA_CPP_CASES.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).expect(line);
        let name = case[1].as_str().unwrap();
        let file = files
            .entry(name.to_string())
            .or_insert_with(|| variant(name));
        with_tokenizer(file, |tok| match case[0].as_str().unwrap() {
            "T" => {
                let text = case[2].as_str().unwrap();
                let (add, parse) = (case[3].as_bool().unwrap(), case[4].as_bool().unwrap());
                let got = encode_all(tok, text, add, parse);
                assert_eq!(
                    got,
                    ids_of(&case[5]),
                    "{name}: {text:?} add_special={add} parse_special={parse}"
                );
                tokenize += 1;
            }
            "D" => {
                let ids = ids_of(&case[2]);
                let (rs, us) = (case[3].as_bool().unwrap(), case[4].as_bool().unwrap());
                let want = String::from_utf8_lossy(&unhex(case[5].as_str().unwrap())).into_owned();
                let got = tok.decode_to_string(&ids, rs, us).unwrap();
                assert_eq!(
                    got, want,
                    "{name}: {ids:?} remove_special={rs} unparse_special={us}"
                );
                // The same, streamed one id at a time.
                let mut d = Decoder::detokenize(tok, rs, us);
                let mut streamed = String::new();
                for &id in &ids {
                    d.push(tok, id, |s| streamed.push_str(s)).unwrap();
                }
                d.finish(|s| streamed.push_str(s));
                assert_eq!(streamed, want);
                detokenize += 1;
            }
            other => panic!("bad case kind {other}"),
        });
    }
    assert_eq!((tokenize, detokenize), (185, 138), "every case ran");
}

/// `llama_tokenize(text, add_special, parse_special)` -> ids, and
/// `llama_detokenize(ids, remove_special, unparse_special)` -> hex bytes, from the llama.cpp
/// vendored in llama-cpp-python 0.3.36 on the vocabularies of [`variant`]. Format per line:
/// `["T", vocab, text, add_special, parse_special, ids]` or
/// `["D", vocab, ids, remove_special, unparse_special, hex]`.
const LLAMA_CPP_CASES: &str = r#"
["T", "reference", "Hello world", true, true, [1, 399, 455, 400, 385, 402, 281, 268, 411, 410]]
["T", "reference", "Hello world", true, false, [1, 399, 455, 400, 385, 402, 281, 268, 411, 410]]
["T", "reference", "Hello world", false, true, [399, 455, 400, 385, 402, 281, 268, 411, 410]]
["T", "reference", "Hello world", false, false, [399, 455, 400, 385, 402, 281, 268, 411, 410]]
["T", "reference", "", true, true, [1]]
["T", "reference", "", true, false, [1]]
["T", "reference", "", false, true, []]
["T", "reference", "", false, false, []]
["T", "reference", " ", true, true, [1, 261]]
["T", "reference", " ", true, false, [1, 261]]
["T", "reference", " ", false, true, [261]]
["T", "reference", " ", false, false, [261]]
["T", "reference", "  ", true, true, [1, 319]]
["T", "reference", "  ", true, false, [1, 319]]
["T", "reference", "  ", false, true, [319]]
["T", "reference", "  ", false, false, [319]]
["T", "reference", "   x", true, true, [1, 264, 438]]
["T", "reference", "   x", true, false, [1, 264, 438]]
["T", "reference", "   x", false, true, [264, 438]]
["T", "reference", "   x", false, false, [264, 438]]
["T", "reference", "\n", true, true, [1, 399, 15]]
["T", "reference", "\n", true, false, [1, 399, 15]]
["T", "reference", "\n", false, true, [399, 15]]
["T", "reference", "\n", false, false, [399, 15]]
["T", "reference", "a  b", true, true, [1, 263, 261, 418]]
["T", "reference", "a  b", true, false, [1, 263, 261, 418]]
["T", "reference", "a  b", false, true, [263, 261, 418]]
["T", "reference", "a  b", false, false, [263, 261, 418]]
["T", "reference", "<|im_start|>user\nHi<|im_end|>\n", true, true, [1, 3, 317, 407, 267, 15, 455, 403, 4, 399, 15]]
["T", "reference", "<|im_start|>user\nHi<|im_end|>\n", true, false, [1, 399, 480, 502, 395, 456, 327, 295, 401, 502, 481, 412, 407, 267, 15, 455, 403, 480, 502, 395, 456, 270, 410, 502, 481, 15]]
["T", "reference", "<|im_start|>user\nHi<|im_end|>\n", false, true, [3, 317, 407, 267, 15, 455, 403, 4, 399, 15]]
["T", "reference", "<|im_start|>user\nHi<|im_end|>\n", false, false, [399, 480, 502, 395, 456, 327, 295, 401, 502, 481, 412, 407, 267, 15, 455, 403, 480, 502, 395, 456, 270, 410, 502, 481, 15]]
["T", "reference", "<|im_start|><|im_end|>", true, true, [1, 3, 4]]
["T", "reference", "<|im_start|><|im_end|>", true, false, [1, 399, 480, 502, 395, 456, 327, 295, 401, 502, 481, 480, 502, 395, 456, 270, 410, 502, 481]]
["T", "reference", "<|im_start|><|im_end|>", false, true, [3, 4]]
["T", "reference", "<|im_start|><|im_end|>", false, false, [399, 480, 502, 395, 456, 327, 295, 401, 502, 481, 480, 502, 395, 456, 270, 410, 502, 481]]
["T", "reference", "<s>hi</s>", true, true, [1, 1, 373, 403, 2]]
["T", "reference", "<s>hi</s>", true, false, [1, 399, 480, 407, 481, 409, 403, 480, 447, 407, 481]]
["T", "reference", "<s>hi</s>", false, true, [1, 373, 403, 2]]
["T", "reference", "<s>hi</s>", false, false, [399, 480, 407, 481, 409, 403, 480, 447, 407, 481]]
["T", "reference", "<unk>", true, true, [1, 0]]
["T", "reference", "<unk>", true, false, [1, 399, 480, 412, 406, 425, 481]]
["T", "reference", "<unk>", false, true, [0]]
["T", "reference", "<unk>", false, false, [399, 480, 412, 406, 425, 481]]
["T", "reference", "a<|im_end|>b", true, true, [1, 263, 4, 301]]
["T", "reference", "a<|im_end|>b", true, false, [1, 263, 480, 502, 395, 456, 270, 410, 502, 481, 418]]
["T", "reference", "a<|im_end|>b", false, true, [263, 4, 301]]
["T", "reference", "a<|im_end|>b", false, false, [263, 480, 502, 395, 456, 270, 410, 502, 481, 418]]
["T", "reference", "▁x ▁", true, true, [1, 261, 438, 261]]
["T", "reference", "▁x ▁", true, false, [1, 261, 438, 261]]
["T", "reference", "▁x ▁", false, true, [261, 438, 261]]
["T", "reference", "▁x ▁", false, false, [261, 438, 261]]
["T", "reference", "日本語🙂", true, true, [1, 399, 235, 156, 170, 235, 161, 177, 237, 175, 163, 245, 164, 158, 135]]
["T", "reference", "日本語🙂", true, false, [1, 399, 235, 156, 170, 235, 161, 177, 237, 175, 163, 245, 164, 158, 135]]
["T", "reference", "日本語🙂", false, true, [399, 235, 156, 170, 235, 161, 177, 237, 175, 163, 245, 164, 158, 135]]
["T", "reference", "日本語🙂", false, false, [399, 235, 156, 170, 235, 161, 177, 237, 175, 163, 245, 164, 158, 135]]
["T", "reference", "<0x41><0x0A>", true, true, [1, 399, 480, 457, 438, 465, 449, 481, 480, 457, 438, 457, 436, 481]]
["T", "reference", "<0x41><0x0A>", true, false, [1, 399, 480, 457, 438, 465, 449, 481, 480, 457, 438, 457, 436, 481]]
["T", "reference", "<0x41><0x0A>", false, true, [399, 480, 457, 438, 465, 449, 481, 480, 457, 438, 457, 436, 481]]
["T", "reference", "<0x41><0x0A>", false, false, [399, 480, 457, 438, 465, 449, 481, 480, 457, 438, 457, 436, 481]]
["T", "reference", "\r\n\t", true, true, [1, 399, 18, 15, 467]]
["T", "reference", "\r\n\t", true, false, [1, 399, 18, 15, 467]]
["T", "reference", "\r\n\t", false, true, [399, 18, 15, 467]]
["T", "reference", "\r\n\t", false, false, [399, 18, 15, 467]]
["T", "reference", "<|im_", true, true, [1, 399, 480, 502, 395, 456]]
["T", "reference", "<|im_", true, false, [1, 399, 480, 502, 395, 456]]
["T", "reference", "<|im_", false, true, [399, 480, 502, 395, 456]]
["T", "reference", "<|im_", false, false, [399, 480, 502, 395, 456]]
["T", "reference", "the then there", true, true, [1, 271, 265, 270, 265, 267, 400]]
["T", "reference", "the then there", true, false, [1, 271, 265, 270, 265, 267, 400]]
["T", "reference", "the then there", false, true, [271, 265, 270, 265, 267, 400]]
["T", "reference", "the then there", false, false, [271, 265, 270, 265, 267, 400]]
["T", "reference", "ab|b|a<tool>", true, true, [1, 263, 418, 502, 418, 502, 405, 480, 401, 402, 402, 411, 481]]
["T", "reference", "ab|b|a<tool>", true, false, [1, 263, 418, 502, 418, 502, 405, 480, 401, 402, 402, 411, 481]]
["T", "reference", "ab|b|a<tool>", false, true, [263, 418, 502, 418, 502, 405, 480, 401, 402, 402, 411, 481]]
["T", "reference", "ab|b|a<tool>", false, false, [263, 418, 502, 418, 502, 405, 480, 401, 402, 402, 411, 481]]
["T", "reference", "<|x|><|x|> x|>", true, true, [1, 399, 480, 502, 438, 502, 481, 480, 502, 438, 502, 481, 399, 438, 502, 481]]
["T", "reference", "<|x|><|x|> x|>", true, false, [1, 399, 480, 502, 438, 502, 481, 480, 502, 438, 502, 481, 399, 438, 502, 481]]
["T", "reference", "<|x|><|x|> x|>", false, true, [399, 480, 502, 438, 502, 481, 480, 502, 438, 502, 481, 399, 438, 502, 481]]
["T", "reference", "<|x|><|x|> x|>", false, false, [399, 480, 502, 438, 502, 481, 480, 502, 438, 502, 481, 399, 438, 502, 481]]
["T", "reference", " <|im_end|> ", true, true, [1, 261, 4, 261]]
["T", "reference", " <|im_end|> ", true, false, [1, 261, 480, 502, 395, 456, 270, 410, 502, 481, 399]]
["T", "reference", " <|im_end|> ", false, true, [261, 4, 261]]
["T", "reference", " <|im_end|> ", false, false, [261, 480, 502, 395, 456, 270, 410, 502, 481, 399]]
["T", "reference", "é—ü", true, true, [1, 399, 200, 174, 487, 200, 193]]
["T", "reference", "é—ü", true, false, [1, 399, 200, 174, 487, 200, 193]]
["T", "reference", "é—ü", false, true, [399, 200, 174, 487, 200, 193]]
["T", "reference", "é—ü", false, false, [399, 200, 174, 487, 200, 193]]
["T", "tied_scores", "Hello world", true, true, [1, 399, 455, 400, 385, 402, 281, 268, 411, 410]]
["T", "tied_scores", "Hello world", false, false, [399, 455, 400, 385, 402, 281, 268, 411, 410]]
["T", "tied_scores", "<|im_start|>user\nHi<|im_end|>\n", true, true, [1, 3, 317, 294, 404, 15, 455, 403, 4, 399, 15]]
["T", "tied_scores", "<|im_start|>user\nHi<|im_end|>\n", false, false, [399, 480, 502, 395, 456, 327, 295, 401, 502, 481, 412, 294, 404, 15, 455, 403, 480, 502, 395, 456, 270, 410, 502, 481, 15]]
["T", "tied_scores", "the then there", true, true, [1, 271, 271, 406, 271, 272]]
["T", "tied_scores", "the then there", false, false, [271, 271, 406, 271, 272]]
["T", "user_defined_no_prefix", "Hello world", true, true, [1, 455, 400, 385, 402, 281, 268, 411, 410]]
["T", "user_defined_no_prefix", "Hello world", false, false, [455, 400, 385, 402, 281, 268, 411, 410]]
["T", "user_defined_no_prefix", " ", true, true, [1, 399]]
["T", "user_defined_no_prefix", " ", false, false, [399]]
["T", "user_defined_no_prefix", "  ", true, true, [1, 261]]
["T", "user_defined_no_prefix", "  ", false, false, [261]]
["T", "user_defined_no_prefix", "   x", true, true, [1, 319, 438]]
["T", "user_defined_no_prefix", "   x", false, false, [319, 438]]
["T", "user_defined_no_prefix", "\n", true, true, [1, 15]]
["T", "user_defined_no_prefix", "\n", false, false, [15]]
["T", "user_defined_no_prefix", "a  b", true, true, [1, 405, 261, 418]]
["T", "user_defined_no_prefix", "a  b", false, false, [405, 261, 418]]
["T", "user_defined_no_prefix", "<|im_start|>user\nHi<|im_end|>\n", true, true, [1, 3, 412, 407, 267, 15, 455, 403, 4, 15]]
["T", "user_defined_no_prefix", "<|im_start|>user\nHi<|im_end|>\n", false, false, [515, 327, 295, 401, 502, 481, 412, 407, 267, 15, 455, 403, 515, 270, 410, 502, 481, 15]]
["T", "user_defined_no_prefix", "<|im_start|><|im_end|>", false, false, [515, 327, 295, 401, 502, 481, 515, 270, 410, 502, 481]]
["T", "user_defined_no_prefix", "<s>hi</s>", true, true, [1, 1, 409, 403, 2]]
["T", "user_defined_no_prefix", "<s>hi</s>", false, false, [480, 407, 481, 409, 403, 480, 447, 407, 481]]
["T", "user_defined_no_prefix", "<unk>", false, false, [480, 412, 406, 425, 481]]
["T", "user_defined_no_prefix", "a<|im_end|>b", true, true, [1, 405, 4, 418]]
["T", "user_defined_no_prefix", "a<|im_end|>b", false, false, [405, 515, 270, 410, 502, 481, 418]]
["T", "user_defined_no_prefix", "▁x ▁", true, true, [1, 399, 438, 261]]
["T", "user_defined_no_prefix", "▁x ▁", false, false, [399, 438, 261]]
["T", "user_defined_no_prefix", "日本語🙂", true, true, [1, 235, 156, 170, 235, 161, 177, 237, 175, 163, 245, 164, 158, 135]]
["T", "user_defined_no_prefix", "日本語🙂", false, false, [235, 156, 170, 235, 161, 177, 237, 175, 163, 245, 164, 158, 135]]
["T", "user_defined_no_prefix", "<0x41><0x0A>", true, true, [1, 480, 457, 438, 465, 449, 481, 480, 457, 438, 457, 436, 481]]
["T", "user_defined_no_prefix", "<0x41><0x0A>", false, false, [480, 457, 438, 465, 449, 481, 480, 457, 438, 457, 436, 481]]
["T", "user_defined_no_prefix", "\r\n\t", true, true, [1, 18, 15, 467]]
["T", "user_defined_no_prefix", "\r\n\t", false, false, [18, 15, 467]]
["T", "user_defined_no_prefix", "<|im_", true, true, [1, 515]]
["T", "user_defined_no_prefix", "<|im_", false, false, [515]]
["T", "user_defined_no_prefix", "the then there", true, true, [1, 358, 400, 271, 406, 271, 272]]
["T", "user_defined_no_prefix", "the then there", false, false, [358, 400, 271, 406, 271, 272]]
["T", "user_defined_no_prefix", "ab|b|a<tool>", true, true, [1, 513, 514, 512]]
["T", "user_defined_no_prefix", "ab|b|a<tool>", false, false, [513, 514, 512]]
["T", "user_defined_no_prefix", "<|x|><|x|> x|>", true, true, [1, 518, 518, 399, 519]]
["T", "user_defined_no_prefix", "<|x|><|x|> x|>", false, false, [520, 502, 481, 520, 502, 481, 399, 438, 502, 481]]
["T", "user_defined_no_prefix", " <|im_end|> ", true, true, [1, 399, 4, 399]]
["T", "user_defined_no_prefix", " <|im_end|> ", false, false, [399, 515, 270, 410, 502, 481, 399]]
["T", "user_defined_no_prefix", "é—ü", true, true, [1, 200, 174, 487, 200, 193]]
["T", "user_defined_no_prefix", "é—ü", false, false, [200, 174, 487, 200, 193]]
["T", "user_defined", "Hello world", true, true, [1, 399, 455, 400, 385, 402, 281, 268, 411, 410]]
["T", "user_defined", "Hello world", false, false, [399, 455, 400, 385, 402, 281, 268, 411, 410]]
["T", "user_defined", "<|im_start|>user\nHi<|im_end|>\n", false, false, [515, 279, 401, 295, 401, 502, 481, 412, 407, 267, 15, 455, 403, 515, 399, 270, 410, 502, 481, 15]]
["T", "user_defined", "<|im_start|><|im_end|>", false, false, [515, 279, 401, 295, 401, 502, 481, 515, 399, 270, 410, 502, 481]]
["T", "user_defined", "a<|im_end|>b", false, false, [263, 515, 399, 270, 410, 502, 481, 418]]
["T", "user_defined", "<|im_", true, true, [1, 515]]
["T", "user_defined", "<|im_", false, false, [515]]
["T", "user_defined", "the then there", true, true, [1, 271, 271, 406, 271, 272]]
["T", "user_defined", "the then there", false, false, [271, 271, 406, 271, 272]]
["T", "user_defined", "ab|b|a<tool>", true, true, [1, 513, 514, 512]]
["T", "user_defined", "ab|b|a<tool>", false, false, [513, 514, 512]]
["T", "user_defined", "<|x|><|x|> x|>", true, true, [1, 518, 518, 261, 519]]
["T", "user_defined", "<|x|><|x|> x|>", false, false, [520, 399, 502, 481, 520, 399, 502, 481, 399, 438, 502, 481]]
["T", "user_defined", " <|im_end|> ", false, false, [261, 515, 399, 270, 410, 502, 481, 399]]
["T", "im_end_user_defined", "Hello world", true, true, [1, 399, 455, 400, 385, 402, 281, 268, 411, 410]]
["T", "im_end_user_defined", "Hello world", false, false, [399, 455, 400, 385, 402, 281, 268, 411, 410]]
["T", "eos_added", "Hello world", true, true, [1, 399, 455, 400, 385, 402, 281, 268, 411, 410, 2]]
["T", "eos_added", "Hello world", false, false, [399, 455, 400, 385, 402, 281, 268, 411, 410]]
["T", "eos_added", "", true, true, [1, 2]]
["T", "eos_added", " ", true, true, [1, 261, 2]]
["T", "eos_added", "  ", true, true, [1, 319, 2]]
["T", "eos_added", "   x", true, true, [1, 264, 438, 2]]
["T", "eos_added", "\n", true, true, [1, 399, 15, 2]]
["T", "eos_added", "a  b", true, true, [1, 263, 261, 418, 2]]
["T", "eos_added", "<|im_start|>user\nHi<|im_end|>\n", true, true, [1, 3, 317, 407, 267, 15, 455, 403, 4, 399, 15, 2]]
["T", "eos_added", "<|im_start|><|im_end|>", true, true, [1, 3, 4, 2]]
["T", "eos_added", "<s>hi</s>", true, true, [1, 1, 373, 403, 2, 2]]
["T", "eos_added", "<unk>", true, true, [1, 0, 2]]
["T", "eos_added", "a<|im_end|>b", true, true, [1, 263, 4, 301, 2]]
["T", "eos_added", "▁x ▁", true, true, [1, 261, 438, 261, 2]]
["T", "eos_added", "日本語🙂", true, true, [1, 399, 235, 156, 170, 235, 161, 177, 237, 175, 163, 245, 164, 158, 135, 2]]
["T", "eos_added", "<0x41><0x0A>", true, true, [1, 399, 480, 457, 438, 465, 449, 481, 480, 457, 438, 457, 436, 481, 2]]
["T", "eos_added", "\r\n\t", true, true, [1, 399, 18, 15, 467, 2]]
["T", "eos_added", "<|im_", true, true, [1, 399, 480, 502, 395, 456, 2]]
["T", "eos_added", "the then there", true, true, [1, 271, 265, 270, 265, 267, 400, 2]]
["T", "eos_added", "ab|b|a<tool>", true, true, [1, 263, 418, 502, 418, 502, 405, 480, 401, 402, 402, 411, 481, 2]]
["T", "eos_added", "<|x|><|x|> x|>", true, true, [1, 399, 480, 502, 438, 502, 481, 480, 502, 438, 502, 481, 399, 438, 502, 481, 2]]
["T", "eos_added", " <|im_end|> ", true, true, [1, 261, 4, 261, 2]]
["T", "eos_added", "é—ü", true, true, [1, 399, 200, 174, 487, 200, 193, 2]]
["D", "reference", [1, 399, 455, 400, 385, 402, 281, 268, 411, 410], true, false, "2048656c6c6f20776f726c64"]
["D", "reference", [1, 399, 455, 400, 385, 402, 281, 268, 411, 410], false, true, "3c733e2048656c6c6f20776f726c64"]
["D", "reference", [1], true, false, ""]
["D", "reference", [1], false, true, "3c733e"]
["D", "reference", [1, 261], true, false, "2020"]
["D", "reference", [1, 261], false, true, "3c733e2020"]
["D", "reference", [1, 319], true, false, "202020"]
["D", "reference", [1, 319], false, true, "3c733e202020"]
["D", "reference", [1, 264, 438], true, false, "2020202078"]
["D", "reference", [1, 264, 438], false, true, "3c733e2020202078"]
["D", "reference", [1, 399, 15], true, false, "200a"]
["D", "reference", [1, 399, 15], false, true, "3c733e200a"]
["D", "reference", [1, 263, 261, 418], true, false, "2061202062"]
["D", "reference", [1, 263, 261, 418], false, true, "3c733e2061202062"]
["D", "reference", [1, 3, 317, 407, 267, 15, 455, 403, 4, 399, 15], true, false, "20757365720a4869200a"]
["D", "reference", [1, 3, 317, 407, 267, 15, 455, 403, 4, 399, 15], false, true, "3c733e3c7c696d5f73746172747c3e20757365720a48693c7c696d5f656e647c3e200a"]
["D", "reference", [1, 3, 4], true, false, ""]
["D", "reference", [1, 3, 4], false, true, "3c733e3c7c696d5f73746172747c3e3c7c696d5f656e647c3e"]
["D", "reference", [1, 1, 373, 403, 2], true, false, "206869"]
["D", "reference", [1, 1, 373, 403, 2], false, true, "3c733e3c733e2068693c2f733e"]
["D", "reference", [1, 0], true, false, ""]
["D", "reference", [1, 0], false, true, "3c733e3c756e6b3e"]
["D", "reference", [1, 263, 4, 301], true, false, "20612062"]
["D", "reference", [1, 263, 4, 301], false, true, "3c733e20613c7c696d5f656e647c3e2062"]
["D", "reference", [1, 261, 438, 261], true, false, "2020782020"]
["D", "reference", [1, 261, 438, 261], false, true, "3c733e2020782020"]
["D", "reference", [1, 399, 235, 156, 170, 235, 161, 177, 237, 175, 163, 245, 164, 158, 135], true, false, "20e697a5e69cace8aa9ef09f9982"]
["D", "reference", [1, 399, 235, 156, 170, 235, 161, 177, 237, 175, 163, 245, 164, 158, 135], false, true, "3c733e20e697a5e69cace8aa9ef09f9982"]
["D", "reference", [1, 399, 480, 457, 438, 465, 449, 481, 480, 457, 438, 457, 436, 481], true, false, "203c307834313e3c307830413e"]
["D", "reference", [1, 399, 480, 457, 438, 465, 449, 481, 480, 457, 438, 457, 436, 481], false, true, "3c733e203c307834313e3c307830413e"]
["D", "reference", [1, 399, 18, 15, 467], true, false, "200d0a09"]
["D", "reference", [1, 399, 18, 15, 467], false, true, "3c733e200d0a09"]
["D", "reference", [1, 399, 480, 502, 395, 456], true, false, "203c7c696d5f"]
["D", "reference", [1, 399, 480, 502, 395, 456], false, true, "3c733e203c7c696d5f"]
["D", "reference", [1, 271, 265, 270, 265, 267, 400], true, false, "20746865207468656e207468657265"]
["D", "reference", [1, 271, 265, 270, 265, 267, 400], false, true, "3c733e20746865207468656e207468657265"]
["D", "reference", [1, 263, 418, 502, 418, 502, 405, 480, 401, 402, 402, 411, 481], true, false, "2061627c627c613c746f6f6c3e"]
["D", "reference", [1, 263, 418, 502, 418, 502, 405, 480, 401, 402, 402, 411, 481], false, true, "3c733e2061627c627c613c746f6f6c3e"]
["D", "reference", [1, 399, 480, 502, 438, 502, 481, 480, 502, 438, 502, 481, 399, 438, 502, 481], true, false, "203c7c787c3e3c7c787c3e20787c3e"]
["D", "reference", [1, 399, 480, 502, 438, 502, 481, 480, 502, 438, 502, 481, 399, 438, 502, 481], false, true, "3c733e203c7c787c3e3c7c787c3e20787c3e"]
["D", "reference", [1, 261, 4, 261], true, false, "20202020"]
["D", "reference", [1, 261, 4, 261], false, true, "3c733e20203c7c696d5f656e647c3e2020"]
["D", "reference", [1, 399, 200, 174, 487, 200, 193], true, false, "20c3a9e28094c3bc"]
["D", "reference", [1, 399, 200, 174, 487, 200, 193], false, true, "3c733e20c3a9e28094c3bc"]
["D", "reference", [1, 200, 180], true, false, "c3af"]
["D", "reference", [1, 200, 180], false, true, "3c733ec3af"]
["D", "reference", [1, 200, 180], false, false, "c3af"]
["D", "reference", [1, 200, 180], true, true, "c3af"]
["D", "reference", [200, 180, 2], true, false, "c3af"]
["D", "reference", [200, 180, 2], false, true, "c3af3c2f733e"]
["D", "reference", [200, 180, 2], false, false, "c3af"]
["D", "reference", [200, 180, 2], true, true, "c3af3c2f733e"]
["D", "reference", [235, 156], true, false, "e697"]
["D", "reference", [235, 156], false, true, "e697"]
["D", "reference", [235, 156], false, false, "e697"]
["D", "reference", [235, 156], true, true, "e697"]
["D", "reference", [235, 156, 170, 399], true, false, "e697a520"]
["D", "reference", [235, 156, 170, 399], false, true, "e697a520"]
["D", "reference", [235, 156, 170, 399], false, false, "e697a520"]
["D", "reference", [235, 156, 170, 399], true, true, "e697a520"]
["D", "reference", [260, 1, 0, 3, 4, 2], true, false, "ff"]
["D", "reference", [260, 1, 0, 3, 4, 2], false, true, "ff3c733e3c756e6b3e3c7c696d5f73746172747c3e3c7c696d5f656e647c3e3c2f733e"]
["D", "reference", [260, 1, 0, 3, 4, 2], false, false, "ff"]
["D", "reference", [260, 1, 0, 3, 4, 2], true, true, "ff3c733e3c756e6b3e3c7c696d5f73746172747c3e3c7c696d5f656e647c3e3c2f733e"]
["D", "reference", [399, 399], true, false, "20"]
["D", "reference", [399, 399], false, true, "20"]
["D", "reference", [399, 399], false, false, "20"]
["D", "reference", [399, 399], true, true, "20"]
["D", "reference", [37, 37, 455], true, false, "2048"]
["D", "reference", [37, 37, 455], false, true, "2048"]
["D", "reference", [37, 37, 455], false, false, "2048"]
["D", "reference", [37, 37, 455], true, true, "2048"]
["D", "reference", [2], true, false, ""]
["D", "reference", [2], false, true, "3c2f733e"]
["D", "reference", [2], false, false, ""]
["D", "reference", [2], true, true, "3c2f733e"]
["D", "reference", [1], false, false, ""]
["D", "reference", [1], true, true, ""]
["D", "reference", [1, 1, 399], true, false, "20"]
["D", "reference", [1, 1, 399], false, true, "3c733e3c733e20"]
["D", "reference", [1, 1, 399], false, false, "20"]
["D", "reference", [1, 1, 399], true, true, "3c733e20"]
["D", "reference", [4, 399], true, false, "20"]
["D", "reference", [4, 399], false, true, "3c7c696d5f656e647c3e20"]
["D", "reference", [4, 399], false, false, "20"]
["D", "reference", [4, 399], true, true, "3c7c696d5f656e647c3e20"]
["D", "reference", [231, 155, 134], true, false, "e29681"]
["D", "reference", [231, 155, 134], false, true, "e29681"]
["D", "reference", [231, 155, 134], false, false, "e29681"]
["D", "reference", [231, 155, 134], true, true, "e29681"]
["D", "user_defined_no_prefix", [1], true, false, ""]
["D", "user_defined_no_prefix", [1], false, true, "3c733e"]
["D", "user_defined_no_prefix", [1, 200, 180], true, false, "c3af"]
["D", "user_defined_no_prefix", [1, 200, 180], false, true, "3c733ec3af"]
["D", "user_defined_no_prefix", [200, 180, 2], true, false, "c3af"]
["D", "user_defined_no_prefix", [200, 180, 2], false, true, "c3af3c2f733e"]
["D", "user_defined_no_prefix", [235, 156], true, false, "e697"]
["D", "user_defined_no_prefix", [235, 156], false, true, "e697"]
["D", "user_defined_no_prefix", [235, 156, 170, 399], true, false, "e697a520"]
["D", "user_defined_no_prefix", [235, 156, 170, 399], false, true, "e697a520"]
["D", "user_defined_no_prefix", [260, 1, 0, 3, 4, 2], true, false, "ff"]
["D", "user_defined_no_prefix", [260, 1, 0, 3, 4, 2], false, true, "ff3c733e3c756e6b3e3c7c696d5f73746172747c3e3c7c696d5f656e647c3e3c2f733e"]
["D", "user_defined_no_prefix", [399, 399], true, false, "2020"]
["D", "user_defined_no_prefix", [399, 399], false, true, "2020"]
["D", "user_defined_no_prefix", [37, 37, 455], true, false, "202048"]
["D", "user_defined_no_prefix", [37, 37, 455], false, true, "202048"]
["D", "user_defined_no_prefix", [2], true, false, ""]
["D", "user_defined_no_prefix", [2], false, true, "3c2f733e"]
["D", "user_defined_no_prefix", [1, 1, 399], true, false, "20"]
["D", "user_defined_no_prefix", [1, 1, 399], false, true, "3c733e3c733e20"]
["D", "user_defined_no_prefix", [4, 399], true, false, "20"]
["D", "user_defined_no_prefix", [4, 399], false, true, "3c7c696d5f656e647c3e20"]
["D", "user_defined_no_prefix", [231, 155, 134], true, false, "e29681"]
["D", "user_defined_no_prefix", [231, 155, 134], false, true, "e29681"]
["D", "eos_added", [1, 200, 180], true, false, "c3af"]
["D", "eos_added", [1, 200, 180], false, true, "3c733ec3af"]
["D", "eos_added", [200, 180, 2], true, false, "c3af"]
["D", "eos_added", [200, 180, 2], false, true, "c3af3c2f733e"]
["D", "eos_added", [235, 156], true, false, "e697"]
["D", "eos_added", [235, 156], false, true, "e697"]
["D", "eos_added", [235, 156, 170, 399], true, false, "e697a520"]
["D", "eos_added", [235, 156, 170, 399], false, true, "e697a520"]
["D", "eos_added", [260, 1, 0, 3, 4, 2], true, false, "ff"]
["D", "eos_added", [260, 1, 0, 3, 4, 2], false, true, "ff3c733e3c756e6b3e3c7c696d5f73746172747c3e3c7c696d5f656e647c3e3c2f733e"]
["D", "eos_added", [399, 399], true, false, "20"]
["D", "eos_added", [399, 399], false, true, "20"]
["D", "eos_added", [37, 37, 455], true, false, "2048"]
["D", "eos_added", [37, 37, 455], false, true, "2048"]
["D", "eos_added", [2], true, false, ""]
["D", "eos_added", [2], false, true, "3c2f733e"]
["D", "eos_added", [1], true, false, ""]
["D", "eos_added", [1], false, true, "3c733e"]
["D", "eos_added", [1, 1, 399], true, false, "20"]
["D", "eos_added", [1, 1, 399], false, true, "3c733e3c733e20"]
["D", "eos_added", [4, 399], true, false, "20"]
["D", "eos_added", [4, 399], false, true, "3c7c696d5f656e647c3e20"]
["D", "eos_added", [231, 155, 134], true, false, "e29681"]
["D", "eos_added", [231, 155, 134], false, true, "e29681"]
["T", "phi3_name", "<|im_start|>user\n  Hi<|im_end|>\n \t<|im_start|>assistant\n", true, true, [1, 3, 317, 407, 267, 15, 261, 455, 403, 4, 3, 377, 407, 276, 401, 292, 401, 15]]
["T", "phi3_name", "<|im_start|>user\n  Hi<|im_end|>\n \t<|im_start|>assistant\n", false, false, [399, 480, 502, 395, 456, 327, 295, 401, 502, 481, 412, 407, 267, 15, 261, 455, 403, 480, 502, 395, 456, 270, 410, 502, 481, 15, 399, 467, 480, 502, 395, 456, 327, 295, 401, 502, 481, 393, 407, 276, 401, 292, 401, 15]]
["T", "phi3_name", "<s>  Hello</s>  x", true, true, [1, 1, 319, 455, 400, 385, 402, 2, 399, 438]]
["T", "phi3_name", "<s>  Hello</s>  x", false, false, [399, 480, 407, 481, 261, 455, 400, 385, 402, 480, 447, 407, 481, 261, 438]]
["T", "phi3_name", "<unk> \n a", true, true, [1, 0, 261, 15, 263]]
["T", "phi3_name", "<unk> \n a", false, false, [399, 480, 412, 406, 425, 481, 399, 15, 263]]
["T", "phi3_name", "<|im_end|>   ", true, true, [1, 4]]
["T", "phi3_name", "<|im_end|>   ", false, false, [399, 480, 502, 395, 456, 270, 410, 502, 481, 319]]
["T", "phi3_name", "a <|im_end|> \u000b\f\r b", true, true, [1, 263, 399, 4, 301]]
["T", "phi3_name", "a <|im_end|> \u000b\f\r b", false, false, [263, 399, 480, 502, 395, 456, 270, 410, 502, 481, 399, 16, 17, 18, 301]]
["T", "phi3_name", "<|endoftext|>  x", true, true, [1, 512, 319, 438]]
["T", "phi3_name", "<|endoftext|>  x", false, false, [399, 480, 502, 270, 410, 402, 414, 401, 400, 438, 401, 502, 481, 261, 438]]
"#;
