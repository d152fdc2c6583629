//! `mote data`: built-in data sets.

use anyhow::Result;
use clap::{Subcommand, ValueEnum};
use mote_toolchain::world::{synth, Scale};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum Data {
    /// Write the synthetic assistant world: pretraining corpus, SFT demonstrations, PPO
    /// prompts, held-out evaluation prompts and a sample file for the annotator, with a
    /// README.md describing them.
    Synth {
        /// Output directory (created if needed).
        #[arg(long, short = 'o')]
        out: PathBuf,
        /// Seed: the same seed gives byte-identical files.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// `small` for tests (~100 KB corpus), `default` for a ~20-minute recipe (~2 MB).
        #[arg(long, value_enum, default_value_t = ScaleArg::Default)]
        scale: ScaleArg,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ScaleArg {
    Small,
    Default,
}

pub fn run(d: Data) -> Result<()> {
    match d {
        Data::Synth { out, seed, scale } => {
            let scale = match scale {
                ScaleArg::Small => Scale::Small,
                ScaleArg::Default => Scale::Default,
            };
            eprint!("{}", synth(&out, seed, scale)?);
            Ok(())
        }
    }
}
