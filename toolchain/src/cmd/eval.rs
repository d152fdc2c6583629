//! `mote eval`: measure a checkpoint (candle) or a GGUF file (mote-runtime).

use anyhow::{bail, Result};
use clap::Args as ClapArgs;
use mote_toolchain::checkpoint::Checkpoint;
use mote_toolchain::eval::{
    ppl_candle, ppl_runtime, read_docs, token_windows, tokenize_hf, tokenize_runtime,
};
use mote_toolchain::model::Heads;
use std::path::PathBuf;

#[derive(ClapArgs)]
pub struct Args {
    /// A checkpoint directory or a .gguf file.
    model: PathBuf,
    /// Perplexity on this text (.txt documents separated by blank lines, or {"text"} JSONL).
    #[arg(long)]
    ppl: Option<PathBuf>,
    /// Window length (default: the model's context).
    #[arg(long)]
    ctx: Option<usize>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> Result<()> {
    let Some(text) = &a.ppl else {
        bail!("nothing to measure: pass --ppl FILE");
    };
    let docs = read_docs(text)?;
    let p = if a.model.is_dir() {
        let ckpt = Checkpoint::load(&a.model, &candle_core::Device::Cpu)?;
        let Some(json) = &ckpt.tokenizer_json else {
            bail!("{}: no tokenizer.json", a.model.display());
        };
        let tok = tokenizers::Tokenizer::from_bytes(json).map_err(anyhow::Error::msg)?;
        let ctx = a.ctx.unwrap_or(ckpt.config.max_position_embeddings);
        let windows = token_windows(&tokenize_hf(&tok, &docs)?, ctx);
        ppl_candle(&ckpt.model(Heads::LM)?, &windows, 8)?
    } else {
        let file = mote_toolchain::model_file::ModelFile::open(&a.model)?;
        let ctx = a.ctx.unwrap_or(file.model()?.config.ctx_len);
        let windows = token_windows(&tokenize_runtime(&a.model, &docs)?, ctx);
        ppl_runtime(&a.model, &windows)?
    };
    if a.json {
        println!(
            "{}",
            serde_json::json!({"model": a.model, "text": text, "perplexity": p.ppl(), "mean_nll": p.mean_nll(), "tokens": p.tokens})
        );
    } else {
        println!("{}: {p}", a.model.display());
    }
    Ok(())
}
