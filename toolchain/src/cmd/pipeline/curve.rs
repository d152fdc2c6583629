//! The over-optimisation curve: every saved PPO checkpoint judged by the gold scorer, with
//! its KL to the SFT model (Gao et al.: gold reward against √KL).

use anyhow::{bail, Context, Result};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::config::PipelineConfig;
use super::plan::Layout;

/// One point of the curve.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub round: usize,
    pub iteration: u64,
    pub kl: f64,
    pub gold: f64,
}

fn checkpoints(ppo: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let mut v = Vec::new();
    for entry in std::fs::read_dir(ppo).with_context(|| format!("reading {}", ppo.display()))? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if let Some(it) = name
            .strip_prefix("checkpoint-")
            .and_then(|n| n.parse().ok())
        {
            v.push((it, path));
        }
    }
    v.sort();
    Ok(v)
}

fn curve_file(l: &Layout, round: usize, iteration: u64) -> PathBuf {
    l.curve_dir()
        .join(format!("round-{round}-{iteration:06}.json"))
}

/// Judges each checkpoint of round `r` that has no report yet.
pub fn evaluate_checkpoints(exe: &Path, cfg: &PipelineConfig, l: &Layout, r: usize) -> Result<()> {
    std::fs::create_dir_all(l.curve_dir())?;
    let log_path = l.out.join("logs").join(format!("curve-round-{r}.log"));
    let log = File::create(&log_path)?;
    for (it, dir) in checkpoints(&l.ppo(r))? {
        let out = curve_file(l, r, it);
        if out.exists() {
            continue;
        }
        let mut cmd = Command::new(exe);
        cmd.arg("eval");
        if let Some(n) = cfg.eval.limit {
            cmd.args(["--limit", &n.to_string()]);
        }
        let status = cmd
            .arg(dir.join(mote_toolchain::ppo::trainer::POLICY_DIR))
            .arg("--world")
            .arg(l.world())
            .args(["--samples", &cfg.eval.curve_samples.to_string()])
            .args(["--temperature", &cfg.eval.temperature.to_string()])
            .args(["-t", &cfg.threads.to_string()])
            .arg("--reference")
            .arg(l.model("sft"))
            .arg("--out")
            .arg(&out)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log.try_clone()?)
            .status()?;
        if !status.success() {
            bail!(
                "evaluating {} failed; see {}",
                dir.display(),
                log_path.display()
            );
        }
    }
    Ok(())
}

/// Gold reward and KL to SFT of one `mote eval --world` report.
fn gold_and_kl(path: &Path) -> Result<(f64, f64)> {
    let o = super::report::read_report(path)?.overall;
    Ok((o.gold, o.kl.unwrap_or(0.0).max(0.0)))
}

/// The curve's points: the SFT model (KL 0) and every judged checkpoint, by round.
pub fn points(cfg: &PipelineConfig, l: &Layout) -> Result<Vec<Point>> {
    let (sft_gold, _) = gold_and_kl(&l.eval("sft"))?;
    let mut v = Vec::new();
    for r in 1..=cfg.rounds.count {
        v.push(Point {
            round: r,
            iteration: 0,
            kl: 0.0,
            gold: sft_gold,
        });
        let mut files: Vec<(u64, PathBuf)> = Vec::new();
        if let Ok(rd) = std::fs::read_dir(l.curve_dir()) {
            for e in rd {
                let p = e?.path();
                let name = p.file_stem().and_then(|n| n.to_str()).unwrap_or("");
                let prefix = format!("round-{r}-");
                if let Some(it) = name.strip_prefix(&prefix).and_then(|n| n.parse().ok()) {
                    files.push((it, p));
                }
            }
        }
        files.sort();
        for (it, p) in files {
            let (gold, kl) = gold_and_kl(&p)?;
            v.push(Point {
                round: r,
                iteration: it,
                kl,
                gold,
            });
        }
    }
    Ok(v)
}
