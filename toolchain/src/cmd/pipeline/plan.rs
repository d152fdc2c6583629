//! The stages of a pipeline file, in order, with the directory layout they share:
//!
//! ```text
//! OUT/world  tok  init  base  sft            synthetic world, tokenizer, models
//! OUT/round-R/{prompts,samples,rankings}.jsonl  rm/  ppo/   one RLHF round
//! OUT/dpo                                     DPO on the last round's rankings
//! OUT/gguf/aligned-{f32,q8_0,q4_0}.gguf       the last PPO policy exported
//! OUT/eval/*.json  eval/curve/*.json          `mote eval --world` reports
//! OUT/results.md  plots/*.png  stages/  logs/
//! ```

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

use super::config::{flags, PipelineConfig};
use super::curve;
use super::stage::Stage;

/// Paths of the pipeline's outputs.
#[derive(Clone, Debug)]
pub struct Layout {
    pub out: PathBuf,
}

impl Layout {
    pub fn world(&self) -> PathBuf {
        self.out.join("world")
    }
    pub fn model(&self, name: &str) -> PathBuf {
        self.out.join(name)
    }
    pub fn round(&self, r: usize) -> PathBuf {
        self.out.join(format!("round-{r}"))
    }
    pub fn rm(&self, r: usize) -> PathBuf {
        self.round(r).join("rm")
    }
    pub fn ppo(&self, r: usize) -> PathBuf {
        self.round(r).join("ppo")
    }
    pub fn rankings(&self, r: usize) -> PathBuf {
        self.round(r).join("rankings.jsonl")
    }
    pub fn samples(&self, r: usize) -> PathBuf {
        self.round(r).join("samples.jsonl")
    }
    pub fn gguf(&self, quant: &str) -> PathBuf {
        self.out.join("gguf").join(format!("aligned-{quant}.gguf"))
    }
    pub fn eval(&self, name: &str) -> PathBuf {
        self.out.join("eval").join(format!("{name}.json"))
    }
    pub fn curve_dir(&self) -> PathBuf {
        self.out.join("eval").join("curve")
    }
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn args(items: &[&str]) -> Vec<String> {
    items.iter().map(|x| x.to_string()).collect()
}

/// A model evaluated in the results table: its name and what `mote eval` reads.
#[derive(Clone, Debug)]
pub struct Evaluated {
    pub name: String,
    pub model: PathBuf,
    /// Judged against the SFT model (KL, win rate).
    pub against_sft: bool,
}

/// The models of the results table, in its row order.
pub fn evaluated(cfg: &PipelineConfig, l: &Layout) -> Vec<Evaluated> {
    let mut v = vec![
        Evaluated {
            name: "base".into(),
            model: l.model("base"),
            against_sft: true,
        },
        Evaluated {
            name: "sft".into(),
            model: l.model("sft"),
            against_sft: false,
        },
    ];
    for r in 1..=cfg.rounds.count {
        v.push(Evaluated {
            name: format!("ppo-round-{r}"),
            model: l.ppo(r),
            against_sft: true,
        });
    }
    if cfg.dpo.is_some() {
        v.push(Evaluated {
            name: "dpo".into(),
            model: l.model("dpo"),
            against_sft: true,
        });
    }
    for q in std::iter::once("f32").chain(cfg.export.quants.iter().map(String::as_str)) {
        v.push(Evaluated {
            name: format!("aligned-{q}"),
            model: l.gguf(q),
            against_sft: true,
        });
    }
    v
}

/// Every stage of `cfg`, in order.
pub fn stages(cfg: &PipelineConfig, l: &Layout, exe: &Path) -> Result<Vec<Stage>> {
    let world = l.world();
    let seed = cfg.seed.to_string();
    let threads = cfg.threads.to_string();
    let mut v = vec![
        Stage::mote(
            "synth",
            args(&[
                "data",
                "synth",
                "--out",
                &s(&world),
                "--seed",
                &seed,
                "--scale",
                &cfg.world.scale,
            ]),
        ),
        Stage::mote(
            "tokenizer",
            args(&[
                "tokenizer",
                "train",
                "-i",
                &s(&world.join("corpus.txt")),
                &s(&world.join("sft.jsonl")),
                "--vocab",
                &cfg.tokenizer.vocab.to_string(),
                "-o",
                &s(&l.model("tok")),
            ]),
        ),
        Stage::mote(
            "init",
            args(&[
                "init",
                "--config",
                &s(&cfg.model.config),
                "--tokenizer",
                &s(&l.model("tok")),
                "-o",
                &s(&l.model("init")),
                "--seed",
                &(cfg.seed + 1).to_string(),
            ]),
        ),
    ];
    let mut pretrain = args(&[
        "pretrain",
        "--model",
        &s(&l.model("init")),
        "--data",
        &s(&world.join("corpus.txt")),
        "-o",
        &s(&l.model("base")),
        "--quiet",
    ]);
    pretrain.extend(flags("pretrain", &cfg.pretrain)?);
    v.push(Stage::training("pretrain", pretrain, &l.model("base")));
    let mut sft = args(&[
        "sft",
        "--model",
        &s(&l.model("base")),
        "--data",
        &s(&world.join("sft.jsonl")),
        "-o",
        &s(&l.model("sft")),
        "--quiet",
    ]);
    sft.extend(flags("sft", &cfg.sft)?);
    v.push(Stage::training("sft", sft, &l.model("sft")));

    let sft_dir = l.model("sft");
    let mut rankings: Vec<PathBuf> = Vec::new();
    for r in 1..=cfg.rounds.count {
        let round = l.round(r);
        let prompts = round.join("prompts.jsonl");
        let (src, dst, n, skip) = (
            world.join("ppo-prompts.jsonl"),
            prompts.clone(),
            cfg.rounds.prompts,
            (r - 1) * cfg.rounds.prompts,
        );
        v.push(Stage::builtin(format!("round-{r}-prompts"), move || {
            slice_lines(&src, &dst, skip, n)
        }));
        let policy = if r == 1 {
            sft_dir.clone()
        } else {
            l.ppo(r - 1)
        };
        v.push(Stage::mote(
            format!("round-{r}-sample"),
            args(&[
                "sample",
                &s(&policy),
                "--prompts",
                &s(&prompts),
                "-k",
                &cfg.rounds.k.to_string(),
                "--temperature",
                &cfg.rounds.temperature.to_string(),
                "-o",
                &s(&l.samples(r)),
                "--seed",
                &(cfg.seed + r as u64).to_string(),
                "-t",
                &threads,
            ]),
        ));
        let mut annotate = args(&[
            "annotate",
            "--in",
            &s(&l.samples(r)),
            "--out",
            &s(&l.rankings(r)),
            "--seed",
            &(cfg.seed + 100 + r as u64).to_string(),
        ]);
        if cfg.rounds.ties {
            annotate.push("--ties".into());
        }
        v.push(Stage::mote(format!("round-{r}-annotate"), annotate));
        rankings.push(l.rankings(r));
        let mut rm = args(&[
            "rm",
            "--base",
            &s(&sft_dir),
            "-o",
            &s(&l.rm(r)),
            "--threads",
            &threads,
            "--quiet",
            "--data",
        ]);
        rm.extend(rankings.iter().map(|p| s(p)));
        rm.extend(flags("rm", &cfg.rm)?);
        v.push(Stage::training(format!("round-{r}-rm"), rm, &l.rm(r)));
        let mut ppo = args(&[
            "ppo",
            "--policy",
            &s(&sft_dir),
            "--reward",
            &s(&l.rm(r)),
            "--prompts",
            &s(&world.join("ppo-prompts.jsonl")),
            "-o",
            &s(&l.ppo(r)),
            "--threads",
            &threads,
            "--keep-checkpoints",
            "0",
            "--quiet",
        ]);
        // PPO-ptx without a file of its own mixes in the world's demonstrations.
        if cfg.ppo.contains_key("ptx_coef") && !cfg.ppo.contains_key("ptx_data") {
            ppo.extend(["--ptx-data".into(), s(&world.join("sft.jsonl"))]);
        }
        ppo.extend(flags("ppo", &cfg.ppo)?);
        v.push(Stage::training(format!("round-{r}-ppo"), ppo, &l.ppo(r)));
    }
    if let Some(dpo_flags) = &cfg.dpo {
        let mut dpo = args(&[
            "dpo",
            "--policy",
            &s(&sft_dir),
            "-o",
            &s(&l.model("dpo")),
            "--quiet",
            "--data",
        ]);
        dpo.extend(rankings.iter().map(|p| s(p)));
        dpo.extend(flags("dpo", dpo_flags)?);
        v.push(Stage::training("dpo", dpo, &l.model("dpo")));
    }
    let aligned = l.ppo(cfg.rounds.count);
    for q in std::iter::once("f32").chain(cfg.export.quants.iter().map(String::as_str)) {
        v.push(Stage::mote(
            format!("export-{q}"),
            args(&[
                "export",
                &s(&aligned),
                "--quant",
                q,
                "-o",
                &s(&l.gguf(q)),
                "--ppl",
                &s(&world.join("corpus-heldout.txt")),
            ]),
        ));
    }
    for e in evaluated(cfg, l) {
        let mut a = args(&[
            "eval",
            &s(&e.model),
            "--world",
            &s(&world),
            "--samples",
            &cfg.eval.samples.to_string(),
            "--temperature",
            &cfg.eval.temperature.to_string(),
            "-t",
            &threads,
            "--out",
            &s(&l.eval(&e.name)),
        ]);
        if e.against_sft {
            a.extend(args(&["--reference", &s(&sft_dir)]));
        }
        if let Some(n) = cfg.eval.limit {
            a.extend(["--limit".to_string(), n.to_string()]);
        }
        v.push(Stage::mote(format!("eval-{}", e.name), a));
    }
    if cfg.eval.curve_samples > 0 {
        for r in 1..=cfg.rounds.count {
            let (exe, l, cfg) = (exe.to_path_buf(), l.clone(), cfg.clone());
            v.push(Stage::builtin(format!("curve-round-{r}"), move || {
                curve::evaluate_checkpoints(&exe, &cfg, &l, r)
            }));
        }
    }
    Ok(v)
}

/// `n` lines of `src` from line `skip` on, wrapping around to the first line (a round may
/// rank prompts an earlier round ranked, answered by a newer policy).
fn slice_lines(src: &Path, dst: &Path, skip: usize, n: usize) -> Result<()> {
    let text =
        std::fs::read_to_string(src).with_context(|| format!("reading {}", src.display()))?;
    let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    anyhow::ensure!(!all.is_empty(), "{} has no prompts", src.display());
    let lines: Vec<&str> = (0..n.min(all.len()))
        .map(|i| all[(skip + i) % all.len()])
        .collect();
    let mut body = lines.join("\n");
    body.push('\n');
    if let Some(parent) = dst.parent() {
        std::fs::create_dir_all(parent)?;
    }
    mote_toolchain::checkpoint::atomic::write_bytes(dst, body.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_prompts_wrap_around() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("p.jsonl");
        std::fs::write(&src, "a\nb\nc\n").unwrap();
        let dst = dir.path().join("r/out.jsonl");
        slice_lines(&src, &dst, 2, 2).unwrap();
        assert_eq!(std::fs::read_to_string(&dst).unwrap(), "c\na\n");
        slice_lines(&src, &dst, 0, 9).unwrap();
        assert_eq!(std::fs::read_to_string(&dst).unwrap(), "a\nb\nc\n");
    }
}
