//! Scores of (prompt, response) pairs: the reward model, or any function for tests.

use candle_core::Tensor;
use tokenizers::Tokenizer;

use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};
use crate::model::{Heads, Llama};
use crate::sample::{Completion, Prompt};

/// What PPO maximises: one score per response.
pub trait Scorer {
    fn score(&self, prompts: &[&Prompt], responses: &[&Completion]) -> Result<Vec<f32>>;
}

impl<F> Scorer for F
where
    F: Fn(&[&Prompt], &[&Completion]) -> Result<Vec<f32>>,
{
    fn score(&self, prompts: &[&Prompt], responses: &[&Completion]) -> Result<Vec<f32>> {
        self(prompts, responses)
    }
}

/// A frozen reward model: llama + `score.weight`, its normalisation from the config.
pub struct RewardModel {
    model: Llama,
    tokenizer: Tokenizer,
    bos: u32,
    gain: f64,
    bias: f64,
}

impl RewardModel {
    pub fn new(ckpt: &Checkpoint, tokenizer: Tokenizer) -> Result<Self> {
        let norm = ckpt.config.reward_normalization;
        Ok(RewardModel {
            model: ckpt.model(Heads::REWARD)?,
            tokenizer,
            bos: ckpt.config.bos_token_id,
            gain: norm.map_or(1.0, |n| n.gain),
            bias: norm.map_or(0.0, |n| n.bias),
        })
    }

    /// Normalised rewards of ChatML conversations, each read at its last token.
    pub fn score_texts(&self, texts: &[String]) -> Result<Vec<f32>> {
        let ctx = self.model.config().max_position_embeddings;
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(16) {
            let mut rows = Vec::with_capacity(chunk.len());
            for text in chunk {
                let enc = self
                    .tokenizer
                    .encode(text.as_str(), false)
                    .map_err(|e| Error::Tokenizer(e.to_string()))?;
                let mut ids = vec![self.bos];
                ids.extend_from_slice(enc.get_ids());
                // Too long: keep the end, where the reward is read.
                let cut = ids.len().saturating_sub(ctx);
                rows.push(ids.split_off(cut));
            }
            let width = rows.iter().map(Vec::len).max().unwrap_or(1);
            let last: Vec<u32> = rows.iter().map(|r| r.len() as u32 - 1).collect();
            let flat: Vec<u32> = rows
                .iter()
                .flat_map(|r| r.iter().copied().chain(std::iter::repeat(0)).take(width))
                .collect();
            let ids = Tensor::from_vec(flat, (rows.len(), width), &candle_core::Device::Cpu)?;
            let raw = self
                .model
                .rewards(&self.model.hidden(&ids)?, &last)?
                .to_vec1::<f32>()?;
            out.extend(
                raw.into_iter()
                    .map(|r| (self.gain * r as f64 + self.bias) as f32),
            );
        }
        Ok(out)
    }
}

impl Scorer for RewardModel {
    /// The conversation is the prompt's ChatML, the response and `<|im_end|>` (also for a
    /// response that did not end; the missing end is penalised separately).
    fn score(&self, prompts: &[&Prompt], responses: &[&Completion]) -> Result<Vec<f32>> {
        let texts: Vec<String> = prompts
            .iter()
            .zip(responses)
            .map(|(p, c)| format!("{}{}<|im_end|>\n", p.chatml, c.text))
            .collect();
        self.score_texts(&texts)
    }
}
