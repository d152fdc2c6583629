use super::*;

#[test]
fn layout_matches_init_random() {
    use crate::init_random as r;
    assert_eq!(
        [UNK_ID, BOS_ID, EOS_ID, FIRST_BYTE_ID],
        [r::UNK_ID, r::BOS_ID, r::EOS_ID, r::FIRST_BYTE_ID]
    );
}

#[test]
fn byte_tokens_round_trip() {
    for b in 0..=255u8 {
        assert_eq!(byte_value(&byte_token(b)), Some(b));
    }
    assert_eq!(byte_token(0x0a), "<0x0A>");
    assert_eq!(byte_value("<0x1>"), None);
    assert_eq!(byte_value("<s>"), None);
}

#[test]
fn fragments_split_at_special_tokens() {
    assert_eq!(
        raw_fragments("<|im_start|>user\nhi<|im_end|>\n<s>"),
        ["user\nhi", "\n"]
    );
    assert_eq!(raw_fragments("a</s>b"), ["a", "b"]);
    assert!(raw_fragments("").is_empty());
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn corpus_reads_text_and_every_jsonl_string() {
    let d = tempfile::tempdir().unwrap();
    let txt = write(d.path(), "a.txt", "first line\r\n\nsecond line\n");
    let jsonl = write(
        d.path(),
        "b.jsonl",
        "{\"text\": \"t\"}\n  \n{\"prompt\": \"p\", \"completion\": \"c\", \"id\": 3}\n\
         {\"messages\": [{\"role\": \"user\", \"content\": \"u\"}, \
         {\"role\": \"assistant\", \"content\": \"a\"}]}\n",
    );
    let texts = corpus::read_texts(&[txt, jsonl]).unwrap();
    assert_eq!(
        texts,
        [
            "first line",
            "second line",
            "t",
            "p",
            "c",
            "user",
            "u",
            "assistant",
            "a"
        ]
    );
}

#[test]
fn corpus_errors_name_file_line_and_field() {
    let d = tempfile::tempdir().unwrap();
    let cases = [
        ("{\"text\": 3}", ":2: field \"text\" is not a string"),
        ("[1]", ":2: not a JSON object"),
        ("{\"txt\": \"x\"}", ":2: no \"text\""),
        ("{\"text\": \"x\"", ":2: not JSON"),
        (
            "{\"messages\": [{\"role\": \"user\"}]}",
            ":2: field \"messages[0].content\" is missing",
        ),
        (
            "{\"messages\": {}}",
            ":2: field \"messages\" is not an array",
        ),
    ];
    for (line, want) in cases {
        let p = write(
            d.path(),
            "bad.jsonl",
            &format!("{{\"text\": \"ok\"}}\n{line}\n"),
        );
        let e = corpus::read_texts(&[&p]).unwrap_err().to_string();
        assert!(e.starts_with(&p.display().to_string()), "{e}");
        assert!(e.contains(want), "{line}: {e}");
    }
    let e = corpus::read_texts(&[d.path().join("missing.txt")]).unwrap_err();
    assert!(e.to_string().contains("missing.txt"), "{e}");
}

#[test]
fn vocabulary_must_hold_the_alphabet() {
    let texts = vec!["abc abd".to_string()];
    // 261 fixed tokens + 5 characters (▁ a b c d).
    match train(&texts, 265) {
        Err(crate::Error::VocabTooSmall { needed: 266, .. }) => {}
        other => panic!("{other:?}"),
    }
    let v = train(&texts, 266).unwrap();
    assert_eq!(v.tokens.len(), 266);
    let v = train(&texts, 1000).unwrap();
    // Pairs seen twice, ties by character order (▁ sorts after letters); pairs seen once are
    // below the minimum frequency.
    assert_eq!(&v.tokens[261..263], ["ab", "▁ab"]);
    assert_eq!(&v.scores[261..263], [-1.0, -2.0]);
    assert_eq!(v.tokens.len(), 268);
}

/// Merges are every split of a piece into two pieces, best-scoring piece first.
#[test]
fn merges_come_from_scores() {
    let mut v = train(&["x".to_string()], 300).unwrap();
    for (piece, score) in [("a", -10.0), ("b", -11.0), ("ab", -2.0), ("aba", -1.0)] {
        v.tokens.push(piece.into());
        v.scores.push(score);
        v.token_types.push(TokenType::Normal);
    }
    let m = hf::merges(&v);
    let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(m, [pair("ab", "a"), pair("a", "b")]);
    let t = hf_tokenizer(&v).unwrap();
    let ids = t.encode("aba", false).unwrap().get_ids().to_vec();
    // "▁" + "aba": ▁ and the three-letter piece.
    let id = |s: &str| v.tokens.iter().position(|t| t == s).unwrap() as u32;
    assert_eq!(ids, [id("▁"), id("aba")]);
    assert_eq!(spm_vocab(&t).unwrap().tokens, v.tokens);
}
