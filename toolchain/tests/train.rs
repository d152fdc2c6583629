//! The shared training loop on a toy model (a linear regression with an input scale, in a
//! `VarMap`): the loss falls; a run interrupted and resumed, in-process or by killing a
//! child process, ends with the same weights bit for bit as one that never stopped; a NaN
//! stops training with the step in the error and the last good checkpoint intact.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use candle_core::{DType, Device, Tensor};
use candle_nn::{Init, VarMap};
use mote_toolchain::data::Rng;
use mote_toolchain::train::checkpoints::{latest, list, LATEST, STATE_FILE};
use mote_toolchain::train::{
    decay_by_default, named_vars, Stage, TrainConfig, Trainer, TrainerState,
};
use mote_toolchain::{Error, Result};
use serde_json::Value;

const IN: usize = 8;
const OUT: usize = 4;
const BATCH: usize = 16;

fn config() -> TrainConfig {
    TrainConfig {
        steps: 30,
        grad_accum: 2,
        lr: 0.05,
        min_lr: 0.005,
        warmup_steps: 5,
        weight_decay: 0.01,
        max_grad_norm: 1.0,
        eval_every: 10,
        save_every: 7,
        log_every: 1,
        keep_checkpoints: 2,
        seed: 5,
        resume: false,
        progress: false,
        ..TrainConfig::default()
    }
}

fn uniform(rng: &mut Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.unit_f32() * 2.0 - 1.0).collect()
}

/// y = (x ⊙ norm.weight) · linear.weightᵀ + linear.bias, fitted to a fixed linear map.
struct Toy {
    varmap: VarMap,
    seed: u64,
    truth: (Tensor, Tensor),
    eval: (Tensor, Tensor),
    /// Fail with an error at this step (an interruption that leaves only the disk).
    stop_at: Option<u64>,
    /// Return a NaN loss from this step on.
    nan_from: Option<u64>,
    /// Abort the process at this step, or while writing this step's checkpoint.
    abort_at: Option<u64>,
    abort_in_save_at: Option<u64>,
    step: u64,
}

impl Toy {
    fn new(init_seed: u64, seed: u64) -> Toy {
        let dev = Device::Cpu;
        let varmap = VarMap::new();
        let mut rng = Rng::new(&[init_seed]);
        for (name, shape) in [
            ("linear.weight", vec![OUT, IN]),
            ("linear.bias", vec![OUT]),
            ("norm.weight", vec![IN]),
        ] {
            varmap
                .get(shape.as_slice(), name, Init::Const(0.0), DType::F32, &dev)
                .unwrap();
            let n = shape.iter().product();
            let mut values = uniform(&mut rng, n);
            if name == "norm.weight" {
                values.iter_mut().for_each(|v| *v = 1.0 + 0.1 * *v);
            }
            let t = Tensor::from_vec(values, shape.as_slice(), &dev).unwrap();
            varmap.data().lock().unwrap()[name].set(&t).unwrap();
        }
        let mut truth_rng = Rng::new(&[1234]);
        let w = Tensor::from_vec(uniform(&mut truth_rng, OUT * IN), (OUT, IN), &dev).unwrap();
        let b = Tensor::from_vec(uniform(&mut truth_rng, OUT), OUT, &dev).unwrap();
        let truth = (w, b);
        let x = Self::inputs(&mut Rng::new(&[seed, u64::MAX]), 64);
        let y = Self::apply(&truth, &x);
        Toy {
            varmap,
            seed,
            truth,
            eval: (x, y),
            stop_at: None,
            nan_from: None,
            abort_at: None,
            abort_in_save_at: None,
            step: 0,
        }
    }

    fn inputs(rng: &mut Rng, n: usize) -> Tensor {
        Tensor::from_vec(uniform(rng, n * IN), (n, IN), &Device::Cpu).unwrap()
    }

    fn apply((w, b): &(Tensor, Tensor), x: &Tensor) -> Tensor {
        x.matmul(&w.t().unwrap()).unwrap().broadcast_add(b).unwrap()
    }

    fn var(&self, name: &str) -> Tensor {
        self.varmap.data().lock().unwrap()[name].as_tensor().clone()
    }

    fn forward_loss(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        let h = x.broadcast_mul(&self.var("norm.weight"))?;
        let pred = Self::apply(&(self.var("linear.weight"), self.var("linear.bias")), &h);
        Ok((pred - y)?.sqr()?.mean_all()?)
    }
}

impl Stage for Toy {
    fn loss(&mut self, step: u64, micro: usize) -> Result<(Tensor, usize)> {
        self.step = step;
        if self.abort_at == Some(step) && micro == 1 {
            std::process::abort();
        }
        if self.stop_at == Some(step) && micro == 1 {
            return Err(Error::TrainConfig("interrupted".into()));
        }
        let x = Self::inputs(&mut Rng::new(&[self.seed, step, micro as u64]), BATCH);
        let y = Self::apply(&self.truth, &x);
        let mut loss = self.forward_loss(&x, &y)?;
        if self.nan_from.is_some_and(|s| step >= s) {
            loss = loss.affine(f64::NAN, 0.0)?;
        }
        Ok((loss, BATCH))
    }

    fn eval_loss(&mut self) -> Result<Option<f32>> {
        let (x, y) = self.eval.clone();
        Ok(Some(self.forward_loss(&x, &y)?.to_scalar::<f32>()?))
    }

    fn save_model(&mut self, dir: &Path) -> Result<()> {
        std::fs::write(dir.join("config.json"), "{\"toy\": true}\n").unwrap();
        self.varmap.save(dir.join("model.safetensors"))?;
        if self.abort_in_save_at == Some(self.step) {
            std::process::abort();
        }
        Ok(())
    }
}

fn run(out: &Path, config: TrainConfig, toy: &mut Toy) -> Result<Option<PathBuf>> {
    let mut trainer = Trainer::new(out, config, named_vars(&toy.varmap), decay_by_default)?;
    let resumed = trainer.resumed_from().map(Path::to_path_buf);
    if let Some(dir) = &resumed {
        toy.varmap.load(dir.join("model.safetensors"))?;
    }
    trainer.run(toy)?;
    Ok(resumed)
}

fn resume(out: &Path) -> Result<Option<PathBuf>> {
    // Different initial values: everything must come from the checkpoint.
    let mut toy = Toy::new(999, config().seed);
    run(
        out,
        TrainConfig {
            resume: true,
            ..config()
        },
        &mut toy,
    )
}

/// Tensor name → exact bits.
fn weights(path: &Path) -> HashMap<String, Vec<u32>> {
    candle_core::safetensors::load(path, &Device::Cpu)
        .unwrap()
        .into_iter()
        .map(|(k, t)| {
            let bits = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            (k, bits.into_iter().map(f32::to_bits).collect())
        })
        .collect()
}

fn metrics(out: &Path) -> Vec<Value> {
    std::fs::read_to_string(out.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The deterministic part of the metrics: step, loss, lr, grad_norm, tokens, eval_loss.
fn curve(out: &Path) -> Vec<String> {
    metrics(out)
        .iter()
        .map(|m| {
            let f = |k: &str| m.get(k).map(Value::to_string).unwrap_or_default();
            [
                f("step"),
                f("loss"),
                f("lr"),
                f("grad_norm"),
                f("tokens"),
                f("eval_loss"),
            ]
            .join(" ")
        })
        .collect()
}

/// What an uninterrupted run ends with.
struct Reference {
    weights: HashMap<String, Vec<u32>>,
    curve: Vec<String>,
}

/// The uninterrupted run, once per test binary.
fn straight() -> &'static Reference {
    static RUN: std::sync::OnceLock<Reference> = std::sync::OnceLock::new();
    RUN.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        run(&out, config(), &mut Toy::new(7, config().seed)).unwrap();
        Reference {
            weights: weights(&out.join("model.safetensors")),
            curve: curve(&out),
        }
    })
}

#[test]
fn loss_falls_and_out_is_a_model_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run(&out, config(), &mut Toy::new(7, config().seed)).unwrap();
    let m = metrics(&out);
    assert_eq!(m.len(), 30);
    for key in [
        "step",
        "loss",
        "lr",
        "grad_norm",
        "tokens",
        "tokens_per_s",
        "elapsed",
    ] {
        assert!(m.iter().all(|r| r.get(key).is_some()), "{key}");
    }
    let evals: Vec<u64> = m
        .iter()
        .filter(|r| r.get("eval_loss").is_some())
        .map(|r| r["step"].as_u64().unwrap())
        .collect();
    assert_eq!(evals, [10, 20, 30]);
    assert_eq!(m[29]["tokens"], 30 * 2 * BATCH);
    let loss = |i: usize| m[i]["loss"].as_f64().unwrap();
    let eval = |i: usize| m[i]["eval_loss"].as_f64().unwrap();
    assert!(loss(29) < 0.2 * loss(0), "{} → {}", loss(0), loss(29));
    assert!(eval(29) < eval(9), "{} → {}", eval(9), eval(29));
    // Clipping at 1.0 reports the norm before clipping.
    assert!(m.iter().any(|r| r["grad_norm"].as_f64().unwrap() > 1.0));

    // Checkpoints at 7, 14, 21, 28 and the last step; two are kept.
    let kept: Vec<u64> = list(&out).unwrap().into_iter().map(|(s, _)| s).collect();
    assert_eq!(kept, [28, 30]);
    assert_eq!(
        std::fs::read_to_string(out.join(LATEST)).unwrap(),
        "checkpoint-000030\n"
    );
    let last = out.join("checkpoint-000030");
    for f in [
        "config.json",
        "model.safetensors",
        "optimizer.safetensors",
        STATE_FILE,
    ] {
        assert!(last.join(f).is_file(), "{f}");
    }
    let state = TrainerState::load(&last.join(STATE_FILE)).unwrap();
    assert_eq!((state.step, state.tokens), (30, 960));
    assert_eq!(state.best_eval_step, Some(30));
    // OUT itself holds the final model, the same weights as the last checkpoint.
    assert!(out.join("config.json").is_file());
    assert_eq!(
        weights(&out.join("model.safetensors")),
        weights(&last.join("model.safetensors"))
    );
    assert_eq!(weights(&out.join("model.safetensors")), straight().weights);
    // No temporary entries remain.
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
}

#[test]
fn interrupted_and_resumed_run_is_bit_identical() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut toy = Toy::new(7, config().seed);
    toy.stop_at = Some(17);
    let e = run(&out, config(), &mut toy).unwrap_err();
    assert!(e.to_string().contains("interrupted"));
    drop(toy);
    // Metrics of steps 15 and 16 were written after checkpoint 14; resuming drops them.
    assert_eq!(metrics(&out).len(), 16);

    let resumed = resume(&out).unwrap();
    assert_eq!(resumed, Some(out.join("checkpoint-000014")));
    assert_eq!(weights(&out.join("model.safetensors")), straight().weights);
    assert_eq!(curve(&out), straight().curve);

    // Resuming a finished run changes nothing.
    assert_eq!(resume(&out).unwrap(), Some(out.join("checkpoint-000030")));
    assert_eq!(weights(&out.join("model.safetensors")), straight().weights);
    assert_eq!(curve(&out), straight().curve);
}

/// Runs `child_training` in a child process of this test binary, which aborts as told.
fn train_in_child(out: &Path, abort: &str) {
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "child_training",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("MOTE_TRAIN_CHILD_OUT", out)
        .env("MOTE_TRAIN_CHILD_ABORT", abort)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&child.stderr);
    assert!(
        !child.status.success(),
        "the child was to abort: {}\n{stderr}",
        child.status
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
#[ignore = "run as a child process by killed_process_resumes_bit_identical"]
fn child_training() {
    let out = PathBuf::from(std::env::var_os("MOTE_TRAIN_CHILD_OUT").unwrap());
    let abort = std::env::var("MOTE_TRAIN_CHILD_ABORT").unwrap();
    let mut toy = Toy::new(7, config().seed);
    match abort.split_once(':').unwrap() {
        ("step", s) => toy.abort_at = Some(s.parse().unwrap()),
        ("save", s) => toy.abort_in_save_at = Some(s.parse().unwrap()),
        other => panic!("{other:?}"),
    }
    run(
        &out,
        TrainConfig {
            resume: true,
            ..config()
        },
        &mut toy,
    )
    .unwrap();
}

#[test]
fn killed_process_resumes_bit_identical() {
    // Killed mid-step (step 17, between micro-batches): resumes from checkpoint 14.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mid-step");
    train_in_child(&out, "step:17");
    assert_eq!(latest(&out).unwrap(), Some(out.join("checkpoint-000014")));
    assert_eq!(resume(&out).unwrap(), Some(out.join("checkpoint-000014")));
    assert_eq!(weights(&out.join("model.safetensors")), straight().weights);
    assert_eq!(curve(&out), straight().curve);

    // Killed while writing checkpoint 14: its half-written temporary directory is ignored
    // and removed, and the run resumes from checkpoint 7.
    let out = dir.path().join("mid-save");
    train_in_child(&out, "save:14");
    assert!(out.join(".tmp-checkpoint-000014").is_dir());
    assert_eq!(latest(&out).unwrap(), Some(out.join("checkpoint-000007")));
    assert_eq!(resume(&out).unwrap(), Some(out.join("checkpoint-000007")));
    assert!(!out.join(".tmp-checkpoint-000014").exists());
    assert_eq!(weights(&out.join("model.safetensors")), straight().weights);
    assert_eq!(curve(&out), straight().curve);
}

#[test]
fn nan_loss_stops_and_keeps_the_last_good_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut toy = Toy::new(7, config().seed);
    toy.nan_from = Some(12);
    let e = run(&out, config(), &mut toy).unwrap_err();
    assert!(
        matches!(&e, Error::NonFinite { step: 12, what: "loss", value, .. } if value.is_nan()),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.starts_with("step 12: loss is NaN") && msg.contains("checkpoint-000007"),
        "{msg}"
    );
    // Nothing after checkpoint 7: no later checkpoint, no final model.
    let kept: Vec<u64> = list(&out).unwrap().into_iter().map(|(s, _)| s).collect();
    assert_eq!(kept, [7]);
    assert!(!out.join("model.safetensors").exists());
    // The last good checkpoint loads, and training continues from it.
    let good = latest(&out).unwrap().unwrap();
    let mut fresh = Toy::new(3, config().seed);
    fresh.varmap.load(good.join("model.safetensors")).unwrap();
    assert!(fresh.eval_loss().unwrap().unwrap().is_finite());
    assert_eq!(resume(&out).unwrap(), Some(good));
    assert_eq!(weights(&out.join("model.safetensors")), straight().weights);
}

#[test]
fn resume_refuses_mismatches() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut toy = Toy::new(7, config().seed);
    toy.stop_at = Some(9);
    run(&out, config(), &mut toy).unwrap_err();

    // A fresh run into a directory with checkpoints.
    let e = run(&out, config(), &mut Toy::new(7, 5))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("already holds") && e.contains("checkpoint-000007"),
        "{e}"
    );
    // A resume that would change the result.
    let changed = TrainConfig {
        resume: true,
        lr: 0.1,
        ..config()
    };
    let e = run(&out, changed, &mut Toy::new(7, 5))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`lr` is 0.1 here but 0.05 in the checkpoint"),
        "{e}"
    );
    // A resume that forgot to load the weights.
    let mut toy = Toy::new(7, 5);
    let mut trainer = Trainer::new(
        &out,
        TrainConfig {
            resume: true,
            ..config()
        },
        named_vars(&toy.varmap),
        decay_by_default,
    )
    .unwrap();
    let e = trainer.run(&mut toy).unwrap_err().to_string();
    assert!(e.contains("do not hold this checkpoint's weights"), "{e}");
    // Settings that do not change the weights may change.
    let looser = TrainConfig {
        resume: true,
        eval_every: 3,
        log_every: 5,
        ..config()
    };
    run(&out, looser, &mut Toy::new(7, 5)).unwrap();
    assert_eq!(weights(&out.join("model.safetensors")), straight().weights);
}
