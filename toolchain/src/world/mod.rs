//! The built-in synthetic assistant world: a pretraining corpus of "internet text",
//! demonstrations of an ideal assistant, PPO prompts, held-out evaluation sets, the gold
//! scoring function and the simulated annotator that labels with it.
//!
//! - [`facts`], [`names`], [`templates`]: what the world knows and how it is worded;
//! - [`prompts`]: prompts with their gold metadata, from the training or held-out side;
//! - [`corpus`], [`demos`], [`samples`]: the generated texts;
//! - [`gold`]: the judge; [`annotate`]: rankings with human-like noise.
//!
//! Training code never calls [`gold`]; it only reads the labels [`annotate`] writes.

pub mod annotate;
pub mod corpus;
pub mod demos;
pub mod facts;
pub mod gold;
pub mod names;
pub mod prompts;
mod readme;
pub mod samples;
pub mod templates;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::checkpoint::atomic::write_bytes;
use crate::data::Rng;
use crate::error::{Error, Result};
use gold::Category;
use prompts::{Split, World};

/// How much to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// For tests: about 100 KB of corpus, a few hundred records; seconds.
    Small,
    /// Enough to pretrain a 1M–15M-parameter model and fine-tune it in about 20 minutes
    /// on two cores: about 2 MB of corpus, a few thousand demonstrations.
    Default,
}

/// Sizes of a scale.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    pub corpus_bytes: usize,
    pub heldout_bytes: usize,
    pub sft: usize,
    pub ppo: usize,
    pub eval_per_category: usize,
    pub annotate_samples: usize,
}

impl Scale {
    pub fn sizes(self) -> Sizes {
        match self {
            Scale::Small => Sizes {
                corpus_bytes: 100_000,
                heldout_bytes: 10_000,
                sft: 200,
                ppo: 120,
                eval_per_category: 20,
                annotate_samples: 60,
            },
            Scale::Default => Sizes {
                corpus_bytes: 2_000_000,
                heldout_bytes: 100_000,
                sft: 4000,
                ppo: 2000,
                eval_per_category: 100,
                annotate_samples: 300,
            },
        }
    }
}

/// The files `synth` writes, in order.
pub const FILES: &[&str] = &[
    "README.md",
    "corpus.txt",
    "corpus-heldout.txt",
    "sft.jsonl",
    "ppo-prompts.jsonl",
    "eval.jsonl",
    "annotate-sample.jsonl",
];

/// What `synth` wrote.
#[derive(Clone, Debug)]
pub struct Report {
    pub dir: PathBuf,
    /// (file name, bytes, records or documents).
    pub files: Vec<(&'static str, u64, usize)>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "wrote {}:", self.dir.display())?;
        for (name, bytes, n) in &self.files {
            writeln!(f, "  {name:<22} {bytes:>9} bytes  {n:>6} records")?;
        }
        Ok(())
    }
}

// Independent generator streams, one per file.
const CORPUS: u64 = 1;
const HELDOUT: u64 = 2;
const SFT: u64 = 3;
const PPO: u64 = 4;
const EVAL: u64 = 5;
const SAMPLES: u64 = 6;

fn jsonl<T: Serialize>(records: impl IntoIterator<Item = T>) -> (String, usize) {
    let mut out = String::new();
    let mut n = 0;
    for r in records {
        out.push_str(&serde_json::to_string(&r).expect("serializable"));
        out.push('\n');
        n += 1;
    }
    (out, n)
}

/// The PPO prompts: training prompts of every category.
pub const PPO_MIX: &[(Category, u32)] = &[
    (Category::Fact, 30),
    (Category::Arithmetic, 15),
    (Category::Unknown, 15),
    (Category::Harmful, 15),
    (Category::Benign, 15),
    (Category::Story, 10),
];

/// Up to `n` distinct held-out prompts of `category`.
pub fn eval_items(
    world: &World,
    rng: &mut Rng,
    category: Category,
    n: usize,
) -> Vec<prompts::Item> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for _ in 0..n * 50 {
        if out.len() == n {
            break;
        }
        let item = world.item(category, Split::Eval, rng);
        if seen.insert(item.prompt.clone()) {
            out.push(item);
        }
    }
    out
}

/// Writes the world into `dir` (created if needed). Same `seed` and `scale`: the same
/// bytes.
pub fn synth(dir: &Path, seed: u64, scale: Scale) -> Result<Report> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let sizes = scale.sizes();
    let world = World::new();
    let mut files: Vec<(&'static str, String, usize)> = Vec::new();

    let corpus = corpus::corpus(&world, &mut Rng::new(&[seed, CORPUS]), sizes.corpus_bytes);
    let docs = corpus.matches("\n\n").count();
    files.push(("corpus.txt", corpus, docs));
    let heldout = corpus::corpus(&world, &mut Rng::new(&[seed, HELDOUT]), sizes.heldout_bytes);
    let docs = heldout.matches("\n\n").count();
    files.push(("corpus-heldout.txt", heldout, docs));

    let (text, n) = jsonl(demos::demos(&world, &mut Rng::new(&[seed, SFT]), sizes.sft));
    files.push(("sft.jsonl", text, n));

    let mut rng = Rng::new(&[seed, PPO]);
    let weights: Vec<u32> = PPO_MIX.iter().map(|m| m.1).collect();
    let ppo: Vec<_> = (0..sizes.ppo)
        .map(|_| {
            world.item(
                PPO_MIX[prompts::weighted(&mut rng, &weights)].0,
                Split::Train,
                &mut rng,
            )
        })
        .collect();
    let (text, n) = jsonl(ppo.iter().map(|i| i.record()));
    files.push(("ppo-prompts.jsonl", text, n));

    let mut rng = Rng::new(&[seed, EVAL]);
    let eval: Vec<_> = Category::ALL
        .iter()
        .flat_map(|&c| eval_items(&world, &mut rng, c, sizes.eval_per_category))
        .collect();
    let (text, n) = jsonl(eval.iter().map(|i| i.record()));
    files.push(("eval.jsonl", text, n));

    let text = samples::sample_file(
        &world,
        &mut Rng::new(&[seed, SAMPLES]),
        sizes.annotate_samples,
        Split::Train,
    );
    let n = text.lines().count();
    files.push(("annotate-sample.jsonl", text, n));

    let readme = readme::readme(seed, scale, &files);
    files.insert(0, ("README.md", readme, 1));

    let mut report = Report {
        dir: dir.to_path_buf(),
        files: Vec::new(),
    };
    for (name, text, n) in files {
        write_bytes(&dir.join(name), text.as_bytes())?;
        report.files.push((name, text.len() as u64, n));
    }
    Ok(report)
}
