//! Supervised fine-tuning on ChatML demonstrations: loss on assistant tokens and the
//! `<|im_end|>` that closes each assistant turn.

use std::path::{Path, PathBuf};

use candle_core::Device;

use super::lm::Lm;
use crate::checkpoint::Checkpoint;
use crate::data::{SftConfig, SftData};
use crate::error::Result;
use crate::train::{NextToken, TrainConfig, TrainReport};

/// What `mote sft` needs besides the trainer's settings.
#[derive(Debug, Clone)]
pub struct SftOptions {
    pub model: PathBuf,
    pub data: Vec<PathBuf>,
    pub out: PathBuf,
    pub batch_size: usize,
    /// Tokens per example at most; `None`: the model's context.
    pub max_len: Option<usize>,
    /// System turn for conversations that have none.
    pub system: Option<String>,
    pub eval_fraction: f64,
    pub train: TrainConfig,
}

/// Fine-tune the checkpoint at `o.model` on the demonstrations in `o.data` into `o.out`.
pub fn sft(o: &SftOptions) -> Result<TrainReport> {
    let lm = Lm::new(Checkpoint::load(&o.model, &Device::Cpu)?)?;
    let tok = lm.ckpt.tokenizer(&o.model)?;
    let c = &lm.ckpt.config;
    let cfg = SftConfig {
        max_len: o
            .max_len
            .unwrap_or(c.max_position_embeddings)
            .min(c.max_position_embeddings),
        system: o.system.clone(),
        bos: Some(c.bos_token_id),
        pad: c.eos_token_id,
        eval_fraction: o.eval_fraction,
    };
    let data = SftData::load(&o.data, &tok, &cfg, o.train.seed)?;
    let eval = data.eval_batches(o.batch_size);
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
