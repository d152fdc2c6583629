//! One tokenization everywhere: the tokenizer trained by `mote tokenizer train`, loaded as
//! Hugging Face `tokenizers` from tokenizer.json, as mote-runtime's tokenizer from a GGUF
//! carrying its vocabulary, and llama.cpp's (`data/tokenizer_golden.json`, made by
//! `scripts/tokenizer_goldens.sh`) give the same ids, BOS added and special tokens parsed.

use std::path::{Path, PathBuf};
use std::process::Command;

use mote_runtime::gguf::Gguf;
use mote_runtime::tokenizer::Tokenizer as RtTokenizer;
use mote_toolchain::tokenizer::{self, corpus, spm_vocab, SpmVocab};
use serde_json::Value;
use tokenizers::Tokenizer as HfTokenizer;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

const CORPUS: &str = "models/data/tiny-corpus.txt";

struct Golden {
    vocab: usize,
    cases: Vec<(String, Vec<u32>)>,
}

fn golden() -> Golden {
    let path = repo("toolchain/tests/data/tokenizer_golden.json");
    let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let cases = v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let ids = c["ids"].as_array().unwrap();
            let ids = ids.iter().map(|i| i.as_u64().unwrap() as u32).collect();
            (c["text"].as_str().unwrap().to_owned(), ids)
        })
        .collect();
    Golden {
        vocab: v["vocab"].as_u64().unwrap() as usize,
        cases,
    }
}

fn hf_ids(t: &HfTokenizer, text: &str) -> Vec<u32> {
    t.encode(text, true).unwrap().get_ids().to_vec()
}

/// Both tokenizers on `text`; `None` when they agree.
fn disagreement(hf: &HfTokenizer, rt: &RtTokenizer<'_>, text: &str) -> Option<String> {
    let (h, r) = (hf_ids(hf, text), rt.encode_vec(text, true, true).unwrap());
    (h != r).then(|| format!("{text:?}: hf {h:?}, mote-runtime {r:?}"))
}

/// A small deterministic generator for mixed test strings.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

#[test]
fn hf_runtime_and_llama_cpp_agree() {
    let g = golden();
    let dir = tempfile::tempdir().unwrap();
    let report = tokenizer::train_to_dir(&[repo(CORPUS)], g.vocab, dir.path()).unwrap();
    assert_eq!(report.n_tokens, g.vocab);

    let hf = HfTokenizer::from_file(dir.path().join("tokenizer.json")).unwrap();
    let gguf_bytes = std::fs::read(dir.path().join("vocab.gguf")).unwrap();
    let gguf = Gguf::parse(&gguf_bytes).unwrap();
    let mut table = vec![0u32; RtTokenizer::table_len(&gguf).unwrap()];
    let rt = RtTokenizer::build(&gguf, &mut table).unwrap();
    assert_eq!(rt.n_vocab(), g.vocab);

    // Against llama.cpp's ids.
    let mut bad = Vec::new();
    for (text, ids) in &g.cases {
        let (h, r) = (hf_ids(&hf, text), rt.encode_vec(text, true, true).unwrap());
        if h != *ids || r != *ids {
            bad.push(format!(
                "{text:?}: llama.cpp {ids:?}, hf {h:?}, mote-runtime {r:?}"
            ));
        }
    }
    assert!(bad.is_empty(), "disagreements:\n{}", bad.join("\n"));
    assert!(g.cases.len() >= 40);

    // HF against mote-runtime on every corpus line, as text and inside ChatML turns, and on
    // random mixtures of corpus words, odd spacing, special tokens and multibyte text.
    let lines = corpus::read_texts(&[repo(CORPUS)]).unwrap();
    let mut texts: Vec<String> = lines.clone();
    texts.extend(lines.chunks(2).map(|p| {
        let user = &p[0];
        let assistant = p.get(1).map_or("", String::as_str);
        format!(
            "<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n\
             <|im_start|>assistant\n{assistant}<|im_end|>\n"
        )
    }));
    let words: Vec<&str> = lines.iter().flat_map(|l| l.split(' ')).collect();
    let extras = [
        " ",
        "  ",
        "\n",
        "\t",
        "<|im_start|>",
        "<|im_end|>",
        "<s>",
        "</s>",
        "é",
        "😀",
        "日本",
        "▁",
        "<0x41>",
        "<|im_",
        "123",
        ".",
    ];
    let mut rng = Lcg(7);
    for _ in 0..2000 {
        let mut s = String::new();
        for _ in 0..rng.below(12) {
            if rng.below(4) == 0 {
                s.push_str(extras[rng.below(extras.len())]);
            } else {
                s.push_str(words[rng.below(words.len())]);
                if rng.below(3) != 0 {
                    s.push(' ');
                }
            }
        }
        texts.push(s);
    }
    let bad: Vec<String> = texts
        .iter()
        .filter_map(|t| disagreement(&hf, &rt, t))
        .collect();
    assert!(
        bad.is_empty(),
        "{} of {} texts disagree:\n{}",
        bad.len(),
        texts.len(),
        bad.join("\n")
    );
}

#[test]
fn training_is_deterministic_and_round_trips() {
    let texts = corpus::read_texts(&[repo(CORPUS)]).unwrap();
    let a = tokenizer::train(&texts, 512).unwrap();
    let b = tokenizer::train(&texts, 512).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.tokens.len(), 512);
    let hf = tokenizer::hf_tokenizer(&a).unwrap();
    let json = hf.to_string(false).unwrap();
    let loaded: HfTokenizer = json.parse().unwrap();
    let back: SpmVocab = spm_vocab(&loaded).unwrap();
    assert_eq!(back, a);
    // A smaller vocabulary is the larger one's prefix: the same merges in the same order.
    let c = tokenizer::train(&texts, 400).unwrap();
    assert_eq!(c.tokens.len(), 400);
    let merged = |v: &SpmVocab| -> Vec<String> {
        v.tokens[261..]
            .iter()
            .filter(|t| t.chars().count() > 1)
            .cloned()
            .collect()
    };
    assert!(merged(&a).starts_with(&merged(&c)));
}

#[test]
fn train_verb_writes_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("chat.jsonl");
    std::fs::write(
        &jsonl,
        "{\"text\": \"plain text here\"}\n\n\
         {\"prompt\": \"a question\", \"completion\": \"an answer\"}\n\
         {\"messages\": [{\"role\": \"user\", \"content\": \"hello there\"}]}\n",
    )
    .unwrap();
    let out = dir.path().join("tok");
    let run = Command::new(env!("CARGO_BIN_EXE_mote"))
        .args(["tokenizer", "train", "--vocab", "400", "-o"])
        .arg(&out)
        .arg("--input")
        .arg(repo(CORPUS))
        .arg(&jsonl)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    for f in [
        "tokenizer.json",
        "tokenizer_config.json",
        "vocab.json",
        "vocab.gguf",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let vocab: Value =
        serde_json::from_slice(&std::fs::read(out.join("vocab.json")).unwrap()).unwrap();
    assert_eq!(vocab.as_array().unwrap().len(), 400);
    assert_eq!(vocab[4]["piece"], "<|im_end|>");
    assert_eq!(vocab[4]["type"], "control");
    assert_eq!(vocab[5 + 0x41]["piece"], "<0x41>");

    // A bad JSONL line names the file, the line and the field.
    std::fs::write(
        &jsonl,
        "{\"text\": \"ok\"}\n{\"messages\": [{\"role\": 1}]}\n",
    )
    .unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_mote"))
        .args(["tokenizer", "train", "-o"])
        .arg(&out)
        .arg("--input")
        .arg(&jsonl)
        .output()
        .unwrap();
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("chat.jsonl:2: field \"messages[0].role\" is not a string"),
        "{err}"
    );
}
