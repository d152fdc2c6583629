//! `mote export`: checkpoint → GGUF, with a quality report.

use anyhow::Result;
use clap::{Args as ClapArgs, ValueEnum};
use mote_toolchain::checkpoint::Checkpoint;
use mote_toolchain::export::{checkpoint_vocab, export_gguf, quality_report};
use mote_toolchain::quantize::Quant;
use std::path::PathBuf;

#[derive(Clone, Copy, ValueEnum)]
pub enum QuantArg {
    F32,
    F16,
    #[value(name = "q8_0")]
    Q8_0,
    #[value(name = "q4_0")]
    Q4_0,
}

impl QuantArg {
    pub fn quant(self) -> Quant {
        match self {
            QuantArg::F32 => Quant::F32,
            QuantArg::F16 => Quant::F16,
            QuantArg::Q8_0 => Quant::Q8_0,
            QuantArg::Q4_0 => Quant::Q4_0,
        }
    }
}

#[derive(ClapArgs)]
pub struct Args {
    /// Checkpoint directory.
    ckpt: PathBuf,
    /// Weight type of the 2-D tensors (norms stay f32).
    #[arg(long, value_enum, default_value_t = QuantArg::Q8_0)]
    quant: QuantArg,
    /// Output GGUF file.
    #[arg(long, short = 'o')]
    out: PathBuf,
    /// Held-out text for the quality report (perplexity of f32, q8_0 and q4_0 files through
    /// mote-runtime); without it no report is made.
    #[arg(long)]
    ppl: Option<PathBuf>,
    /// Window length of the report's perplexity (default: the model's context).
    #[arg(long)]
    ctx: Option<usize>,
}

pub fn run(a: Args) -> Result<()> {
    let ckpt = Checkpoint::load(&a.ckpt, &candle_core::Device::Cpu)?;
    let vocab = checkpoint_vocab(&ckpt, &a.ckpt)?;
    let q = a.quant.quant();
    let bytes = export_gguf(&ckpt, &vocab, q, &a.out)?;
    eprintln!(
        "{} -> {} ({q}, {:.2} MiB)",
        a.ckpt.display(),
        a.out.display(),
        bytes as f64 / 1048576.0
    );
    match &a.ppl {
        Some(text) => {
            let dir = tempfile::tempdir()?;
            let ctx = a.ctx.unwrap_or(ckpt.config.max_position_embeddings);
            let report = quality_report(&ckpt, &vocab, text, ctx, dir.path(), Some((q, &a.out)))?;
            print!("{report}");
        }
        None => eprintln!("no quality report: pass --ppl HELD_OUT_TEXT to measure one"),
    }
    Ok(())
}
