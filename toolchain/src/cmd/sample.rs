//! `mote sample`: K responses per prompt, to rank or to evaluate.

use anyhow::Result;
use clap::Args as ClapArgs;
use mote_toolchain::checkpoint::atomic;
use mote_toolchain::sample::{read_prompts, Generator, ModelSource, SampleConfig};
use serde_json::{json, Value};
use std::path::PathBuf;

#[derive(ClapArgs)]
pub struct Args {
    /// A checkpoint directory or a GGUF file.
    model: PathBuf,
    /// Prompts: JSONL of {"prompt"} or {"messages"}; other fields are copied to the output.
    #[arg(long)]
    prompts: PathBuf,
    /// Completions per prompt.
    #[arg(short = 'k', long, default_value_t = 4)]
    k: usize,
    /// Output JSONL: each prompt line plus "completions" and "ended".
    #[arg(long, short = 'o')]
    out: PathBuf,
    /// Sampling temperature (pure sampling: no top-k/top-p).
    #[arg(long, visible_alias = "temp", default_value_t = 1.0)]
    temperature: f32,
    /// Most tokens per completion.
    #[arg(long, default_value_t = 64)]
    max_tokens: usize,
    #[arg(long, short = 's', default_value_t = 0)]
    seed: u64,
    /// System turn for prompts that have none.
    #[arg(long)]
    system: Option<String>,
    /// Worker threads (default: every core).
    #[arg(long, short = 't')]
    threads: Option<usize>,
    /// Also write each completion's token log-probabilities.
    #[arg(long)]
    logprobs: bool,
}

pub fn run(a: Args) -> Result<()> {
    anyhow::ensure!(a.k >= 1, "-k must be at least 1");
    let prompts = read_prompts(&a.prompts, a.system.as_deref())?;
    let src = ModelSource::open(&a.model)?;
    let threads = a
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let generator = Generator::open(src.gguf(), threads)?;
    let cfg = SampleConfig {
        temperature: a.temperature,
        max_tokens: a.max_tokens,
        seed: a.seed,
    };
    let texts: Vec<String> = prompts.iter().map(|p| p.chatml.clone()).collect();
    let start = std::time::Instant::now();
    let samples = generator.sample(&texts, a.k, &cfg)?;
    let mut out = String::new();
    let mut tokens = 0usize;
    for (p, cs) in prompts.iter().zip(&samples) {
        let mut obj = p.fields.clone();
        obj.insert(
            "completions".into(),
            json!(cs.iter().map(|c| &c.text).collect::<Vec<_>>()),
        );
        obj.insert(
            "ended".into(),
            json!(cs.iter().map(|c| c.ended).collect::<Vec<_>>()),
        );
        if a.logprobs {
            obj.insert(
                "logprobs".into(),
                json!(cs.iter().map(|c| &c.logprobs).collect::<Vec<_>>()),
            );
        }
        tokens += cs.iter().map(|c| c.ids.len()).sum::<usize>();
        out.push_str(&serde_json::to_string(&Value::Object(obj))?);
        out.push('\n');
    }
    atomic::write_bytes(&a.out, out.as_bytes())?;
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "{} prompts × {} -> {} ({tokens} tokens in {secs:.1} s, {:.0} tok/s)",
        prompts.len(),
        a.k,
        a.out.display(),
        tokens as f64 / secs.max(1e-9)
    );
    Ok(())
}
