//! `mote eval`: measure a checkpoint (candle) or a GGUF file (mote-runtime): perplexity,
//! and the synthetic world's behaviour metrics judged by the gold scorer.

use anyhow::{bail, Result};
use clap::Args as ClapArgs;
use mote_toolchain::checkpoint::Checkpoint;
use mote_toolchain::eval::{eval_world, WorldEvalConfig};
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
    /// Judge sampled responses on a world directory's held-out prompts (`mote data synth`).
    #[arg(long)]
    world: Option<PathBuf>,
    /// With --world: a reference model for KL(model ‖ reference) and the gold win rate.
    #[arg(long)]
    reference: Option<PathBuf>,
    /// With --world: samples per prompt.
    #[arg(long, default_value_t = 8)]
    samples: usize,
    /// With --world: sampling temperature.
    #[arg(long, visible_alias = "temp", default_value_t = 0.7)]
    temperature: f32,
    /// With --world: most tokens per response.
    #[arg(long, default_value_t = 64)]
    max_tokens: usize,
    /// With --world: only the first N prompts of each category.
    #[arg(long)]
    limit: Option<usize>,
    /// With --world: write the report as JSON to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long, short = 's', default_value_t = 0)]
    seed: u64,
    /// Worker threads (default: every core).
    #[arg(long, short = 't')]
    threads: Option<usize>,
    /// Window length (default: the model's context).
    #[arg(long)]
    ctx: Option<usize>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> Result<()> {
    if let Some(world) = &a.world {
        let cfg = WorldEvalConfig {
            samples: a.samples,
            temperature: a.temperature,
            max_tokens: a.max_tokens,
            seed: a.seed,
            threads: a
                .threads
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
            limit: a.limit,
        };
        let report = eval_world(&a.model, world, a.reference.as_deref(), &cfg)?;
        print!("{report}");
        if let Some(out) = &a.out {
            let json = serde_json::to_string_pretty(&report)?;
            mote_toolchain::checkpoint::atomic::write_bytes(out, json.as_bytes())?;
        }
        if a.ppl.is_none() {
            return Ok(());
        }
    }
    let Some(text) = &a.ppl else {
        bail!("nothing to measure: pass --ppl FILE or --world DIR");
    };
    let docs = read_docs(text)?;
    let p = if a.model.is_dir() {
        let ckpt = Checkpoint::load(&a.model, &candle_core::Device::Cpu)?;
        let tok = ckpt.tokenizer(&a.model)?;
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
