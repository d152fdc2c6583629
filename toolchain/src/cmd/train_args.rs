//! Trainer options shared by the training verbs (pretrain, sft, rm, dpo).

use clap::Args as ClapArgs;
use mote_toolchain::train::TrainConfig;

/// Optimisation, evaluation and checkpointing settings.
#[derive(ClapArgs, Clone, Debug)]
pub struct TrainArgs {
    /// Optimizer steps.
    #[arg(long, default_value_t = 1000)]
    pub steps: u64,
    /// Sequences per micro-batch.
    #[arg(long, default_value_t = 8)]
    pub batch_size: usize,
    /// Micro-batches whose gradients are summed into one step.
    #[arg(long, default_value_t = 1)]
    pub grad_accum: usize,
    /// Peak learning rate (after warmup).
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Learning rate at the end of the cosine decay.
    #[arg(long, default_value_t = 1e-4)]
    pub min_lr: f64,
    /// Steps of linear warmup.
    #[arg(long, default_value_t = 100)]
    pub warmup_steps: u64,
    /// AdamW decoupled weight decay (not applied to norms).
    #[arg(long, default_value_t = 0.1)]
    pub weight_decay: f64,
    /// Clip the global gradient norm to this (0 = off).
    #[arg(long, default_value_t = 1.0)]
    pub max_grad_norm: f64,
    /// Held-out loss every N steps.
    #[arg(long, default_value_t = 100)]
    pub eval_every: u64,
    /// Checkpoint every N steps (and at the end).
    #[arg(long, default_value_t = 500)]
    pub save_every: u64,
    /// Metrics line every N steps.
    #[arg(long, default_value_t = 10)]
    pub log_every: u64,
    /// Seed of the data order.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Continue from the last checkpoint in the output directory.
    #[arg(long)]
    pub resume: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

impl TrainArgs {
    pub fn config(&self) -> TrainConfig {
        TrainConfig {
            steps: self.steps,
            grad_accum: self.grad_accum,
            lr: self.lr,
            min_lr: self.min_lr,
            warmup_steps: self.warmup_steps,
            weight_decay: self.weight_decay,
            max_grad_norm: self.max_grad_norm,
            eval_every: self.eval_every,
            save_every: self.save_every,
            log_every: self.log_every,
            seed: self.seed,
            resume: self.resume,
            progress: !self.quiet,
            ..TrainConfig::default()
        }
    }
}
