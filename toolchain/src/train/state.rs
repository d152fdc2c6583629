//! The training configuration and `trainer_state.json`, the loop's state in a checkpoint.

use std::path::Path;

use candle_core::Var;
use serde::{Deserialize, Serialize};

use super::optim::AdamWParams;
use super::schedule::Schedule;
use crate::error::{Error, Result};

/// Everything the shared loop needs; a stage's own settings (data, batch size, model) live
/// in the stage. Deserialises from a TOML/JSON table with every field optional.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Optimizer steps in the whole run.
    pub steps: u64,
    /// Micro-batches per step; their gradients are averaged.
    pub grad_accum: usize,
    /// Peak learning rate, reached after `warmup_steps`.
    pub lr: f64,
    /// Learning rate at the last step (cosine decay).
    pub min_lr: f64,
    pub warmup_steps: u64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// Decoupled weight decay, for parameters the decay predicate selects.
    pub weight_decay: f64,
    /// Clip gradients to this global L2 norm; 0 disables clipping.
    pub max_grad_norm: f64,
    /// Held-out loss every this many steps (and at the last step); 0: only at the last.
    pub eval_every: u64,
    /// Checkpoint every this many steps (and at the last step); 0: only at the last.
    pub save_every: u64,
    /// A metrics line every this many steps (and at eval steps and the last step).
    pub log_every: u64,
    /// Checkpoints kept on disk.
    pub keep_checkpoints: usize,
    /// Seeds the data order (the batch of step s is a function of seed and s).
    pub seed: u64,
    /// Continue from the newest checkpoint in OUT if there is one.
    pub resume: bool,
    /// Show the progress bar on stderr.
    pub progress: bool,
}

impl Default for TrainConfig {
    fn default() -> Self {
        let adamw = AdamWParams::default();
        TrainConfig {
            steps: 1000,
            grad_accum: 1,
            lr: 1e-3,
            min_lr: 1e-4,
            warmup_steps: 100,
            beta1: adamw.beta1,
            beta2: adamw.beta2,
            eps: adamw.eps,
            weight_decay: adamw.weight_decay,
            max_grad_norm: 1.0,
            eval_every: 100,
            save_every: 500,
            log_every: 10,
            keep_checkpoints: 2,
            seed: 0,
            resume: false,
            progress: true,
        }
    }
}

/// Fields that change the trained weights; a resumed run must not change them.
const RESULT_FIELDS: &[&str] = &[
    "steps",
    "grad_accum",
    "lr",
    "min_lr",
    "warmup_steps",
    "beta1",
    "beta2",
    "eps",
    "weight_decay",
    "max_grad_norm",
    "seed",
];

impl TrainConfig {
    pub fn adamw(&self) -> AdamWParams {
        AdamWParams {
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            weight_decay: self.weight_decay,
        }
    }

    pub fn schedule(&self) -> Schedule {
        Schedule {
            lr: self.lr,
            min_lr: self.min_lr,
            warmup_steps: self.warmup_steps,
            steps: self.steps,
        }
    }

    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str| Err(Error::TrainConfig(what.into()));
        if self.steps == 0 {
            return bad("steps must be at least 1");
        }
        if self.grad_accum == 0 {
            return bad("grad_accum must be at least 1");
        }
        let positive = |x: f64| x.is_finite() && x > 0.0;
        if !positive(self.lr) || !(0.0..=self.lr).contains(&self.min_lr) {
            return bad("need 0 < lr and 0 <= min_lr <= lr");
        }
        if !(0.0..1.0).contains(&self.beta1) || !(0.0..1.0).contains(&self.beta2) {
            return bad("beta1 and beta2 must be in [0, 1)");
        }
        let non_negative = |x: f64| (0.0..).contains(&x);
        if !positive(self.eps)
            || !non_negative(self.weight_decay)
            || !non_negative(self.max_grad_norm)
        {
            return bad("need eps > 0, weight_decay >= 0, max_grad_norm >= 0");
        }
        if self.keep_checkpoints == 0 {
            return bad("keep_checkpoints must be at least 1");
        }
        Ok(())
    }

    /// The first field that changes the result and differs from `saved`'s.
    pub fn result_change(&self, saved: &TrainConfig) -> Option<String> {
        let (a, b) = (
            serde_json::to_value(self).expect("config serialises"),
            serde_json::to_value(saved).expect("config serialises"),
        );
        RESULT_FIELDS
            .iter()
            .find(|f| a[**f] != b[**f])
            .map(|f| format!("`{f}` is {} here but {} in the checkpoint", a[*f], b[*f]))
    }
}

/// `trainer_state.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainerState {
    /// Optimizer steps done.
    pub step: u64,
    /// Training tokens seen (as counted by the stage).
    pub tokens: u64,
    /// Wall time spent training, over all sessions, in seconds.
    pub elapsed_s: f64,
    pub last_loss: Option<f32>,
    pub last_eval_loss: Option<f32>,
    pub best_eval_loss: Option<f32>,
    pub best_eval_step: Option<u64>,
    /// Hash of the weights at this step, to check that a resumed run loaded them.
    pub weights_hash: String,
    pub config: TrainConfig,
}

impl TrainerState {
    pub fn new(config: TrainConfig) -> Self {
        TrainerState {
            step: 0,
            tokens: 0,
            elapsed_s: 0.0,
            last_loss: None,
            last_eval_loss: None,
            best_eval_loss: None,
            best_eval_step: None,
            weights_hash: String::new(),
            config,
        }
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).expect("state serialises");
        std::fs::write(path, text).map_err(|e| Error::io(path, e))
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        serde_json::from_str(&text).map_err(|e| Error::checkpoint(path, e.to_string()))
    }
}

/// FNV-1a over each variable's name and exact `f32` bits, in the given order.
pub fn weights_hash<'a>(vars: impl Iterator<Item = (&'a str, &'a Var)>) -> Result<String> {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for (name, var) in vars {
        eat(name.as_bytes());
        for x in var.as_tensor().flatten_all()?.to_vec1::<f32>()? {
            eat(&x.to_bits().to_le_bytes());
        }
    }
    Ok(format!("{h:016x}"))
}
