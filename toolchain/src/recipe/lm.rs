//! A checkpoint's language model as the trainer sees it.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use tokenizers::Tokenizer;

use crate::checkpoint::{self, Checkpoint};
use crate::error::{Error, Result};
use crate::model::{init_weights, Heads, Llama, LlamaConfig};
use crate::train::{
    decay_by_default, named_vars, CausalLm, Stage, TrainConfig, TrainReport, Trainer,
};

/// A checkpoint with its model built: what pretraining and SFT train.
pub struct Lm {
    pub ckpt: Checkpoint,
    pub model: Llama,
}

impl Lm {
    /// Build the LM of a loaded checkpoint.
    pub fn new(ckpt: Checkpoint) -> Result<Self> {
        let model = ckpt.model(Heads::LM)?;
        Ok(Lm { ckpt, model })
    }

    /// Train with `stage_of(self)` as the stage, into `out`, resuming if asked: the trainer
    /// restores its state and this model's weights from the last checkpoint.
    pub fn train<S: Stage>(
        out: &Path,
        config: TrainConfig,
        mut lm: Lm,
        stage_of: impl FnOnce(Lm) -> S,
    ) -> Result<TrainReport> {
        let vars = named_vars(&lm.ckpt.weights);
        let mut trainer = Trainer::new(out, config, vars, decay_by_default)?;
        if let Some(dir) = trainer.resumed_from() {
            let w = dir.join(checkpoint::WEIGHTS_FILE);
            lm.ckpt
                .weights
                .load(&w)
                .map_err(|e| Error::checkpoint(&w, e.to_string()))?;
        }
        let mut stage = stage_of(lm);
        trainer.run(&mut stage)
    }
}

impl CausalLm for Lm {
    fn logits(&self, input: &Tensor) -> Result<Tensor> {
        Ok(self.model.forward(input)?)
    }

    fn save(&self, dir: &Path) -> Result<()> {
        self.ckpt.save(dir)
    }
}

/// A new checkpoint: `config`'s geometry with the tokenizer's vocabulary, random weights
/// from `seed`. Returns it unsaved.
pub fn init_checkpoint(
    config: &LlamaConfig,
    tokenizer_json: Vec<u8>,
    seed: u64,
) -> Result<Checkpoint> {
    let tok =
        Tokenizer::from_bytes(&tokenizer_json).map_err(|e| Error::Tokenizer(e.to_string()))?;
    let mut config = config.clone();
    config.vocab_size = tok.get_vocab_size(true);
    let id = |t: &str| {
        tok.token_to_id(t)
            .ok_or_else(|| Error::Tokenizer(format!("the tokenizer has no {t}")))
    };
    config.bos_token_id = id("<s>")?;
    config.eos_token_id = id("</s>")?;
    config
        .validate()
        .map_err(|w| Error::TrainConfig(format!("model config: {w}")))?;
    let weights = init_weights(&config, Heads::LM, seed, &Device::Cpu)?;
    // Build once so that a config the model cannot run fails here, not in training.
    Llama::new(
        &config,
        Heads::LM,
        VarBuilder::from_varmap(&weights, DType::F32, &Device::Cpu),
    )?;
    Ok(Checkpoint {
        config,
        weights,
        tokenizer_json: Some(tokenizer_json),
    })
}
