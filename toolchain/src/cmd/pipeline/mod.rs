//! `mote pipeline FILE.toml`: the whole recipe from one file — world, tokenizer, pretraining,
//! SFT, rounds of sampling, ranking, reward modelling and PPO, DPO for comparison, export and
//! evaluation — ending with the results table and plots. Stages already complete are
//! skipped, so an interrupted pipeline resumes.

mod config;
mod curve;
mod plan;
mod plot;
mod report;
mod stage;

use anyhow::{Context, Result};
use clap::Args as ClapArgs;
use std::path::PathBuf;

use config::PipelineConfig;
use plan::Layout;

#[derive(ClapArgs)]
pub struct Args {
    /// The pipeline file (e.g. models/pipelines/assistant.toml).
    file: PathBuf,
    /// Output directory (default: the file's `out`).
    #[arg(long, short = 'o')]
    out: Option<PathBuf>,
    /// Print the stages' commands and stop.
    #[arg(long)]
    dry_run: bool,
}

pub fn run(a: Args, check_args: impl Fn(&[String]) -> Result<()>) -> Result<()> {
    let cfg = PipelineConfig::load(&a.file)?;
    let out = a.out.clone().unwrap_or_else(|| cfg.out.clone());
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let layout = Layout { out: out.clone() };
    for dir in [out.join("gguf"), out.join("eval")] {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let exe = std::env::current_exe().context("locating the mote binary")?;
    let stages = plan::stages(&cfg, &layout, &exe)?;
    // Every command's flags are checked before the first stage runs.
    for st in &stages {
        if let stage::Action::Mote { args, .. } = &st.action {
            check_args(args)
                .with_context(|| format!("stage {} of {}", st.name, a.file.display()))?;
        }
    }
    if a.dry_run {
        for st in &stages {
            let cmd = st.command_line();
            println!(
                "{:<20} {}",
                st.name,
                if cmd.is_empty() { "(built in)" } else { &cmd }
            );
        }
        return Ok(());
    }
    let mut stamps = Vec::new();
    for (i, st) in stages.iter().enumerate() {
        stamps.push(stage::run(&exe, &out, st, i, stages.len())?);
    }
    let results = report::results(&cfg, &layout, &stamps)?;
    let plots = plot::all(&cfg, &layout)?;
    let path = out.join("results.md");
    mote_toolchain::checkpoint::atomic::write_bytes(&path, results.as_bytes())?;
    print!("{results}");
    for p in plots {
        eprintln!("plot -> {}", p.display());
    }
    eprintln!("results -> {}", path.display());
    Ok(())
}
