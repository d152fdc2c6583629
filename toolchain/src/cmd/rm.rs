//! `mote rm`: a reward model from pairs or K-wise rankings.

use super::train_args::TrainArgs;
use anyhow::Result;
use clap::{Args as ClapArgs, ValueEnum};
use mote_toolchain::recipe::{train_reward_model, NormSource, RmOptions};
use mote_toolchain::sample::SampleConfig;
use std::path::PathBuf;

#[derive(Clone, Copy, ValueEnum)]
enum Norm {
    /// Responses sampled from the base (SFT) model.
    Samples,
    /// The responses of the training preferences.
    Data,
}

#[derive(ClapArgs)]
pub struct Args {
    /// SFT checkpoint to start from (gets a scalar reward head).
    #[arg(long)]
    base: PathBuf,
    /// Preferences: JSONL of {"prompt","chosen","rejected"}, {"chosen","rejected"}
    /// transcripts, or {"prompt","completions","ranking"}. --batch-size counts prompts.
    #[arg(long, required = true, num_args = 1..)]
    data: Vec<PathBuf>,
    /// Output directory: checkpoints, metrics.jsonl and the final reward model.
    #[arg(long, short = 'o')]
    out: PathBuf,
    /// Tokens per response sequence at most (default: the model's context).
    #[arg(long)]
    max_len: Option<usize>,
    /// System turn for prompts that have none.
    #[arg(long)]
    system: Option<String>,
    /// Fraction of the prompts (the last ones) held out for pairwise accuracy.
    #[arg(long, default_value_t = 0.1)]
    eval_fraction: f64,
    /// What the reward is normalised over (mean 0, std 1).
    #[arg(long, value_enum, default_value_t = Norm::Samples)]
    norm: Norm,
    /// Prompts to sample one response each for the normalisation.
    #[arg(long, default_value_t = 256)]
    norm_prompts: usize,
    /// Most tokens per normalisation sample.
    #[arg(long, default_value_t = 64)]
    norm_max_tokens: usize,
    /// Sampling threads (default: every core).
    #[arg(long)]
    threads: Option<usize>,
    #[command(flatten)]
    train: TrainArgs,
}

pub fn run(a: Args) -> Result<()> {
    let norm = match a.norm {
        Norm::Data => NormSource::Data,
        Norm::Samples => NormSource::Samples {
            prompts: a.norm_prompts,
            sample: SampleConfig {
                temperature: 1.0,
                max_tokens: a.norm_max_tokens,
                seed: a.train.seed,
            },
            threads: a
                .threads
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        },
    };
    let report = train_reward_model(&RmOptions {
        base: a.base,
        data: a.data,
        out: a.out.clone(),
        batch_size: a.train.batch_size,
        max_len: a.max_len,
        system: a.system,
        eval_fraction: a.eval_fraction,
        norm,
        train: a.train.config(),
    })?;
    eprintln!("{report}");
    eprintln!("reward model -> {}", a.out.display());
    Ok(())
}
