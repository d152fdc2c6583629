//! `mote init`: a randomly initialised checkpoint from a model config and a tokenizer.

use anyhow::{Context, Result};
use clap::Args as ClapArgs;
use mote_toolchain::init_random::ModelConfig;
use mote_toolchain::model::LlamaConfig;
use mote_toolchain::recipe::init_checkpoint;
use std::path::PathBuf;

#[derive(ClapArgs)]
pub struct Args {
    /// Model config (models/configs/*.toml). Its vocab is replaced by the tokenizer's.
    #[arg(long)]
    config: PathBuf,
    /// Tokenizer directory (from `mote tokenizer train`) or tokenizer.json file.
    #[arg(long)]
    tokenizer: PathBuf,
    /// Output checkpoint directory (Hugging Face layout).
    #[arg(long, short = 'o')]
    out: PathBuf,
    /// Seed of the initial weights.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

pub fn run(a: Args) -> Result<()> {
    let mc = ModelConfig::load(&a.config)?;
    let tok_path = if a.tokenizer.is_dir() {
        a.tokenizer.join("tokenizer.json")
    } else {
        a.tokenizer.clone()
    };
    let json = std::fs::read(&tok_path).with_context(|| format!("{}", tok_path.display()))?;
    let ckpt = init_checkpoint(&LlamaConfig::from_model_config(&mc), json, a.seed)?;
    if ckpt.config.vocab_size != mc.vocab {
        eprintln!(
            "note: vocab {} from the tokenizer (the config says {})",
            ckpt.config.vocab_size, mc.vocab
        );
    }
    ckpt.save(&a.out)?;
    eprintln!(
        "{}: {:.2} M weights -> {}",
        mc.name,
        ckpt.config.n_params() as f64 / 1e6,
        a.out.display()
    );
    Ok(())
}
