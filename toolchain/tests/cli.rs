//! The `mote` binary end to end: run, tokenize, chat and import, against llama.cpp's goldens.

use mote_tests::llama2c::write_llama2c_from_gguf;
use mote_tests::reference_dir;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn mote(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mote"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mote");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn ok(args: &[&str], stdin: Option<&[u8]>) -> (String, String) {
    let out = mote(args, stdin);
    let (so, se) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "mote {args:?} failed:\n{se}");
    (so, se)
}

fn golden(stem: &str) -> Value {
    serde_json::from_slice(
        &std::fs::read(reference_dir().join(format!("{stem}.golden.json"))).unwrap(),
    )
    .unwrap()
}

fn ids(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect()
}

fn model(stem: &str) -> PathBuf {
    reference_dir().join(format!("{stem}.gguf"))
}

/// `mote run --json` on the golden ChatML prompt: same prompt ids, same greedy tokens
/// (`extra`: more flags).
fn run_matches_golden(path: &Path, stem: &str, n_gen: usize, extra: &[&str]) {
    let g = golden(stem);
    let prompt = g["prompt_text"].as_str().unwrap();
    let prompt_ids = ids(&g["prompt_ids"]);
    let steps = (prompt_ids.len() + n_gen).to_string();
    let p = path.to_str().unwrap();
    let (out, err) = ok(
        &[
            "run",
            p,
            "--prompt",
            prompt,
            "--temperature",
            "0",
            "-n",
            &steps,
            "--json",
        ]
        .iter()
        .chain(extra)
        .copied()
        .collect::<Vec<_>>(),
        None,
    );
    let v: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(ids(&v["prompt_ids"]), prompt_ids);
    // Generation stops at control tokens such as <|im_end|>; compare up to there.
    let want = ids(&g["greedy_ids"]);
    let got = ids(&v["ids"]);
    let stop = want
        .iter()
        .position(|&t| t < 5)
        .unwrap_or(want.len())
        .min(n_gen);
    assert_eq!(got, want[..stop], "{stem}");
    assert!(err.contains("tok/s"), "statistics go to stderr: {err}");
}

#[test]
fn run_prints_llama_cpp_greedy_tokens() {
    for stem in ["ref-tiny-q8_0", "ref-small-tied-q4_0", "ref-small-tied-f16"] {
        // Weights packed at load (where the kernels pack them) and read in place.
        run_matches_golden(&model(stem), stem, 24, &[]);
        run_matches_golden(&model(stem), stem, 24, &["--no-repack"]);
    }
}

#[test]
fn run_prints_only_generated_text() {
    let p = model("ref-tiny-q4_0");
    let p = p.to_str().unwrap();
    let (json, _) = ok(
        &[
            "run", p, "--prompt", "Hello", "--temp", "0", "-n", "12", "--json",
        ],
        None,
    );
    let v: Value = serde_json::from_str(json.trim()).unwrap();
    let (text, _) = ok(
        &["run", p, "--prompt", "Hello", "--temp", "0", "-n", "12"],
        None,
    );
    assert_eq!(text, format!("{}\n", v["text"].as_str().unwrap()));
    // -n counts positions from BOS, prompt included.
    let n = ids(&v["prompt_ids"]).len() + ids(&v["ids"]).len();
    assert!(n <= 12, "{n} positions");
}

#[test]
fn run_without_prompt_starts_from_bos_and_is_seeded() {
    let p = model("ref-small-tied-q8_0");
    let p = p.to_str().unwrap();
    let (a, _) = ok(&["run", p, "-n", "17", "--seed", "5", "--json"], None);
    let (b, _) = ok(&["run", p, "-n", "17", "--seed", "5", "--json"], None);
    let (c, _) = ok(&["run", p, "-n", "17", "--seed", "6", "--json"], None);
    let (va, vc): (Value, Value) = (
        serde_json::from_str(&a).unwrap(),
        serde_json::from_str(&c).unwrap(),
    );
    assert_eq!(a, b, "same seed, same output");
    assert_ne!(va["ids"], vc["ids"], "another seed, another sample");
    assert_eq!(ids(&va["prompt_ids"]), vec![1]);
    assert!(ids(&va["ids"]).len() <= 16);
}

#[test]
fn tokenize_matches_llama_cpp() {
    let g = golden("ref-tiny-f32");
    let p = model("ref-tiny-f32");
    for case in g["tokenize"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        let mut args = vec!["tokenize", p.to_str().unwrap(), text];
        if !case["add_bos"].as_bool().unwrap() {
            args.push("--no-bos");
        }
        if !case["parse_special"].as_bool().unwrap() {
            args.push("--no-special");
        }
        let (out, _) = ok(&args, None);
        let got: Vec<u64> = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(got, ids(&case["ids"]), "{text:?}");
    }
}

#[test]
fn chat_survives_a_full_context_and_end_of_input() {
    let p = model("ref-tiny-q4_0");
    let input = b"Hello there\nWhat is the capital of France?\nTell me a story\nAnd another one\n/reset\nHi again\n";
    let (out, err) = ok(
        &[
            "chat",
            p.to_str().unwrap(),
            "--system",
            "Be brief.",
            "--ctx",
            "96",
            "--max-reply",
            "24",
            "--temp",
            "0.7",
        ],
        Some(input),
    );
    assert!(
        err.contains("context full: dropped"),
        "the context should have filled:\n{err}"
    );
    assert!(err.contains("conversation cleared"), "{err}");
    assert!(out.lines().count() >= 5, "one reply per message:\n{out}");
}

#[test]
fn chat_explains_a_turn_longer_than_the_context() {
    let p = model("ref-tiny-q4_0");
    let long = "word ".repeat(400);
    let input = format!("{long}\nshort question\n");
    let (out, err) = ok(
        &[
            "chat",
            p.to_str().unwrap(),
            "--ctx",
            "64",
            "--max-reply",
            "8",
        ],
        Some(input.as_bytes()),
    );
    assert!(
        err.contains("message too long") && err.contains("context has room for"),
        "{err}"
    );
    assert!(
        !out.trim().is_empty(),
        "the next message still gets a reply"
    );
}

#[test]
fn chat_accepts_non_utf8_input() {
    let p = model("ref-tiny-q8_0");
    let (out, _) = ok(
        &[
            "chat",
            p.to_str().unwrap(),
            "--ctx",
            "64",
            "--max-reply",
            "4",
        ],
        Some(b"caf\xe9 \xff\xfe\n"),
    );
    assert!(!out.is_empty());
}

#[test]
fn bad_model_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.gguf");
    let mut bytes = std::fs::read(model("ref-tiny-q8_0")).unwrap();
    bytes.truncate(4000);
    std::fs::write(&bad, bytes).unwrap();
    let out = mote(&["run", bad.to_str().unwrap(), "-n", "4"], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.gguf") && err.contains("truncated"),
        "{err}"
    );
}

/// llama2.c checkpoint → GGUF → `mote run`: the same greedy tokens as llama.cpp on the source.
#[test]
fn imported_llama2c_model_runs_like_the_reference() {
    let dir = tempfile::tempdir().unwrap();
    for (stem, src) in [
        ("ref-tiny", "ref-tiny-f32"),
        ("ref-small-tied", "ref-small-tied-f32"),
    ] {
        let bin = dir.path().join(format!("{stem}.bin"));
        let tok = dir.path().join(format!("{stem}-tokenizer.bin"));
        let out = dir.path().join(format!("{stem}.gguf"));
        write_llama2c_from_gguf(&model(src), &bin, &tok);
        ok(
            &[
                "import",
                "llama2c",
                bin.to_str().unwrap(),
                "--tokenizer",
                tok.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
            ],
            None,
        );
        run_matches_golden(&out, src, 32, &[]);
    }
}
