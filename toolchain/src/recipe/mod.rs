//! The training stages of the recipe: pretraining, supervised fine-tuning, the reward
//! model and DPO, over checkpoints (`crate::checkpoint`) with the shared trainer.

pub mod dpo;
pub mod lm;
pub mod pretrain;
pub mod reward;
pub mod sft;

pub use dpo::{dpo, DpoOptions, DpoPairs, DpoReport, DpoRun};
pub use lm::{init_checkpoint, Lm};
pub use pretrain::{pretrain, PretrainOptions};
pub use reward::{train_reward_model, NormSource, RmOptions, RmReport, RmRun};
pub use sft::{sft, SftOptions};
