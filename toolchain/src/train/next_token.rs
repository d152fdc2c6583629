//! The [`Stage`] of next-token training (pretraining and SFT): any causal language model
//! over any source of token batches, with the masked cross-entropy as the loss.

use std::path::Path;

use candle_core::{Device, Tensor};
use serde_json::{json, Map, Value};

use super::loss::masked_cross_entropy;
use super::trainer::Stage;
use crate::data::{Batch, PretrainData, SftData};
use crate::error::Result;

/// A model that maps token ids (B, T) u32 to next-token logits (B, T, V) f32.
pub trait CausalLm {
    fn logits(&self, input: &Tensor) -> Result<Tensor>;
    /// Writes `config.json`, `model.safetensors` and `tokenizer.json` into `dir`.
    fn save(&self, dir: &Path) -> Result<()>;
}

/// Training batches by (step, micro-batch), and what to log about the data.
pub trait TokenBatches {
    fn batch(&mut self, step: u64, micro: usize, grad_accum: usize, batch_size: usize) -> Batch;
    fn log_fields(&self) -> Map<String, Value> {
        Map::new()
    }
}

impl TokenBatches for PretrainData {
    fn batch(&mut self, step: u64, micro: usize, grad_accum: usize, batch_size: usize) -> Batch {
        PretrainData::batch(self, step, micro, grad_accum, batch_size)
    }
}

impl TokenBatches for SftData {
    fn batch(&mut self, step: u64, micro: usize, grad_accum: usize, batch_size: usize) -> Batch {
        SftData::batch(self, step, micro, grad_accum, batch_size)
    }

    fn log_fields(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("truncated_examples".into(), json!(self.truncated()));
        m
    }
}

pub struct NextToken<D, M> {
    pub data: D,
    pub model: M,
    /// The fixed held-out batches.
    pub eval: Vec<Batch>,
    pub batch_size: usize,
    pub grad_accum: usize,
    pub device: Device,
}

impl<D: TokenBatches, M: CausalLm> NextToken<D, M> {
    fn batch_loss(&self, batch: &Batch) -> Result<Tensor> {
        let (input, target, mask) = batch.tensors(&self.device)?;
        masked_cross_entropy(&self.model.logits(&input)?, &target, &mask)
    }
}

impl<D: TokenBatches, M: CausalLm> Stage for NextToken<D, M> {
    fn loss(&mut self, step: u64, micro: usize) -> Result<(Tensor, usize)> {
        let batch = self
            .data
            .batch(step, micro, self.grad_accum, self.batch_size);
        Ok((self.batch_loss(&batch)?, batch.tokens()))
    }

    /// Mean over every held-out target token (batches weighted by their tokens).
    fn eval_loss(&mut self) -> Result<Option<f32>> {
        let (mut sum, mut tokens) = (0f64, 0usize);
        for b in &self.eval {
            let n = b.tokens();
            if n > 0 {
                sum += self.batch_loss(b)?.to_scalar::<f32>()? as f64 * n as f64;
                tokens += n;
            }
        }
        Ok((tokens > 0).then(|| (sum / tokens as f64) as f32))
    }

    fn save_model(&mut self, dir: &Path) -> Result<()> {
        self.model.save(dir)
    }

    fn log_fields(&mut self) -> Map<String, Value> {
        self.data.log_fields()
    }
}
