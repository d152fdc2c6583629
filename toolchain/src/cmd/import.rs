//! `mote import`: other model formats into GGUF.

use anyhow::Result;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum Import {
    /// llama2.c float32 checkpoint (+ tokenizer.bin) → F32 GGUF.
    Llama2c {
        /// llama2.c model file (e.g. stories15M.bin).
        model: PathBuf,
        /// llama2.c tokenizer file (tokenizer.bin).
        #[arg(long)]
        tokenizer: PathBuf,
        /// Output GGUF path.
        #[arg(long, short = 'o')]
        out: PathBuf,
    },
}

pub fn run(i: Import) -> Result<()> {
    match i {
        Import::Llama2c {
            model,
            tokenizer,
            out,
        } => {
            let report = mote_toolchain::import::import_llama2c(&model, &tokenizer, &out)?;
            eprintln!("{report}");
            eprintln!("wrote {}", out.display());
            Ok(())
        }
    }
}
