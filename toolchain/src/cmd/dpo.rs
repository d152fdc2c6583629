//! `mote dpo`: direct preference optimisation against a frozen copy of the policy.

use super::train_args::TrainArgs;
use anyhow::Result;
use clap::{Args as ClapArgs, ValueEnum};
use mote_toolchain::recipe::{dpo, DpoOptions, DpoPairs};
use std::path::PathBuf;

#[derive(Clone, Copy, ValueEnum)]
enum Pairs {
    /// All C(K, 2) pairs of a ranking.
    All,
    /// The best response against each other one.
    BestVsRest,
}

#[derive(ClapArgs)]
pub struct Args {
    /// SFT checkpoint: the starting policy and the frozen reference.
    #[arg(long)]
    policy: PathBuf,
    /// Preferences, as for `mote rm`. --batch-size counts pairs.
    #[arg(long, required = true, num_args = 1..)]
    data: Vec<PathBuf>,
    /// Output directory: checkpoints, metrics.jsonl and the final policy.
    #[arg(long, short = 'o')]
    out: PathBuf,
    /// Strength of the implicit KL constraint to the reference.
    #[arg(long, default_value_t = 0.1)]
    beta: f64,
    /// Pairs taken from a ranking of K.
    #[arg(long, value_enum, default_value_t = Pairs::All)]
    pairs: Pairs,
    /// Tokens per sequence at most (default: the model's context).
    #[arg(long)]
    max_len: Option<usize>,
    /// System turn for prompts that have none.
    #[arg(long)]
    system: Option<String>,
    /// Fraction of the prompts (the last ones) held out.
    #[arg(long, default_value_t = 0.1)]
    eval_fraction: f64,
    #[command(flatten)]
    train: TrainArgs,
}

pub fn run(a: Args) -> Result<()> {
    let report = dpo(&DpoOptions {
        policy: a.policy,
        data: a.data,
        out: a.out.clone(),
        batch_size: a.train.batch_size,
        max_len: a.max_len,
        system: a.system,
        eval_fraction: a.eval_fraction,
        beta: a.beta,
        pairs: match a.pairs {
            Pairs::All => DpoPairs::All,
            Pairs::BestVsRest => DpoPairs::BestVsRest,
        },
        train: a.train.config(),
    })?;
    eprintln!("{report}");
    eprintln!("policy -> {}", a.out.display());
    Ok(())
}
