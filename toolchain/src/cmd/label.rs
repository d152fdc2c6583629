//! `mote label`: the labeling page (`serve`, the default) and its statistics (`stats`).

use anyhow::Result;
use clap::{Args as ClapArgs, Subcommand};
use mote_toolchain::label::labeler::Labeler;
use mote_toolchain::label::{label_stats, serve, ServeOptions};
use std::net::SocketAddr;
use std::path::PathBuf;

/// `mote label --in … --out …` serves; `mote label stats DIR` reports.
#[derive(ClapArgs)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Label>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Label {
    /// Serve the labeling page (the default: `mote label --in … --out …` does the same).
    Serve(ServeArgs),
    /// Counts per labeler and kind, and pairwise agreement on items ranked by several.
    Stats(StatsArgs),
}

#[derive(ClapArgs)]
struct ServeArgs {
    /// Samples to label: `mote sample` output, or {"prompt","completions":[K]} per line.
    #[arg(long = "in", short = 'i', required = true)]
    input: Option<PathBuf>,
    /// Output directory: one folder per labeler with rankings.jsonl (for `mote rm`),
    /// demos.jsonl (for `mote sft`), critiques.jsonl and skips.jsonl.
    #[arg(long, short = 'o', required = true)]
    out: Option<PathBuf>,
    /// Address to listen on. Anything but loopback requires --token.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// Secret every request must carry (open the printed address once; the page keeps it
    /// in a cookie). At least 16 characters, e.g. `openssl rand -hex 16`.
    #[arg(long)]
    token: Option<String>,
    /// Labeler name the page starts with (letters, digits, `_`, `-`).
    #[arg(long)]
    labeler: Option<String>,
}

#[derive(ClapArgs)]
struct StatsArgs {
    /// The output directory of `mote label serve`.
    dir: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> Result<()> {
    match a.command {
        Some(Label::Serve(s)) => run_serve(s),
        Some(Label::Stats(s)) => run_stats(s),
        None => run_serve(a.serve),
    }
}

fn run_serve(a: ServeArgs) -> Result<()> {
    let (Some(samples), Some(out)) = (a.input, a.out) else {
        anyhow::bail!("--in and --out are required");
    };
    let opts = ServeOptions {
        samples,
        out,
        bind: a.bind,
        token: a.token,
        default_labeler: a.labeler.as_deref().map(Labeler::new).transpose()?,
    };
    serve(&opts, |r| {
        let dups = if r.duplicates > 0 {
            format!(" ({} repeated lines ignored)", r.duplicates)
        } else {
            String::new()
        };
        eprintln!(
            "mote label: {} items{dups}, {} labelers so far, writing to {}",
            r.items,
            r.labelers,
            opts.out.display()
        );
        eprintln!("mote label: open {} (Ctrl-C to stop)", r.url);
    })?;
    Ok(())
}

fn run_stats(a: StatsArgs) -> Result<()> {
    anyhow::ensure!(a.dir.is_dir(), "{}: not a directory", a.dir.display());
    let stats = label_stats(&a.dir)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&stats)?);
    } else {
        print!("{stats}");
    }
    Ok(())
}
