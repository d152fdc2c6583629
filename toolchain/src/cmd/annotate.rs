//! `mote annotate`: the simulated annotator.

use anyhow::Result;
use clap::Args as ClapArgs;
use mote_toolchain::checkpoint::atomic::write_bytes;
use mote_toolchain::world::annotate::{
    agreement, annotate, annotate_with_ties, read_samples, to_jsonl, DEFAULT_NOISE,
};
use std::path::PathBuf;

#[derive(ClapArgs)]
pub struct Args {
    /// Samples: {"prompt", "category", "answer", "aliases", "entity", "completions": [K],
    /// "ended": [K]} per line (K = 2…9; "ended" defaults to all true).
    #[arg(long = "in", short = 'i')]
    input: PathBuf,
    /// Rankings to write: {"prompt", "completions", "ranking": [best … worst]} per line.
    #[arg(long, short = 'o', required_unless_present = "agreement")]
    out: Option<PathBuf>,
    /// Annotator seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Gumbel noise scale over the gold totals (higher: noisier annotator).
    #[arg(long, default_value_t = DEFAULT_NOISE)]
    noise: f32,
    /// Tie completions of equal quality (as `mote label` allows) instead of ordering them
    /// at random; prompts whose completions are all tied are left out.
    #[arg(long)]
    ties: bool,
    /// Also rank with seed + 1 and print how often the two annotators agree on a pair.
    #[arg(long)]
    agreement: bool,
}

pub fn run(a: Args) -> Result<()> {
    anyhow::ensure!(
        a.noise.is_finite() && a.noise >= 0.0,
        "--noise must be a non-negative number"
    );
    let samples = read_samples(&a.input)?;
    if let Some(out) = &a.out {
        let (text, n) = if a.ties {
            let r = annotate_with_ties(&samples, a.seed, a.noise);
            (to_jsonl(&r), r.len())
        } else {
            let r = annotate(&samples, a.seed, a.noise);
            (to_jsonl(&r), r.len())
        };
        write_bytes(out, text.as_bytes())?;
        let left = samples.len() - n;
        let note = if left > 0 {
            format!(" ({left} with all completions equally good left out)")
        } else {
            String::new()
        };
        eprintln!("ranked {n} prompts → {}{note}", out.display());
    }
    if a.agreement {
        let g = agreement(&samples, a.seed, a.seed + 1, a.noise);
        println!(
            "pairwise agreement {:.3} ({} of {} pairs with distinct gold scores; expected {:.3}); \
             agreement with gold {:.3} / {:.3}; over all {} pairs (gold ties included) {:.3}",
            g.rate(),
            g.agree,
            g.pairs,
            g.expected,
            g.gold_a as f64 / g.pairs.max(1) as f64,
            g.gold_b as f64 / g.pairs.max(1) as f64,
            g.pairs_all,
            g.rate_all(),
        );
    }
    Ok(())
}
