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
    /// Built-in data sets.
    #[command(subcommand)]
    Data(cmd::data::Data),
    /// Rank sampled completions with the simulated annotator (gold score + noise).
    Annotate(cmd::annotate::Args),
    /// Train the tokenizer.
    #[command(subcommand)]
    Tokenizer(cmd::tokenizer::Tokenizer),
    /// Write a randomly initialised checkpoint from a model config and a tokenizer.
    Init(cmd::init::Args),
    /// Next-token pretraining of a checkpoint on text.
    Pretrain(cmd::pretrain::Args),
    /// Supervised fine-tuning of a checkpoint on ChatML demonstrations.
    Sft(cmd::sft::Args),
    /// Reward model from preference pairs or K-wise rankings.
    Rm(cmd::rm::Args),
    /// Direct preference optimisation of a policy on preference pairs or rankings.
    Dpo(cmd::dpo::Args),
    /// PPO of an SFT model against a reward model, KL-regularised to the SFT model.
    Ppo(cmd::ppo::Args),
    /// Checkpoint → GGUF (f32, f16, q8_0, q4_0), with a quality report.
    Export(cmd::export::Args),
    /// Convert another format into a GGUF model or a checkpoint.
    #[command(subcommand)]
    Import(cmd::import::Import),
    /// K sampled responses per prompt from a checkpoint or a GGUF model.
    Sample(cmd::sample::Args),
    /// A local web page where people rank, write, correct and critique answers
    /// (`mote label --in SAMPLES --out DIR`), and `mote label stats DIR`.
    Label(cmd::label::Args),
    /// Measure a checkpoint or a GGUF model (perplexity).
    Eval(cmd::eval::Args),
    /// Generate text from a GGUF model (prints only the generated text to stdout).
    Run(cmd::run::Args),
    /// Chat with a GGUF model in ChatML on stdin/stdout.
    Chat(cmd::chat::Args),
    /// Measure prompt and generation tokens/s (optionally against llama-bench).
    Bench(cmd::bench::Args),
    /// Print the token ids of a text as a JSON array.
    Tokenize(cmd::tokenize::Args),
    /// Write a llama model with random weights from a model config (for benchmarks and tests).
    InitRandom(cmd::init_random::Args),
    /// Build a board image with a model, print its flash and RAM use, boot or flash it.
    Flash(cmd::flash::Args),
    /// Chat with a board over a serial port (tty, QEMU pty or TCP) and capture its feedback.
    Console(cmd::console::Args),
    /// Run every stage of a pipeline file (world → SFT → RLHF rounds → DPO → export → eval),
    /// skipping stages already complete; ends with the results table and plots.
    Pipeline(cmd::pipeline::Args),
}

/// Parses `mote ARGS…` without running it (the pipeline checks its stages up front).
fn check_args(args: &[String]) -> anyhow::Result<()> {
    Cli::try_parse_from(std::iter::once("mote".to_string()).chain(args.iter().cloned()))
        .map(|_| ())
        .map_err(|e| anyhow::anyhow!("mote {}: {e}", args.first().map_or("", String::as_str)))
}

fn main() -> ExitCode {
    mote_toolchain::alloc::keep_freed_memory();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Data(d) => cmd::data::run(d),
        Command::Annotate(a) => cmd::annotate::run(a),
        Command::Tokenizer(t) => cmd::tokenizer::run(t),
        Command::Init(a) => cmd::init::run(a),
        Command::Pretrain(a) => cmd::pretrain::run(a),
        Command::Sft(a) => cmd::sft::run(a),
        Command::Rm(a) => cmd::rm::run(a),
        Command::Dpo(a) => cmd::dpo::run(a),
        Command::Ppo(a) => cmd::ppo::run(a),
        Command::Export(a) => cmd::export::run(a),
        Command::Import(i) => cmd::import::run(i),
        Command::Sample(a) => cmd::sample::run(a),
        Command::Label(a) => cmd::label::run(a),
        Command::Eval(a) => cmd::eval::run(a),
        Command::Run(a) => cmd::run::run(a),
        Command::Chat(a) => cmd::chat::run(a),
        Command::Tokenize(a) => cmd::tokenize::run(a),
        Command::Bench(a) => cmd::bench::run(a),
        Command::InitRandom(a) => cmd::init_random::run(a),
        Command::Pipeline(a) => cmd::pipeline::run(a, check_args),
        Command::Flash(a) => cmd::flash::run(a),
        Command::Console(a) => cmd::console::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
