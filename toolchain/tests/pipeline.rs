//! `mote pipeline` end to end at toy scale: every stage runs once and leaves its outputs,
//! the results table and the plots; a second run skips every stage; a removed stamp re-runs
//! only its stage; a bad flag is reported before anything runs.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn mote(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mote"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("spawn mote")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

fn write_pipeline(dir: &Path, ppo_extra: &str) -> String {
    let model = dir.join("model.toml");
    std::fs::write(
        &model,
        "[model]\nname = \"pipe-test\"\ndim = 32\nn_layers = 1\nn_heads = 2\nn_kv_heads = 2\n\
         hidden = 64\nvocab = 512\nctx = 128\ntied = true\n",
    )
    .unwrap();
    let file = dir.join("pipe.toml");
    std::fs::write(
        &file,
        format!(
            r#"out = "{out}"
seed = 3
threads = 2
[world]
scale = "small"
[tokenizer]
vocab = 512
[model]
config = "{model}"
[pretrain]
steps = 4
batch_size = 2
seq_len = 64
warmup_steps = 1
[sft]
steps = 4
batch_size = 4
max_len = 128
warmup_steps = 1
[rounds]
count = 2
prompts = 12
k = 4
[rm]
steps = 3
batch_size = 2
warmup_steps = 1
norm_prompts = 8
[ppo]
iterations = 2
batch_size = 4
minibatch_size = 2
ppo_epochs = 1
max_new_tokens = 8
save_every = 1
{ppo_extra}
[dpo]
steps = 3
batch_size = 2
warmup_steps = 1
[export]
quants = ["q8_0"]
[eval]
samples = 1
temperature = 0.7
curve_samples = 1
limit = 2
"#,
            out = dir.join("out").display(),
            model = model.display(),
        ),
    )
    .unwrap();
    file.display().to_string()
}

#[test]
fn the_pipeline_runs_every_stage_then_resumes_without_redoing_any() {
    let tmp = tempfile::tempdir().unwrap();
    // PPO-ptx without a file: the world's demonstrations.
    let file = write_pipeline(tmp.path(), "ptx_coef = 0.1");
    let out = tmp.path().join("out");

    let first = mote(&["pipeline", &file]);
    assert!(first.status.success(), "{}", text(&first));
    let results = std::fs::read_to_string(out.join("results.md")).unwrap();
    for row in [
        "| base |",
        "| sft |",
        "| ppo-round-1 |",
        "| ppo-round-2 |",
        "| dpo |",
        "| aligned-f32 |",
        "| aligned-q8_0 |",
        "aligned-q8_0.gguf",
        "| round-2-ppo |",
    ] {
        assert!(results.contains(row), "no {row} in\n{results}");
    }
    assert_eq!(text(&first).matches("| **total** |").count(), 1);
    for png in ["ppo.png", "overoptimization.png"] {
        let bytes = std::fs::read(out.join("plots").join(png)).unwrap();
        assert!(
            bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{png} is not a PNG"
        );
        assert!(bytes.len() > 5_000, "{png} is nearly empty");
    }
    // Round 2 samples from round 1's policy and its reward model reads both rounds.
    let rm2 = std::fs::read_to_string(out.join("stages/round-2-rm.json")).unwrap();
    assert!(rm2.contains("round-1/rankings.jsonl") && rm2.contains("round-2/rankings.jsonl"));
    let ppo1 = std::fs::read_to_string(out.join("stages/round-1-ppo.json")).unwrap();
    assert!(
        ppo1.contains("--ptx-data") && ppo1.contains("world/sft.jsonl"),
        "{ppo1}"
    );
    let s2 = std::fs::read_to_string(out.join("stages/round-2-sample.json")).unwrap();
    assert!(s2.contains("round-1/ppo"), "{s2}");
    // Two PPO iterations saved one by one: two curve points per round.
    let curve = std::fs::read_dir(out.join("eval/curve")).unwrap().count();
    assert_eq!(curve, 4);

    let second = mote(&["pipeline", &file]);
    assert!(second.status.success(), "{}", text(&second));
    let log = text(&second);
    assert!(!log.contains(" mote "), "a stage ran again:\n{log}");
    assert_eq!(log.matches("done earlier").count(), 27, "{log}");

    std::fs::remove_file(out.join("stages/eval-dpo.json")).unwrap();
    let third = mote(&["pipeline", &file]);
    assert!(third.status.success(), "{}", text(&third));
    let log = text(&third);
    assert_eq!(log.matches("done earlier").count(), 26, "{log}");
    assert!(log.contains("mote eval"), "{log}");
}

#[test]
fn a_bad_flag_stops_the_pipeline_before_any_stage() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write_pipeline(tmp.path(), "no_such_flag = 3");
    let o = mote(&["pipeline", &file]);
    assert!(!o.status.success());
    let err = text(&o);
    assert!(
        err.contains("round-1-ppo") && err.contains("--no-such-flag"),
        "{err}"
    );
    assert!(!tmp.path().join("out/world").exists(), "a stage ran: {err}");
}
