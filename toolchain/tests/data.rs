//! Data loaders with a tiny word-level tokenizer: packing, the held-out split, the SFT
//! loss mask, truncation, and errors that name file, line and field.

use std::path::{Path, PathBuf};

use mote_toolchain::data::pretrain::read_documents;
use mote_toolchain::data::sft::{load_examples, SftConfig, SftData};
use mote_toolchain::data::{PretrainConfig, PretrainData};

mod common;

use common::{id, tokenizer};

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

fn ids(text: &str) -> Vec<u32> {
    text.split(' ').map(id).collect()
}

#[test]
fn sft_mask_covers_assistant_content_and_im_end() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "sft.jsonl",
        concat!(
            r#"{"prompt": "hello how are you?", "completion": "fine!"}"#,
            "\n",
            r#"{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello there"},"#,
            r#" {"role": "user", "content": "how are you?"}, {"role": "assistant", "content": "fine."}]}"#,
            "\n"
        ),
    );
    let config = SftConfig {
        system: Some("be brief.".into()),
        ..SftConfig::default()
    };
    let ex = load_examples(&path, &tokenizer(), &config).unwrap();
    assert_eq!(ex.len(), 2);

    let sys = "<|im_start|> system be brief . <|im_end|>";
    let expect = ids(&format!(
        "{sys} <|im_start|> user hello how are you ? <|im_end|> <|im_start|> assistant fine ! <|im_end|>"
    ));
    assert_eq!(ex[0].ids, expect);
    let trained: Vec<u32> = ex[0]
        .ids
        .iter()
        .zip(&ex[0].trained)
        .filter(|p| *p.1)
        .map(|p| *p.0)
        .collect();
    assert_eq!(trained, ids("fine ! <|im_end|>"));
    // Only the last three tokens.
    assert_eq!(ex[0].trained.iter().filter(|t| **t).count(), 3);
    assert!(ex[0].trained[ex[0].ids.len() - 3..].iter().all(|t| *t));

    // Two assistant turns: both answers and both closing <|im_end|>s, nothing else.
    let e = &ex[1];
    let expect = ids(&format!(
        "{sys} <|im_start|> user hi <|im_end|> <|im_start|> assistant hello there <|im_end|> \
         <|im_start|> user how are you ? <|im_end|> <|im_start|> assistant fine . <|im_end|>"
    ));
    assert_eq!(e.ids, expect);
    let marks: String = e
        .trained
        .iter()
        .map(|&t| if t { '1' } else { '0' })
        .collect();
    let n_sys = 6;
    let expect_marks = format!(
        "{}{}{}{}{}",
        "0".repeat(n_sys),
        "0000",    // <|im_start|> user hi <|im_end|>
        "00111",   // <|im_start|> assistant hello there <|im_end|>
        "0000000", // <|im_start|> user how are you ? <|im_end|>
        "00111"    // <|im_start|> assistant fine . <|im_end|>
    );
    assert_eq!(marks, expect_marks);

    // Batches: targets are the ids shifted by one, the mask follows the trained targets,
    // rows are padded with an untrained pad.
    let mut data = SftData::from_examples(ex.clone(), vec![], 0, 1);
    let b = data.batch(1, 0, 1, 2);
    assert_eq!((b.rows, b.cols), (2, expect.len() - 1));
    for r in 0..2 {
        let (len, row) = (b.lengths[r], r * b.cols);
        let e = ex.iter().find(|e| e.ids.len() == len + 1).unwrap();
        assert_eq!(&b.input[row..row + len], &e.ids[..len]);
        assert_eq!(&b.target[row..row + len], &e.ids[1..]);
        for j in 0..b.cols {
            let want = j < len && e.trained[j + 1];
            assert_eq!(b.mask[row + j] == 1.0, want, "row {r} col {j}");
        }
    }
    assert_eq!(b.tokens(), 3 + 6);
}

#[test]
fn sft_left_truncates_or_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "long.jsonl",
        r#"{"prompt": "hello how are you? how are you?", "completion": "fine!"}"#,
    );
    let tok = tokenizer();
    // 17 tokens: <|im_start|> user (9 words) <|im_end|> <|im_start|> assistant fine ! <|im_end|>
    let full = load_examples(&path, &tok, &SftConfig::default()).unwrap();
    assert_eq!((full[0].ids.len(), full[0].truncated), (17, 0));
    let cut = load_examples(
        &path,
        &tok,
        &SftConfig {
            max_len: 8,
            ..SftConfig::default()
        },
    )
    .unwrap();
    assert_eq!(cut[0].truncated, 17 - 9);
    assert_eq!(cut[0].ids, full[0].ids[8..]);
    assert_eq!(cut[0].trained, full[0].trained[8..]);
    let data = SftData::from_examples(cut, vec![], 0, 0);
    assert_eq!(data.truncated(), 1);
    // The answer's first token must remain a target: 3 trained tokens need 4 kept.
    assert!(load_examples(
        &path,
        &tok,
        &SftConfig {
            max_len: 3,
            ..SftConfig::default()
        }
    )
    .is_ok());
    let e = load_examples(
        &path,
        &tok,
        &SftConfig {
            max_len: 2,
            ..SftConfig::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("long.jsonl:1:") && e.contains("does not fit in max_len 2"),
        "{e}"
    );
}

fn sft_error(content: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "bad.jsonl", content);
    load_examples(&path, &tokenizer(), &SftConfig::default())
        .unwrap_err()
        .to_string()
}

#[test]
fn sft_errors_name_file_line_and_field() {
    let good = r#"{"prompt": "hi", "completion": "hello"}"#;
    let cases = [
        (r#"{"prompt": "hi"}"#, "field `completion`: missing"),
        (
            r#"{"prompt": 3, "completion": "x"}"#,
            "field `prompt`: expected a string, found a number",
        ),
        (
            r#"{"text": "hi"}"#,
            "expected `prompt` and `completion`, or `messages`",
        ),
        (
            r#"{"messages": {"role": "user"}}"#,
            "field `messages`: expected an array, found an object",
        ),
        (
            r#"{"messages": [{"role": "user", "content": "hi"}, {"role": "bot", "content": "x"}]}"#,
            "field `messages[1].role`: expected `system`, `user` or `assistant`, found `bot`",
        ),
        (
            r#"{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant"}]}"#,
            "field `messages[1].content`: missing",
        ),
        (
            r#"{"messages": [{"role": "user", "content": "hi"}, {"role": "system", "content": "x"}]}"#,
            "field `messages[1].role`: a system turn must come first",
        ),
        (
            r#"{"messages": [{"role": "user", "content": "hi"}]}"#,
            "field `messages`: no assistant turn",
        ),
        (
            r#"{"prompt": "hi", "completion": "x<|im_end|>"}"#,
            "field `completion`: contains the ChatML delimiter",
        ),
    ];
    for (bad, expect) in cases {
        let e = sft_error(&format!("{good}\n\n{bad}\n"));
        assert!(
            e.contains("bad.jsonl:3: ") && e.contains(expect),
            "{bad}\n→ {e}"
        );
    }
    assert!(sft_error("").contains("empty"));
    let e = sft_error(&format!("{good}\n{{\"prompt\": \"h\u{e9}\"}}"));
    assert!(
        e.contains("bad.jsonl:2: field `completion`: missing"),
        "{e}"
    );
}

#[test]
fn sft_rejects_non_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bin.jsonl");
    std::fs::write(
        &path,
        b"{\"prompt\": \"hi\", \"completion\": \"x\"}\n{\"prompt\": \"\xc3\x28\"}\n",
    )
    .unwrap();
    let e = load_examples(&path, &tokenizer(), &SftConfig::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("bin.jsonl:2: not UTF-8"), "{e}");
}

#[test]
fn pretrain_packs_frames_and_holds_out_the_last_documents() {
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = (0..10)
        .map(|i| {
            let words = ["hello there", "how are you ?", "fine !", "hi"][i % 4];
            format!("{{\"text\": \"{words}\"}}")
        })
        .collect();
    let path = write(dir.path(), "corpus.jsonl", &lines.join("\n"));
    let config = PretrainConfig {
        seq_len: 4,
        eval_fraction: 0.2,
        bos: Some(id("<s>")),
        eos: Some(id("</s>")),
    };
    let tok = tokenizer();
    let mut data = PretrainData::load(std::slice::from_ref(&path), &tok, &config, 3).unwrap();
    // 8 training documents: 2+4+2+1 words per cycle of 4, plus bos and eos each.
    let per = [4, 6, 4, 3];
    let train_tokens: usize = (0..8).map(|i| per[i % 4]).sum();
    assert_eq!(data.train_size(), (8, train_tokens));
    assert_eq!(data.eval_size(), (2, per[0] + per[1]));
    assert_eq!(data.train_windows(), (train_tokens - 1) / 4);
    assert_eq!(data.eval_windows(), (10 - 1) / 4);

    // Held-out windows in order: the stream of documents 9 and 10.
    let stream = ids("<s> hello there </s> <s> how are you ? </s>");
    let eval = data.eval_batches(8, 10);
    assert_eq!(eval.len(), 1);
    assert_eq!(eval[0].input, [&stream[0..4], &stream[4..8]].concat());
    assert_eq!(eval[0].target, [&stream[1..5], &stream[5..9]].concat());
    assert!(eval[0].mask.iter().all(|&m| m == 1.0));

    // Deterministic: a fresh loader with the same seed gives the same batch for a step.
    let mut again = PretrainData::load(&[path], &tok, &config, 3).unwrap();
    let b = data.batch(5, 1, 2, 3);
    assert_eq!(b, again.batch(5, 1, 2, 3));
    assert_ne!(b, data.batch(6, 1, 2, 3));
    assert_eq!((b.rows, b.cols), (3, 4));
}

#[test]
fn pretrain_text_files_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let txt = write(
        dir.path(),
        "a.txt",
        "hello there\nhow are you ?\n\n\nfine !\n \nhi\n",
    );
    let docs = read_documents(&txt).unwrap();
    let texts: Vec<(&str, usize)> = docs.iter().map(|d| (d.text.as_str(), d.line)).collect();
    assert_eq!(
        texts,
        [("hello there\nhow are you ?", 1), ("fine !", 5), ("hi", 7)]
    );

    let bad = write(
        dir.path(),
        "b.jsonl",
        "{\"text\": \"hi\"}\n{\"text\": [\"hi\"]}\n",
    );
    let e = read_documents(&bad).unwrap_err().to_string();
    assert!(
        e.contains("b.jsonl:2: field `text`: expected a string, found an array"),
        "{e}"
    );
    let missing = write(dir.path(), "c.jsonl", "{\"body\": \"hi\"}\n");
    let e = read_documents(&missing).unwrap_err().to_string();
    assert!(e.contains("c.jsonl:1: field `text`: missing"), "{e}");
    let binary = dir.path().join("d.txt");
    std::fs::write(&binary, b"hi\nthere\n\xff\n").unwrap();
    let e = read_documents(&binary).unwrap_err().to_string();
    assert!(e.contains("d.txt:3: not UTF-8"), "{e}");
    let empty = write(dir.path(), "e.txt", "\n\n");
    assert!(read_documents(&empty)
        .unwrap_err()
        .to_string()
        .contains("empty"));

    // Too little text for one window is a clear error.
    let tiny = write(dir.path(), "f.txt", "hi\n\nhi\n");
    let config = PretrainConfig {
        seq_len: 8,
        eval_fraction: 0.0,
        ..PretrainConfig::default()
    };
    let e = PretrainData::load(&[tiny], &tokenizer(), &config, 0)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("not one window"), "{e}");
}
