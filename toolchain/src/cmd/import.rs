//! `mote import`: other model formats into GGUF files or checkpoints.

use anyhow::Result;
use candle_core::Device;
use clap::Subcommand;
use mote_toolchain::checkpoint::Checkpoint;
use mote_toolchain::gguf::llama::SpmVocab;
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
    /// GGUF llama model → trainable checkpoint (weights dequantized to f32, tokenizer.json
    /// made from the file's vocabulary).
    Gguf {
        /// GGUF model file.
        model: PathBuf,
        /// Output checkpoint directory.
        #[arg(long, short = 'o')]
        out: PathBuf,
    },
    /// Hugging Face llama directory (config.json, model.safetensors, tokenizer.json; any
    /// float dtype) → checkpoint (f32, checked).
    Hf {
        /// Directory to read.
        dir: PathBuf,
        /// Output checkpoint directory.
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
        Import::Gguf { model, out } => {
            let mut ckpt = mote_toolchain::import::gguf::import_gguf(&model, &Device::Cpu)?;
            let file = mote_toolchain::model_file::ModelFile::open(&model)?;
            let vocab = SpmVocab::from_gguf(&file.gguf()?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", model.display()))?;
            let tok = mote_toolchain::tokenizer::hf_tokenizer(&vocab)?;
            ckpt.tokenizer_json = Some(
                tok.to_string(true)
                    .map_err(anyhow::Error::msg)?
                    .into_bytes(),
            );
            ckpt.save(&out)?;
            eprintln!("{} -> {}", model.display(), out.display());
            Ok(())
        }
        Import::Hf { dir, out } => {
            let ckpt = Checkpoint::load(&dir, &Device::Cpu)?;
            ckpt.save(&out)?;
            eprintln!("{} -> {}", dir.display(), out.display());
            Ok(())
        }
    }
}
