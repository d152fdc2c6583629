//! `mote tokenize`: ids of a text as JSON, for scripting and cross-checks.

use super::loaded;
use anyhow::Result;
use clap::Args as ClapArgs;
use mote_runtime::tokenizer::Tokenizer;
use std::path::PathBuf;

#[derive(ClapArgs)]
pub struct Args {
    /// GGUF model whose vocabulary to use.
    model: PathBuf,
    /// Text to tokenize.
    text: String,
    /// Do not prepend the BOS token.
    #[arg(long)]
    no_bos: bool,
    /// Treat control-token text such as `<|im_start|>` as plain text.
    #[arg(long)]
    no_special: bool,
}

pub fn run(a: Args) -> Result<()> {
    let file = loaded::open(&a.model)?;
    let g = file.gguf()?;
    let mut table = loaded::tokenizer_table(&file)?;
    let tok = Tokenizer::build(&g, &mut table).map_err(|e| file.model_error(e))?;
    let ids = tok.encode_vec(&a.text, !a.no_bos, !a.no_special)?;
    println!("{}", serde_json::to_string(&ids)?);
    Ok(())
}
