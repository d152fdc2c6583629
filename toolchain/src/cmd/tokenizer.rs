//! `mote tokenizer`: train the BPE vocabulary shared by training, mote-runtime and llama.cpp.

use anyhow::Result;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum Tokenizer {
    /// Train a BPE with byte fallback → DIR/tokenizer.json (Hugging Face), tokenizer_config.json,
    /// vocab.json and vocab.gguf (the vocabulary for GGUF files, loadable by llama.cpp).
    Train {
        /// Training text: .txt (one text per line) or .jsonl ({"text"}, {"prompt","completion"}
        /// or {"messages"} lines).
        #[arg(long, short = 'i', required = true, num_args = 1..)]
        input: Vec<PathBuf>,
        /// Vocabulary size: 5 special + 256 byte tokens + learned pieces.
        #[arg(long, default_value_t = 512)]
        vocab: usize,
        /// Output directory.
        #[arg(long, short = 'o')]
        out: PathBuf,
    },
}

pub fn run(t: Tokenizer) -> Result<()> {
    match t {
        Tokenizer::Train { input, vocab, out } => {
            let report = mote_toolchain::tokenizer::train_to_dir(&input, vocab, &out)?;
            eprintln!("{report}");
            Ok(())
        }
    }
}
