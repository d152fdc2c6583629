//! The pipeline file: typed settings for the stages the pipeline wires together, and
//! free-form flag tables for the training commands.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    /// Output directory (the `--out` flag overrides it).
    pub out: PathBuf,
    #[serde(default)]
    pub seed: u64,
    #[serde(default = "default_threads")]
    pub threads: usize,
    pub world: World,
    pub tokenizer: TokenizerStage,
    pub model: ModelStage,
    #[serde(default)]
    pub pretrain: toml::Table,
    #[serde(default)]
    pub sft: toml::Table,
    pub rounds: Rounds,
    #[serde(default)]
    pub rm: toml::Table,
    #[serde(default)]
    pub ppo: toml::Table,
    /// Absent: no DPO comparison.
    pub dpo: Option<toml::Table>,
    #[serde(default)]
    pub export: Export,
    #[serde(default)]
    pub eval: Eval,
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct World {
    pub scale: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenizerStage {
    pub vocab: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelStage {
    pub config: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rounds {
    pub count: usize,
    /// Prompts ranked per round: consecutive slices of the world's PPO prompts, wrapping
    /// around at the end.
    pub prompts: usize,
    /// Answers per prompt.
    pub k: usize,
    #[serde(default = "one")]
    pub temperature: f32,
    /// The annotator ties equally good answers (`mote annotate --ties`).
    #[serde(default)]
    pub ties: bool,
}

fn one() -> f32 {
    1.0
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Export {
    pub quants: Vec<String>,
}

impl Default for Export {
    fn default() -> Self {
        Export {
            quants: vec!["q8_0".into(), "q4_0".into()],
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Eval {
    pub samples: usize,
    pub temperature: f32,
    /// Samples per prompt for each PPO checkpoint on the over-optimisation curve (0: none).
    pub curve_samples: usize,
    /// Only the first N prompts of each category (quick runs).
    #[serde(default)]
    pub limit: Option<usize>,
}

impl Default for Eval {
    fn default() -> Self {
        Eval {
            samples: 8,
            temperature: 0.7,
            curve_samples: 2,
            limit: None,
        }
    }
}

impl PipelineConfig {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the pipeline {}", path.display()))?;
        let cfg: PipelineConfig =
            toml::from_str(&text).with_context(|| format!("in {}", path.display()))?;
        if cfg.rounds.count == 0 || cfg.rounds.prompts == 0 {
            bail!(
                "{}: [rounds] count and prompts must be at least 1",
                path.display()
            );
        }
        if !(2..=9).contains(&cfg.rounds.k) {
            bail!("{}: [rounds] k must be 2…9", path.display());
        }
        Ok(cfg)
    }
}

/// `{batch_size = 16, quiet = true}` → `--batch-size 16 --quiet`.
pub fn flags(section: &str, table: &toml::Table) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for (key, value) in table {
        let flag = format!("--{}", key.replace('_', "-"));
        match value {
            toml::Value::Boolean(true) => out.push(flag),
            toml::Value::Boolean(false) => {}
            toml::Value::String(s) => out.extend([flag, s.clone()]),
            toml::Value::Integer(i) => out.extend([flag, i.to_string()]),
            toml::Value::Float(f) => out.extend([flag, f.to_string()]),
            toml::Value::Array(items) => {
                out.push(flag);
                for item in items {
                    match item {
                        toml::Value::String(s) => out.push(s.clone()),
                        toml::Value::Integer(i) => out.push(i.to_string()),
                        toml::Value::Float(f) => out.push(f.to_string()),
                        _ => bail!("[{section}] {key}: list items must be strings or numbers"),
                    }
                }
            }
            _ => bail!("[{section}] {key}: expected a string, number, boolean or list"),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_follow_clap_spelling() {
        let t: toml::Table = toml::from_str(
            "batch_size = 16\nlr = 3e-5\nquiet = true\nresume = false\nname = \"x\"",
        )
        .unwrap();
        let f = flags("s", &t).unwrap();
        let joined = f.join(" ");
        assert!(joined.contains("--batch-size 16"), "{joined}");
        assert!(joined.contains("--lr 0.00003"), "{joined}");
        assert!(joined.contains("--quiet"), "{joined}");
        assert!(!joined.contains("resume"), "{joined}");
        assert!(joined.contains("--name x"), "{joined}");
    }

    #[test]
    fn the_shipped_pipeline_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/pipelines/assistant.toml");
        let cfg = PipelineConfig::load(&path).unwrap();
        assert_eq!(cfg.rounds.count, 2);
        assert!(cfg.dpo.is_some());
    }
}
