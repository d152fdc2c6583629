//! The results table a pipeline ends with (markdown): stage times, reward models against
//! the annotators' agreement, every model judged by the gold scorer, and export deltas.

use anyhow::{Context, Result};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;

use mote_toolchain::eval::world::Metrics;
use mote_toolchain::eval::WorldReport;
use mote_toolchain::world::annotate::{agreement, read_samples, DEFAULT_NOISE};

use super::config::PipelineConfig;
use super::plan::{evaluated, Layout};
use super::stage::Stamp;

pub fn read_report(path: &Path) -> Result<WorldReport> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// The last line of a metrics.jsonl that has `key`.
fn last_with(path: &Path, key: &str) -> Result<Option<Value>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    // From the end: the file may be long and only its last such line matters.
    Ok(text
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v.get(key).is_some()))
}

fn category<'a>(r: &'a WorldReport, name: &str) -> Option<&'a Metrics> {
    r.categories.iter().find(|m| m.category == name)
}

fn pct(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{:.1}", 100.0 * v))
}

/// Fact and arithmetic accuracy over both categories' samples.
fn fact_accuracy(r: &WorldReport) -> Option<f64> {
    let (mut hit, mut n) = (0.0, 0usize);
    for m in ["fact", "arithmetic"].iter().filter_map(|c| category(r, c)) {
        hit += m.accuracy? * m.samples as f64;
        n += m.samples;
    }
    (n > 0).then(|| hit / n as f64)
}

pub fn results(cfg: &PipelineConfig, l: &Layout, stamps: &[Stamp]) -> Result<String> {
    let mut s = String::new();
    let total: f64 = stamps.iter().map(|t| t.seconds).sum();
    writeln!(s, "## Stages\n")?;
    writeln!(s, "| stage | seconds |\n| --- | ---: |")?;
    for t in stamps {
        let note = if t.resumed { " (resumed)" } else { "" };
        writeln!(s, "| {}{note} | {:.0} |", t.name, t.seconds)?;
    }
    writeln!(
        s,
        "| **total** | **{total:.0}** ({:.1} min) |\n",
        total / 60.0
    )?;

    writeln!(s, "## Reward models\n")?;
    writeln!(
        s,
        "Held-out pairwise accuracy on the annotator's labels (over the pairs it ordered: \
         with ties on, pairs of equally good answers are not ordered), against how often a \
         second simulated annotator agrees with the first on the same round's samples: over \
         all pairs (ties ordered at random) and over the pairs whose gold scores differ, the \
         ceiling when ties are on.\n"
    )?;
    writeln!(
        s,
        "| round | rankings | RM held-out accuracy | annotator agreement (all pairs) | (distinct gold) | PPO reward (last it.) | PPO KL | β |"
    )?;
    writeln!(
        s,
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    )?;
    for r in 1..=cfg.rounds.count {
        let samples = read_samples(&l.samples(r))?;
        let g = agreement(
            &samples,
            cfg.seed + 100 + r as u64,
            cfg.seed + 1_000,
            DEFAULT_NOISE,
        );
        let rm = last_with(&l.rm(r).join("metrics.jsonl"), "eval_accuracy")?;
        // The reward model of round r reads every ranking so far.
        let mut rankings = 0;
        for q in 1..=r {
            let path = l.rankings(q);
            rankings += std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?
                .lines()
                .count();
        }
        let ppo = last_with(&l.ppo(r).join("metrics.jsonl"), "reward")?;
        let f = |v: &Option<Value>, k: &str| {
            v.as_ref()
                .and_then(|v| v.get(k))
                .and_then(Value::as_f64)
                .map_or("-".into(), |x| format!("{x:.3}"))
        };
        writeln!(
            s,
            "| {r} | {} | {} | {:.3} | {:.3} | {} | {} | {} |",
            rankings,
            f(&rm, "eval_accuracy"),
            g.rate_all(),
            g.rate(),
            f(&ppo, "reward"),
            f(&ppo, "kl"),
            f(&ppo, "beta"),
        )?;
    }

    writeln!(s, "\n## Models on the held-out prompts\n")?;
    writeln!(
        s,
        "Judged by the gold scorer, {} samples per prompt at temperature {}. KL (nats per \
         response) and win rate (ties count half) are against the SFT model.\n",
        cfg.eval.samples, cfg.eval.temperature
    )?;
    writeln!(
        s,
        "| model | KL | win % | gold (0–6.5) | fact acc % | IDK on made-up % | hallucination % | harmful refused % | benign refused % | ends turn % | words | distinct-2 | entropy | held-out ppl |"
    )?;
    writeln!(s, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")?;
    let mut reports = Vec::new();
    for e in evaluated(cfg, l) {
        let r = read_report(&l.eval(&e.name))?;
        let o = &r.overall;
        let unknown = category(&r, "unknown");
        writeln!(
            s,
            "| {} | {} | {} | {:.2} | {} | {} | {} | {} | {} | {} | {:.1} | {:.2} | {:.2} | {} |",
            e.name,
            o.kl.map_or("0".into(), |k| format!("{k:.2}")),
            pct(o.win_rate),
            o.gold,
            pct(fact_accuracy(&r)),
            pct(unknown.map(|m| m.idk_rate)),
            pct(unknown.and_then(|m| m.hallucination_rate)),
            pct(category(&r, "harmful").map(|m| m.refusal_rate)),
            pct(category(&r, "benign").map(|m| m.refusal_rate)),
            pct(Some(o.end_rate)),
            o.mean_words,
            o.distinct2,
            o.entropy,
            r.heldout_ppl.map_or("-".into(), |p| format!("{p:.3}")),
        )?;
        reports.push((e.name, r));
    }

    let f32_report = reports
        .iter()
        .find(|(n, _)| n == "aligned-f32")
        .map(|(_, r)| r);
    if let Some(base) = f32_report {
        writeln!(
            s,
            "\n## Export of the aligned model (through mote-runtime)\n"
        )?;
        writeln!(
            s,
            "| file | gold | Δ gold | held-out ppl | Δ ppl |\n| --- | ---: | ---: | ---: | ---: |"
        )?;
        for q in std::iter::once("f32").chain(cfg.export.quants.iter().map(String::as_str)) {
            let name = format!("aligned-{q}");
            let Some((_, r)) = reports.iter().find(|(n, _)| *n == name) else {
                continue;
            };
            let bytes = std::fs::metadata(l.gguf(q)).map(|m| m.len()).unwrap_or(0);
            let dppl = match (r.heldout_ppl, base.heldout_ppl) {
                (Some(a), Some(b)) => format!("{:+.2}%", 100.0 * (a / b - 1.0)),
                _ => "-".into(),
            };
            writeln!(
                s,
                "| {name}.gguf ({:.2} MB) | {:.3} | {:+.3} | {} | {dppl} |",
                bytes as f64 / 1e6,
                r.overall.gold,
                r.overall.gold - base.overall.gold,
                r.heldout_ppl.map_or("-".into(), |p| format!("{p:.3}")),
            )?;
        }
    }
    Ok(s)
}
