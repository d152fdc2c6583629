//! Data loaders for training: JSONL records with errors naming file, line and field
//! ([`jsonl`]), packed pretraining text ([`pretrain`]), ChatML demonstrations with an
//! assistant-only loss mask ([`sft`]), preferences for the reward model and DPO
//! ([`preferences`]), and the deterministic order batches are drawn in
//! ([`sampler`]).

pub mod batch;
pub mod jsonl;
pub mod preferences;
pub mod pretrain;
pub mod sampler;
pub mod sft;

pub use batch::Batch;
pub use jsonl::{for_each_record, read_records, Record};
pub use preferences::{read_preference_files, read_preferences, Preference};
pub use pretrain::{PretrainConfig, PretrainData};
pub use sampler::{Rng, Sampler};
pub use sft::{SftConfig, SftData};
