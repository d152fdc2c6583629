//! Next-token pretraining on plain text or `{"text"}` JSONL.

use std::path::{Path, PathBuf};

use candle_core::Device;

use super::lm::Lm;
use crate::checkpoint::Checkpoint;
use crate::data::{PretrainConfig, PretrainData};
use crate::error::Result;
use crate::train::{NextToken, TrainConfig, TrainReport};

/// What `mote pretrain` needs besides the trainer's settings.
#[derive(Debug, Clone)]
pub struct PretrainOptions {
    pub model: PathBuf,
    pub data: Vec<PathBuf>,
    pub out: PathBuf,
    pub batch_size: usize,
    /// Tokens per row; `None`: the model's context.
    pub seq_len: Option<usize>,
    pub eval_fraction: f64,
    /// Held-out batches scored at each evaluation.
    pub eval_batches: usize,
    pub train: TrainConfig,
}

/// Pretrain the checkpoint at `o.model` on `o.data` into `o.out`.
pub fn pretrain(o: &PretrainOptions) -> Result<TrainReport> {
    let lm = Lm::new(Checkpoint::load(&o.model, &Device::Cpu)?)?;
    let tok = lm.ckpt.tokenizer(&o.model)?;
    let c = &lm.ckpt.config;
    let cfg = PretrainConfig {
        seq_len: o
            .seq_len
            .unwrap_or(c.max_position_embeddings)
            .min(c.max_position_embeddings),
        eval_fraction: o.eval_fraction,
        bos: Some(c.bos_token_id),
        eos: Some(c.eos_token_id),
    };
    let data = PretrainData::load(&o.data, &tok, &cfg, o.train.seed)?;
    let eval = data.eval_batches(o.batch_size, o.eval_batches);
    let (batch_size, grad_accum) = (o.batch_size, o.train.grad_accum);
    Lm::train(Path::new(&o.out), o.train.clone(), lm, |model| NextToken {
        data,
        model,
        eval,
        batch_size,
        grad_accum,
        device: Device::Cpu,
    })
}
