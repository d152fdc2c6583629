//! The training machinery every stage shares (pretraining, SFT, reward model, DPO): the
//! loop ([`Trainer`], driven by a [`Stage`]), AdamW, the learning-rate schedule,
//! gradient accumulation and clipping, held-out loss, metrics, progress and atomic,
//! resumable checkpoints (layout in [`checkpoints`]).
//!
//! A resumed run gives the same weights, bit for bit, as one that was never interrupted:
//! the batch of a step depends only on the seed and the step, the optimizer's moments are
//! saved exactly, and every reduction runs in a fixed order.

pub mod checkpoints;
pub mod grads;
pub mod loss;
pub mod metrics;
pub mod next_token;
pub mod optim;
pub mod progress;
pub mod schedule;
pub mod state;
pub mod trainer;

pub use loss::masked_cross_entropy;
pub use next_token::{CausalLm, NextToken, TokenBatches};
pub use optim::{decay_by_default, AdamW, AdamWParams};
pub use schedule::Schedule;
pub use state::{TrainConfig, TrainerState};
pub use trainer::{named_vars, Stage, TrainReport, Trainer};
