//! `mote sft`: supervised fine-tuning on ChatML demonstrations.

use super::train_args::TrainArgs;
use anyhow::Result;
use clap::Args as ClapArgs;
use mote_toolchain::recipe::{sft, SftOptions};
use std::path::PathBuf;

#[derive(ClapArgs)]
pub struct Args {
    /// Checkpoint to fine-tune (a pretrained model).
    #[arg(long)]
    model: PathBuf,
    /// Demonstrations: JSONL of {"prompt","completion"} or {"messages":[{"role","content"}]}.
    #[arg(long, required = true, num_args = 1..)]
    data: Vec<PathBuf>,
    /// Output directory: checkpoints, metrics.jsonl and the final model.
    #[arg(long, short = 'o')]
    out: PathBuf,
    /// Tokens per example at most (default: the model's context); longer prompts are cut
    /// from the left.
    #[arg(long)]
    max_len: Option<usize>,
    /// System turn for conversations that have none.
    #[arg(long)]
    system: Option<String>,
    /// Fraction of the examples (the last ones) held out.
    #[arg(long, default_value_t = 0.05)]
    eval_fraction: f64,
    #[command(flatten)]
    train: TrainArgs,
}

pub fn run(a: Args) -> Result<()> {
    let report = sft(&SftOptions {
        model: a.model,
        data: a.data,
        out: a.out.clone(),
        batch_size: a.train.batch_size,
        max_len: a.max_len,
        system: a.system,
        eval_fraction: a.eval_fraction,
        train: a.train.config(),
    })?;
    eprintln!("{report}");
    eprintln!("model -> {}", a.out.display());
    Ok(())
}
