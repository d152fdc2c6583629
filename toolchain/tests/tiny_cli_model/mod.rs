//! A fresh tiny model made through the `mote` binary, for CLI tests that need a checkpoint
//! but not a trained one: a tokenizer trained on the test corpus (and `extra_text`), and
//! `mote init` of a one-layer config.

use std::path::{Path, PathBuf};
use std::process::Command;

const MOTE: &str = env!("CARGO_BIN_EXE_mote");

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn run(cmd: &mut Command) {
    let o = cmd.output().unwrap();
    assert!(
        o.status.success(),
        "{:?} failed:\n{}",
        cmd,
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The checkpoint directory `dir/init`, named `name` in its config.
pub fn tiny_model(dir: &Path, name: &str, extra_text: &[&Path]) -> PathBuf {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/data/tiny-corpus.txt");
    let tok = dir.join("tok");
    let mut cmd = Command::new(MOTE);
    cmd.args(["tokenizer", "train", "-i", s(&corpus)]);
    cmd.args(extra_text);
    run(cmd.args(["--vocab", "512", "-o", s(&tok)]));
    let cfg = dir.join("model.toml");
    std::fs::write(
        &cfg,
        format!(
            "[model]\nname = \"{name}\"\ndim = 32\nn_layers = 1\nn_heads = 2\n\
             n_kv_heads = 1\nhidden = 64\nvocab = 512\nctx = 128\ntied = true\n"
        ),
    )
    .unwrap();
    let ckpt = dir.join("init");
    run(Command::new(MOTE)
        .args(["init", "--config", s(&cfg), "--tokenizer", s(&tok)])
        .args(["-o", s(&ckpt)]));
    ckpt
}
