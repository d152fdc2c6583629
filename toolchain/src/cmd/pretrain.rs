//! `mote pretrain`: next-token training on plain text or `{"text"}` JSONL.

use super::train_args::TrainArgs;
use anyhow::Result;
use clap::Args as ClapArgs;
use mote_toolchain::recipe::{pretrain, PretrainOptions};
use std::path::PathBuf;

#[derive(ClapArgs)]
pub struct Args {
    /// Checkpoint to start from (from `mote init` or an earlier run).
    #[arg(long)]
    model: PathBuf,
    /// Training text: .txt (documents separated by blank lines) or .jsonl ({"text"}).
    #[arg(long, required = true, num_args = 1..)]
    data: Vec<PathBuf>,
    /// Output directory: checkpoints, metrics.jsonl and the final model.
    #[arg(long, short = 'o')]
    out: PathBuf,
    /// Tokens per training row (default: the model's context).
    #[arg(long)]
    seq_len: Option<usize>,
    /// Fraction of the documents (the last ones) held out.
    #[arg(long, default_value_t = 0.02)]
    eval_fraction: f64,
    /// Held-out batches per evaluation.
    #[arg(long, default_value_t = 8)]
    eval_batches: usize,
    #[command(flatten)]
    train: TrainArgs,
}

pub fn run(a: Args) -> Result<()> {
    let report = pretrain(&PretrainOptions {
        model: a.model,
        data: a.data,
        out: a.out.clone(),
        batch_size: a.train.batch_size,
        seq_len: a.seq_len,
        eval_fraction: a.eval_fraction,
        eval_batches: a.eval_batches,
        train: a.train.config(),
    })?;
    eprintln!("{report}");
    eprintln!("model -> {}", a.out.display());
    Ok(())
}
