//! The loop every training stage shares: micro-batches → accumulated gradients → clip →
//! AdamW, with held-out loss, metrics, progress and atomic checkpoints.
//!
//! ```ignore
//! let mut trainer = Trainer::new(&out, config, named_vars(&varmap), decay_by_default)?;
//! if let Some(dir) = trainer.resumed_from() {
//!     varmap.load(dir.join("model.safetensors"))?; // the model side's weights
//! }
//! let report = trainer.run(&mut stage)?;
//! ```

use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{Tensor, Var};
use candle_nn::VarMap;
use serde_json::{json, Map, Value};

use super::checkpoints::{self, OPTIMIZER_FILE, STATE_FILE};
use super::grads::Grads;
use super::metrics::MetricsLog;
use super::optim::AdamW;
use super::progress::Progress;
use super::state::{weights_hash, TrainConfig, TrainerState};
use crate::error::{Error, Result};

/// What a training stage supplies to the shared loop.
pub trait Stage {
    /// The loss of micro-batch `micro` (`0..grad_accum`) of step `step` (1-based): a scalar
    /// tensor that backpropagates to the trainable variables, and the number of tokens it
    /// trained on. Its batch must depend only on the seed, `step` and `micro`, so a resumed
    /// run sees the same data.
    fn loss(&mut self, step: u64, micro: usize) -> Result<(Tensor, usize)>;

    /// The mean loss over a fixed set of held-out batches; `None` without a held-out set.
    fn eval_loss(&mut self) -> Result<Option<f32>>;

    /// Writes the model files (`config.json`, `model.safetensors`, `tokenizer.json`) into
    /// `dir`, an existing empty directory.
    fn save_model(&mut self, dir: &Path) -> Result<()>;

    /// Extra fields for the metrics line of the step just done (e.g. truncated examples).
    fn log_fields(&mut self) -> Map<String, Value> {
        Map::new()
    }
}

/// The trainable variables of a `VarMap`, sorted by name.
pub fn named_vars(varmap: &VarMap) -> Vec<(String, Var)> {
    let data = varmap.data().lock().expect("VarMap lock is not poisoned");
    let mut vars: Vec<_> = data.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars
}

/// The outcome of [`Trainer::run`].
#[derive(Clone, Debug)]
pub struct TrainReport {
    pub steps: u64,
    pub tokens: u64,
    pub last_loss: Option<f32>,
    pub last_eval_loss: Option<f32>,
    pub best_eval_loss: Option<f32>,
    /// The final checkpoint.
    pub checkpoint: PathBuf,
}

impl std::fmt::Display for TrainReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let opt = |x: Option<f32>| x.map_or("-".to_string(), |v| format!("{v:.4}"));
        write!(
            f,
            "{} steps, {} tokens: loss {}, held-out loss {} (best {})",
            self.steps,
            self.tokens,
            opt(self.last_loss),
            opt(self.last_eval_loss),
            opt(self.best_eval_loss)
        )
    }
}

pub struct Trainer {
    out: PathBuf,
    config: TrainConfig,
    opt: AdamW,
    state: TrainerState,
    resumed_from: Option<PathBuf>,
}

impl Trainer {
    /// Prepares a run writing into `out` (created if needed). With `config.resume` and a
    /// checkpoint in `out`, restores the optimizer and loop state from it; the caller then
    /// loads the weights from [`Trainer::resumed_from`]. Without `resume`, an `out` that
    /// already holds checkpoints is an error rather than something to overwrite.
    pub fn new(
        out: &Path,
        config: TrainConfig,
        vars: Vec<(String, Var)>,
        decay: impl Fn(&str) -> bool,
    ) -> Result<Self> {
        config.validate()?;
        std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
        checkpoints::remove_leftovers(out)?;
        let mut opt = AdamW::new(vars, config.adamw(), decay)?;
        let found = checkpoints::latest(out)?;
        let mut state = TrainerState::new(config.clone());
        let mut resumed_from = None;
        match found {
            Some(dir) if config.resume => {
                let saved = TrainerState::load(&dir.join(STATE_FILE))?;
                if let Some(change) = config.result_change(&saved.config) {
                    return Err(Error::TrainConfig(format!(
                        "cannot resume from {}: {change}",
                        dir.display()
                    )));
                }
                opt.load(&dir.join(OPTIMIZER_FILE))?;
                if opt.updates() != saved.step {
                    return Err(Error::checkpoint(
                        &dir,
                        format!(
                            "optimizer has {} updates, state says step {}",
                            opt.updates(),
                            saved.step
                        ),
                    ));
                }
                state = TrainerState {
                    config: config.clone(),
                    ..saved
                };
                resumed_from = Some(dir);
            }
            Some(dir) => {
                return Err(Error::TrainConfig(format!(
                    "{} already holds {}; resume it or choose another output directory",
                    out.display(),
                    dir.display()
                )))
            }
            None => {}
        }
        Ok(Trainer {
            out: out.to_path_buf(),
            config,
            opt,
            state,
            resumed_from,
        })
    }

    /// The checkpoint this run continues from; load its weights before [`Trainer::run`].
    pub fn resumed_from(&self) -> Option<&Path> {
        self.resumed_from.as_deref()
    }

    pub fn state(&self) -> &TrainerState {
        &self.state
    }

    fn weights_hash(&self) -> Result<String> {
        weights_hash(self.opt.names().zip(self.opt.vars()))
    }

    /// Trains up to `config.steps`, then writes the final model files into `out`.
    pub fn run(&mut self, stage: &mut impl Stage) -> Result<TrainReport> {
        let metrics_path = self.out.join("metrics.jsonl");
        let mut metrics = match &self.resumed_from {
            Some(dir) => {
                if self.weights_hash()? != self.state.weights_hash {
                    return Err(Error::checkpoint(
                        dir,
                        "the trainable variables do not hold this checkpoint's weights; \
                         load its model.safetensors before running",
                    ));
                }
                MetricsLog::resume(&metrics_path, self.state.step)?
            }
            None => MetricsLog::create(&metrics_path)?,
        };
        let c = self.config.clone();
        let schedule = c.schedule();
        let progress = Progress::new(self.state.step, c.steps, c.progress);
        if let Some(dir) = &self.resumed_from {
            progress.note(&format!(
                "resuming at step {} from {}",
                self.state.step,
                dir.display()
            ));
        }
        let started = Instant::now();
        let elapsed_before = self.state.elapsed_s;
        let mut session_tokens = 0u64;
        let due =
            |step: u64, every: u64| step == c.steps || (every > 0 && step.is_multiple_of(every));
        let scale = 1.0 / c.grad_accum as f32;

        for step in self.state.step + 1..=c.steps {
            let lr = schedule.lr(step);
            let mut grads = Grads::new(self.opt.vars().count());
            let (mut loss_sum, mut tokens) = (0f64, 0u64);
            for micro in 0..c.grad_accum {
                let (loss, n) = stage.loss(step, micro)?;
                let value = loss.to_scalar::<f32>()?;
                if !value.is_finite() {
                    return Err(self.non_finite(step, "loss", value as f64));
                }
                grads.accumulate(self.opt.vars(), &loss.backward()?, scale)?;
                loss_sum += value as f64;
                tokens += n as u64;
            }
            let loss = (loss_sum / c.grad_accum as f64) as f32;
            let grad_norm = grads.norm();
            if !grad_norm.is_finite() {
                return Err(self.non_finite(step, "gradient norm", grad_norm));
            }
            grads.clip(grad_norm, c.max_grad_norm);
            self.opt.step(grads.slots(), lr)?;
            drop(grads);

            self.state.step = step;
            self.state.tokens += tokens;
            self.state.last_loss = Some(loss);
            session_tokens += tokens;

            let eval_loss = if due(step, c.eval_every) {
                stage.eval_loss()?
            } else {
                None
            };
            if let Some(e) = eval_loss {
                if !e.is_finite() {
                    return Err(self.non_finite(step, "held-out loss", e as f64));
                }
                self.state.last_eval_loss = Some(e);
                if self.state.best_eval_loss.is_none_or(|b| e < b) {
                    self.state.best_eval_loss = Some(e);
                    self.state.best_eval_step = Some(step);
                }
            }

            let session = started.elapsed().as_secs_f64();
            self.state.elapsed_s = elapsed_before + session;
            let tokens_per_s = session_tokens as f64 / session.max(1e-9);
            if due(step, c.log_every) || eval_loss.is_some() {
                let mut rec = json!({
                    "step": step,
                    "loss": loss,
                    "lr": lr,
                    "grad_norm": grad_norm,
                    "tokens": self.state.tokens,
                    "tokens_per_s": tokens_per_s,
                    "elapsed": self.state.elapsed_s,
                });
                let rec = rec.as_object_mut().expect("an object");
                if let Some(e) = eval_loss {
                    rec.insert("eval_loss".into(), json!(e));
                }
                rec.extend(stage.log_fields());
                metrics.write(rec)?;
            }
            progress.update(step, loss, tokens_per_s, self.state.last_eval_loss);

            if due(step, c.save_every) {
                let dir = self.save_checkpoint(stage)?;
                progress.note(&format!("saved {}", dir.display()));
            }
        }

        // The last step always checkpoints (`due`), so the final state is on disk here.
        checkpoints::publish(&self.out, |dir| stage.save_model(dir))?;
        progress.finish();
        let checkpoint = checkpoints::latest(&self.out)?
            .ok_or_else(|| Error::checkpoint(&self.out, "no checkpoint after training"))?;
        Ok(TrainReport {
            steps: self.state.step,
            tokens: self.state.tokens,
            last_loss: self.state.last_loss,
            last_eval_loss: self.state.last_eval_loss,
            best_eval_loss: self.state.best_eval_loss,
            checkpoint,
        })
    }

    fn save_checkpoint(&mut self, stage: &mut impl Stage) -> Result<PathBuf> {
        self.state.weights_hash = self.weights_hash()?;
        let (opt, state) = (&self.opt, &self.state);
        let dir = checkpoints::commit(&self.out, state.step, |dir| {
            stage.save_model(dir)?;
            opt.save(&dir.join(OPTIMIZER_FILE))?;
            state.save(&dir.join(STATE_FILE))
        })?;
        checkpoints::prune(&self.out, self.config.keep_checkpoints)?;
        Ok(dir)
    }

    fn non_finite(&self, step: u64, what: &'static str, value: f64) -> Error {
        Error::NonFinite {
            step,
            what,
            value,
            checkpoint: checkpoints::latest(&self.out).ok().flatten(),
        }
    }
}
