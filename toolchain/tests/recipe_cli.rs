//! The training verbs end to end through the `mote` binary: tokenizer → init → pretrain /
//! SFT → export → eval, a killed run that resumes bit-identically, and the NaN guard.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../models/data/tiny-corpus.txt"
);
const DEMOS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/sft-demos.jsonl");

fn mote(args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
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
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = mote(args, None);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "mote {args:?} failed:\n{err}");
    String::from_utf8_lossy(&out.stdout).into_owned() + &err
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A tokenizer trained on the corpus and the demonstrations, and a fresh tiny model.
fn init(dir: &Path, ctx: usize) -> PathBuf {
    let tok = dir.join("tok");
    ok(&[
        "tokenizer",
        "train",
        "-i",
        CORPUS,
        DEMOS,
        "--vocab",
        "512",
        "-o",
        s(&tok),
    ]);
    let cfg = dir.join("model.toml");
    std::fs::write(
        &cfg,
        format!(
            "[model]\nname = \"recipe-test\"\ndim = 64\nn_layers = 2\nn_heads = 4\n\
             n_kv_heads = 2\nhidden = 128\nvocab = 512\nctx = {ctx}\ntied = true\n"
        ),
    )
    .unwrap();
    let ckpt = dir.join("init");
    ok(&[
        "init",
        "--config",
        s(&cfg),
        "--tokenizer",
        s(&tok),
        "-o",
        s(&ckpt),
    ]);
    ckpt
}

fn metrics(out: &Path) -> Vec<Value> {
    std::fs::read_to_string(out.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn pretrain_args<'a>(model: &'a str, out: &'a str, steps: &'a str) -> Vec<&'a str> {
    vec![
        "pretrain",
        "--model",
        model,
        "--data",
        CORPUS,
        "-o",
        out,
        "--steps",
        steps,
        "--batch-size",
        "4",
        "--seq-len",
        "32",
        "--lr",
        "3e-3",
        "--warmup-steps",
        "5",
        "--eval-fraction",
        "0.1",
        "--eval-batches",
        "2",
        "--eval-every",
        "10",
        "--save-every",
        "10",
        "--log-every",
        "1",
        "--quiet",
    ]
}

#[test]
fn pretrain_lowers_the_loss_and_exports_a_working_file() {
    let dir = tempfile::tempdir().unwrap();
    let init = init(dir.path(), 64);
    let out = dir.path().join("pt");
    ok(&pretrain_args(s(&init), s(&out), "40"));
    let m = metrics(&out);
    let loss = |v: &Value| v["loss"].as_f64().unwrap();
    let evals: Vec<f64> = m.iter().filter_map(|v| v["eval_loss"].as_f64()).collect();
    let (first, last) = (loss(&m[0]), loss(m.last().unwrap()));
    assert!(
        first > 5.5,
        "a fresh 512-token model starts near ln 512: {first}"
    );
    assert!(last < first - 1.0, "loss {first} -> {last}");
    assert!(
        evals.len() >= 3 && evals.last() < evals.first(),
        "held-out {evals:?}"
    );

    // Export with the quality report, then measure the files again with `mote eval`.
    let held_out = dir.path().join("held-out.txt");
    let corpus = std::fs::read_to_string(CORPUS).unwrap();
    std::fs::write(
        &held_out,
        corpus.lines().rev().take(40).collect::<Vec<_>>().join("\n"),
    )
    .unwrap();
    let q8 = dir.path().join("m-q8_0.gguf");
    let report = ok(&[
        "export",
        s(&out),
        "--quant",
        "q8_0",
        "-o",
        s(&q8),
        "--ppl",
        s(&held_out),
    ]);
    for row in ["| checkpoint (candle) |", "| f32 |", "| q8_0 |", "| q4_0 |"] {
        assert!(report.contains(row), "{row} missing from:\n{report}");
    }
    let ppl = |model: &Path| -> f64 {
        let o = ok(&["eval", s(model), "--ppl", s(&held_out), "--json"]);
        let v: Value = serde_json::from_str(o.lines().next().unwrap()).unwrap();
        v["perplexity"].as_f64().unwrap()
    };
    let (ck, file) = (ppl(&out), ppl(&q8));
    assert!(
        ck < 512.0 * 0.5,
        "perplexity {ck} is not better than chance"
    );
    assert!(
        (file / ck - 1.0).abs() < 0.01,
        "q8_0 {file} vs checkpoint {ck}"
    );

    // GGUF → checkpoint → the same perplexity from candle.
    let back = dir.path().join("imported");
    ok(&["import", "gguf", s(&q8), "-o", s(&back)]);
    let again = ppl(&back);
    assert!(
        (again / file - 1.0).abs() < 0.01,
        "imported {again} vs file {file}"
    );
}

#[test]
fn killed_pretrain_resumes_bit_identical() {
    let dir = tempfile::tempdir().unwrap();
    let init = init(dir.path(), 64);
    let straight = dir.path().join("straight");
    ok(&pretrain_args(s(&init), s(&straight), "30"));

    // Kill a run once its first checkpoint is on disk, then resume it.
    let killed = dir.path().join("killed");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mote"))
        .args(pretrain_args(s(&init), s(&killed), "30"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !killed.join("checkpoint-000010").is_dir() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it was killed"
        );
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "no checkpoint after 300 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !killed.join("model.safetensors").exists(),
        "killed before the end"
    );
    let mut args = pretrain_args(s(&init), s(&killed), "30");
    args.push("--resume");
    ok(&args);
    let a = std::fs::read(straight.join("model.safetensors")).unwrap();
    let b = std::fs::read(killed.join("model.safetensors")).unwrap();
    assert!(a == b, "resumed weights differ from the uninterrupted run");
    let loss = |m: Vec<Value>| -> Vec<String> { m.iter().map(|v| v["loss"].to_string()).collect() };
    assert_eq!(loss(metrics(&straight)), loss(metrics(&killed)));
}

#[test]
fn a_diverging_run_stops_and_keeps_the_last_good_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let init = init(dir.path(), 64);
    let out = dir.path().join("nan");
    let mut args = pretrain_args(s(&init), s(&out), "40");
    let set = |args: &mut Vec<&str>, flag: &str, v: &'static str| {
        let i = args.iter().position(|a| *a == flag).unwrap();
        args[i + 1] = v;
    };
    set(&mut args, "--lr", "1e30");
    set(&mut args, "--save-every", "1");
    args.extend(["--max-grad-norm", "0"]);
    let o = mote(&args, None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "a learning rate of 1e30 must diverge");
    assert!(
        err.contains("training stopped, last good checkpoint"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        !out.join("model.safetensors").exists(),
        "no final model after a NaN"
    );
    let latest = std::fs::read_to_string(out.join("latest")).unwrap();
    let good = out.join(latest.trim());
    assert!(
        err.contains(latest.trim()),
        "{err} should name {}",
        latest.trim()
    );
    // The kept checkpoint has finite weights and evaluates.
    let text = dir.path().join("t.txt");
    std::fs::write(&text, "Once upon a time there was a cat.").unwrap();
    let o = ok(&["eval", s(&good), "--ppl", s(&text), "--json"]);
    let v: Value = serde_json::from_str(o.lines().next().unwrap()).unwrap();
    assert!(v["perplexity"].as_f64().unwrap().is_finite(), "{o}");
}

#[test]
fn sft_learns_to_answer_and_to_stop() {
    let dir = tempfile::tempdir().unwrap();
    let init = init(dir.path(), 64);
    let out = dir.path().join("sft");
    ok(&[
        "sft",
        "--model",
        s(&init),
        "--data",
        DEMOS,
        "-o",
        s(&out),
        "--steps",
        "150",
        "--batch-size",
        "8",
        "--lr",
        "3e-3",
        "--warmup-steps",
        "10",
        "--eval-fraction",
        "0",
        "--save-every",
        "1000",
        "--quiet",
    ]);
    let gguf = dir.path().join("sft.gguf");
    ok(&["export", s(&out), "--quant", "f32", "-o", s(&gguf)]);
    // Each question alone (a fresh chat), greedy: the demonstrated answer, then the turn ends.
    for (q, a) in [
        ("What is the capital of Japan?", "Tokyo."),
        ("What do bees make?", "Honey."),
        ("What is the opposite of hot?", "Cold."),
    ] {
        let o = mote(
            &["chat", s(&gguf), "--temp", "0", "--max-reply", "40"],
            Some(&format!("{q}\n")),
        );
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let reply = stdout
            .lines()
            .next()
            .unwrap_or("")
            .trim_start_matches("> ")
            .trim();
        assert_eq!(reply, a, "{q} -> {stdout:?}");
    }
}

#[test]
fn malformed_demonstrations_name_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let init = init(dir.path(), 64);
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"prompt\": \"Hi\", \"completion\": \"Hello.\"}\n{\"prompt\": \"Hi\", \"completion\": 7}\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = mote(
        &[
            "sft",
            "--model",
            s(&init),
            "--data",
            s(&bad),
            "-o",
            s(&out),
            "--steps",
            "5",
            "--quiet",
        ],
        None,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains(&format!("{}:2:", bad.display())) && err.contains("completion"),
        "{err}"
    );
    assert!(!out.join("model.safetensors").exists());
}
