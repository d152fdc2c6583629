//! A tiny base model and preference files with a planted preference: responses with `!`
//! beat those with `?`, which beat those ending in `.`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use mote_toolchain::data::Rng;
use mote_toolchain::init_random::ModelConfig;
use mote_toolchain::model::LlamaConfig;
use mote_toolchain::recipe::init_checkpoint;
use mote_toolchain::tokenizer::{hf_tokenizer, train};
use mote_toolchain::train::TrainConfig;

const WORDS: &[&str] = &[
    "the", "cat", "sat", "on", "a", "mat", "dog", "ran", "far", "home",
];

/// A random untrained model with a BPE tokenizer, saved in `dir/base`.
pub fn base(dir: &Path) -> PathBuf {
    let texts: Vec<String> = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../models/data/tiny-corpus.txt"
    ))
    .unwrap()
    .lines()
    .map(String::from)
    .collect();
    let vocab = train(&texts, 400).unwrap();
    let json = hf_tokenizer(&vocab).unwrap().to_string(false).unwrap();
    let cfg = LlamaConfig::from_model_config(&ModelConfig {
        name: "rm-test".into(),
        dim: 32,
        n_layers: 2,
        n_heads: 2,
        n_kv_heads: None,
        hidden: 64,
        vocab: 400,
        ctx: 64,
        tied: true,
        rope_base: 10_000.0,
        rms_eps: 1e-5,
    });
    let ckpt = init_checkpoint(&cfg, json.into_bytes(), 3).unwrap();
    let out = dir.join("base");
    ckpt.save(&out).unwrap();
    out
}

fn sentence(rng: &mut Rng, end: &str) -> String {
    let n = 2 + rng.below(3);
    let words: Vec<&str> = (0..n).map(|_| WORDS[rng.below(WORDS.len())]).collect();
    format!("{}{end}", words.join(" "))
}

/// `n` lines: 3-way rankings (`!` > `?` > `.`, in a random order of completions) or pairs
/// (`!` over `.`).
pub fn planted(dir: &Path, name: &str, n: usize, rankings: bool, seed: u64) -> PathBuf {
    let mut rng = Rng::new(&[seed]);
    let mut out = String::new();
    for _ in 0..n {
        let prompt = sentence(&mut rng, "?");
        let line = if rankings {
            let best_first = [
                sentence(&mut rng, " !"),
                sentence(&mut rng, " ?"),
                sentence(&mut rng, "."),
            ];
            let mut order = [0usize, 1, 2];
            for k in (1..3).rev() {
                order.swap(k, rng.below(k + 1));
            }
            // completions[i] = best_first[order[i]]; ranking lists positions best first.
            let completions: Vec<&String> = order.iter().map(|&o| &best_first[o]).collect();
            let ranking: Vec<usize> = (0..3)
                .map(|r| order.iter().position(|&o| o == r).unwrap())
                .collect();
            serde_json::json!({"prompt": prompt, "completions": completions, "ranking": ranking})
        } else {
            serde_json::json!({"prompt": prompt, "chosen": sentence(&mut rng, " !"),
                "rejected": sentence(&mut rng, ".")})
        };
        out.push_str(&line.to_string());
        out.push('\n');
    }
    let path = dir.join(name);
    std::fs::write(&path, out).unwrap();
    path
}

pub fn train_config(steps: u64, lr: f64) -> TrainConfig {
    TrainConfig {
        steps,
        lr,
        min_lr: lr / 10.0,
        warmup_steps: 3,
        weight_decay: 0.0,
        eval_every: 0,
        save_every: 0,
        log_every: 1,
        progress: false,
        ..TrainConfig::default()
    }
}
