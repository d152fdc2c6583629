//! The stages of the recipe that train a language model: pretraining and supervised
//! fine-tuning, over checkpoints (`crate::checkpoint`) with the shared trainer.

pub mod lm;
pub mod pretrain;
pub mod sft;

pub use lm::{init_checkpoint, Lm};
pub use pretrain::{pretrain, PretrainOptions};
pub use sft::{sft, SftOptions};
