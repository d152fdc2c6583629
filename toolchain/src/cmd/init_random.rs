//! `mote init-random`: a llama model with random weights, of any size, for benchmarks and
//! tests.

use anyhow::Result;
use clap::{Args as ClapArgs, ValueEnum};
use mote_toolchain::init_random::{init_random, ModelConfig};
use mote_toolchain::quantize::Quant;
use std::path::PathBuf;

#[derive(ClapArgs)]
pub struct Args {
    /// Model config: a TOML file with a [model] table (e.g. models/configs/stories15m.toml).
    #[arg(long)]
    config: PathBuf,
    /// Type of the 2-D weights; norms stay f32, and a matrix whose rows are not whole
    /// 32-value blocks is stored as f16 (as llama-quantize does).
    #[arg(long, value_enum)]
    quant: QuantArg,
    /// Output GGUF path.
    #[arg(long, short = 'o')]
    out: PathBuf,
    /// Seed of the weights: the same config, type and seed give the same file.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

#[derive(Clone, Copy, ValueEnum)]
enum QuantArg {
    #[value(name = "f32")]
    F32,
    #[value(name = "f16")]
    F16,
    #[value(name = "q8_0")]
    Q8_0,
    #[value(name = "q4_0")]
    Q4_0,
}

impl From<QuantArg> for Quant {
    fn from(q: QuantArg) -> Self {
        match q {
            QuantArg::F32 => Quant::F32,
            QuantArg::F16 => Quant::F16,
            QuantArg::Q8_0 => Quant::Q8_0,
            QuantArg::Q4_0 => Quant::Q4_0,
        }
    }
}

pub fn run(a: Args) -> Result<()> {
    let config = ModelConfig::load(&a.config)?;
    let report = init_random(&config, a.quant.into(), a.seed, &a.out)?;
    eprintln!("{report}");
    Ok(())
}
