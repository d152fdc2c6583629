//! `mote`: train, align, quantize and run small llama models.

mod cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

// Training reuses large buffers every step; see `mote_toolchain::alloc`.
#[global_allocator]
static GLOBAL: mote_toolchain::alloc::MiMalloc = mote_toolchain::alloc::MiMalloc;

/// Toolchain and runtime for small language models aligned with human feedback.
#[derive(Parser)]
#[command(name = "mote", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate text from a GGUF model (prints only the generated text to stdout).
    Run(cmd::run::Args),
    /// Chat with a GGUF model in ChatML on stdin/stdout.
    Chat(cmd::chat::Args),
    /// Measure prompt and generation tokens/s (optionally against llama-bench).
    Bench(cmd::bench::Args),
    /// Print the token ids of a text as a JSON array.
    Tokenize(cmd::tokenize::Args),
    /// Train the tokenizer.
    #[command(subcommand)]
    Tokenizer(cmd::tokenizer::Tokenizer),
    /// Convert another format into a GGUF model.
    #[command(subcommand)]
    Import(cmd::import::Import),
    /// Write a llama model with random weights from a model config (for benchmarks and tests).
    InitRandom(cmd::init_random::Args),
}

fn main() -> ExitCode {
    mote_toolchain::alloc::keep_freed_memory();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(a) => cmd::run::run(a),
        Command::Chat(a) => cmd::chat::run(a),
        Command::Tokenize(a) => cmd::tokenize::run(a),
        Command::Tokenizer(t) => cmd::tokenizer::run(t),
        Command::Bench(a) => cmd::bench::run(a),
        Command::Import(i) => cmd::import::run(i),
        Command::InitRandom(a) => cmd::init_random::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
