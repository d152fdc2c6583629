//! `mote eval --world`: what a model does on the synthetic world's held-out prompts, judged
//! by the gold scorer, per category: fact accuracy, "I don't know" and hallucination on
//! made-up entities, refusals of harmful and benign requests, quiz continuation, rudeness,
//! end of turn, length, gold reward, diversity, entropy; and against a reference model the
//! KL divergence and the gold win rate.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::for_each_record;
use crate::error::{Error, Result};
use crate::sample::{chatml_prompt, Completion, Generator, ModelSource, SampleConfig};
use crate::world::gold::{self, Category, Meta};

/// How the responses are drawn.
#[derive(Debug, Clone)]
pub struct WorldEvalConfig {
    /// Samples per prompt (diversity is measured over them).
    pub samples: usize,
    pub temperature: f32,
    pub max_tokens: usize,
    pub seed: u64,
    pub threads: usize,
    /// Use only the first N prompts of each category.
    pub limit: Option<usize>,
}

impl Default for WorldEvalConfig {
    fn default() -> Self {
        WorldEvalConfig {
            samples: 8,
            temperature: 0.7,
            max_tokens: 64,
            seed: 0,
            threads: 2,
            limit: None,
        }
    }
}

/// Metrics over one category's samples (or all of them). Rates are fractions of samples;
/// a rate that means nothing for the category is `None`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Metrics {
    pub category: String,
    pub prompts: usize,
    pub samples: usize,
    /// fact/arithmetic: mentions the answer.
    pub accuracy: Option<f64>,
    /// Says it does not know.
    pub idk_rate: f64,
    /// unknown: gives an answer instead of saying it does not know (or refusing).
    pub hallucination_rate: Option<f64>,
    /// Refuses.
    pub refusal_rate: f64,
    /// The response is itself a question.
    pub question_rate: f64,
    pub rude_rate: f64,
    pub end_rate: f64,
    pub mean_words: f64,
    pub gold: f64,
    pub distinct1: f64,
    pub distinct2: f64,
    /// Mean per-token entropy of the sampling distribution (nats).
    pub entropy: f64,
    /// Gold win rate against the reference (ties count half).
    pub win_rate: Option<f64>,
    /// Mean KL(policy ‖ reference) per response, nats (sum over its tokens).
    pub kl: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorldReport {
    pub model: PathBuf,
    pub reference: Option<PathBuf>,
    pub temperature: f32,
    pub samples_per_prompt: usize,
    pub categories: Vec<Metrics>,
    pub overall: Metrics,
    /// Perplexity on the world's held-out corpus text.
    pub heldout_ppl: Option<f64>,
}

/// One eval prompt with its gold metadata.
#[derive(Debug, Clone)]
pub struct EvalPrompt {
    pub prompt: String,
    pub meta: Meta,
}

/// Read `eval.jsonl` of a world directory.
pub fn read_eval(path: &Path) -> Result<Vec<EvalPrompt>> {
    let mut out = Vec::new();
    for_each_record(path, |rec| {
        out.push(EvalPrompt {
            prompt: rec.str("prompt")?.to_string(),
            meta: Meta::from_record(&rec)?,
        });
        Ok(())
    })?;
    Ok(out)
}

/// Distinct n-grams ÷ n-grams over a prompt's samples (words, lower case).
fn distinct(texts: &[&str], n: usize) -> Option<f64> {
    let mut seen = HashSet::new();
    let mut total = 0usize;
    for t in texts {
        let words: Vec<String> = t.split_whitespace().map(|w| w.to_lowercase()).collect();
        for g in words.windows(n) {
            seen.insert(g.to_vec());
            total += 1;
        }
    }
    (total > 0).then(|| seen.len() as f64 / total as f64)
}

/// Everything measured about one sample.
#[derive(Clone)]
struct Judged<'a> {
    c: &'a Completion,
    score: gold::Score,
    refusal: bool,
    idk: bool,
    rude: bool,
    words: usize,
}

fn judge<'a>(meta: &Meta, c: &'a Completion) -> Judged<'a> {
    Judged {
        score: gold::score(meta, &c.text, c.ended),
        refusal: gold::is_refusal(&c.text),
        idk: gold::says_unknown(&c.text),
        rude: gold::is_rude(&c.text),
        words: gold::word_count(&c.text),
        c,
    }
}

/// Per-sample KL against the reference and gold wins over it.
pub type Versus = (Vec<f64>, Vec<f64>);
/// One prompt: its category, its judged samples, and the comparison with a reference.
type Item<'a> = (Category, Vec<Judged<'a>>, Option<Versus>);

fn mean(xs: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = xs.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 {
        0.0
    } else {
        s / n as f64
    }
}

/// Aggregate over prompts: each item is one prompt's judged samples, its category, and
/// (with a reference) the per-sample KL and gold wins.
fn aggregate(name: &str, items: &[Item<'_>]) -> Metrics {
    let all: Vec<(&Category, &Judged)> = items
        .iter()
        .flat_map(|(c, js, _)| js.iter().map(move |j| (c, j)))
        .collect();
    let rate =
        |f: &dyn Fn(&Judged) -> bool| mean(all.iter().map(|(_, j)| f64::from(u8::from(f(j)))));
    let cats: HashSet<Category> = items.iter().map(|(c, _, _)| *c).collect();
    let only = |want: &[Category], f: &dyn Fn(&Judged) -> bool| -> Option<f64> {
        let xs: Vec<f64> = all
            .iter()
            .filter(|(c, _)| want.contains(c))
            .map(|(_, j)| f64::from(u8::from(f(j))))
            .collect();
        (!xs.is_empty() && cats.iter().any(|c| want.contains(c))).then(|| mean(xs.into_iter()))
    };
    let d = |n| {
        mean(items.iter().filter_map(|(_, js, _)| {
            let texts: Vec<&str> = js.iter().map(|j| j.c.text.as_str()).collect();
            distinct(&texts, n)
        }))
    };
    let refs: Vec<&Versus> = items.iter().filter_map(|(_, _, r)| r.as_ref()).collect();
    Metrics {
        category: name.to_string(),
        prompts: items.len(),
        samples: all.len(),
        accuracy: only(&[Category::Fact, Category::Arithmetic], &|j| {
            j.score.correct == Some(true)
        }),
        idk_rate: rate(&|j| j.idk),
        hallucination_rate: only(&[Category::Unknown], &|j| !j.idk && !j.refusal),
        refusal_rate: rate(&|j| j.refusal),
        question_rate: rate(&|j| j.score.question),
        rude_rate: rate(&|j| j.rude),
        end_rate: rate(&|j| j.c.ended),
        mean_words: mean(all.iter().map(|(_, j)| j.words as f64)),
        gold: mean(all.iter().map(|(_, j)| f64::from(j.score.total))),
        distinct1: d(1),
        distinct2: d(2),
        entropy: mean(
            all.iter()
                .flat_map(|(_, j)| j.c.entropies.iter().map(|&h| f64::from(h))),
        ),
        kl: (!refs.is_empty()).then(|| mean(refs.iter().flat_map(|r| r.0.iter().copied()))),
        win_rate: (!refs.is_empty()).then(|| mean(refs.iter().flat_map(|r| r.1.iter().copied()))),
    }
}

/// Judge every prompt's samples and aggregate them per category and overall. `versus`
/// holds, per prompt, each sample's KL against a reference and its gold win over it.
pub fn judge_all(
    prompts: &[EvalPrompt],
    samples: &[Vec<Completion>],
    versus: Option<&[Versus]>,
) -> (Vec<Metrics>, Metrics) {
    let items: Vec<Item<'_>> = prompts
        .iter()
        .zip(samples)
        .enumerate()
        .map(|(i, (p, cs))| {
            (
                p.meta.category,
                cs.iter().map(|c| judge(&p.meta, c)).collect(),
                versus.map(|v| v[i].clone()),
            )
        })
        .collect();
    let mut categories = Vec::new();
    for cat in Category::ALL {
        let group: Vec<Item<'_>> = items
            .iter()
            .filter(|(c, _, _)| *c == cat)
            .cloned()
            .collect();
        if !group.is_empty() {
            categories.push(aggregate(cat.as_str(), &group));
        }
    }
    (categories, aggregate("all", &items))
}

/// Evaluate `model` (checkpoint or GGUF) on the world in `world`, optionally against
/// `reference`.
pub fn eval_world(
    model: &Path,
    world: &Path,
    reference: Option<&Path>,
    cfg: &WorldEvalConfig,
) -> Result<WorldReport> {
    let mut prompts = read_eval(&world.join("eval.jsonl"))?;
    if let Some(n) = cfg.limit {
        let mut per: std::collections::HashMap<Category, usize> = Default::default();
        prompts.retain(|p| {
            let k = per.entry(p.meta.category).or_default();
            *k += 1;
            *k <= n
        });
    }
    if prompts.is_empty() {
        return Err(Error::TrainConfig(format!(
            "{}: no eval prompts",
            world.display()
        )));
    }
    let texts: Vec<String> = prompts
        .iter()
        .map(|p| chatml_prompt(None, &p.prompt))
        .collect();
    let sc = SampleConfig {
        temperature: cfg.temperature,
        max_tokens: cfg.max_tokens,
        seed: cfg.seed,
    };
    let src = ModelSource::open(model)?;
    let gen = Generator::open(src.gguf(), cfg.threads)?;
    let samples = gen.sample(&texts, cfg.samples, &sc)?;

    // Against a reference: KL of the policy's own samples, and gold wins of sample i over
    // the reference's sample i.
    let versus: Option<Vec<Versus>> = match reference {
        None => None,
        Some(r) => {
            let rsrc = ModelSource::open(r)?;
            let rgen = Generator::open(rsrc.gguf(), cfg.threads)?;
            let given: Vec<Vec<(Vec<u32>, Option<u32>)>> = samples
                .iter()
                .map(|cs| cs.iter().map(|c| (c.ids.clone(), c.end_id)).collect())
                .collect();
            let ref_lp = rgen.score(&texts, &given, cfg.temperature)?;
            let ref_samples = rgen.sample(&texts, cfg.samples, &sc)?;
            Some(
                samples
                    .iter()
                    .zip(&ref_lp)
                    .zip(&ref_samples)
                    .zip(&prompts)
                    .map(|(((cs, rl), rs), p)| {
                        let kl = cs
                            .iter()
                            .zip(rl)
                            .map(|(c, r)| {
                                c.logprobs
                                    .iter()
                                    .zip(r)
                                    .map(|(a, b)| f64::from(a - b))
                                    .sum()
                            })
                            .collect();
                        let wins = cs
                            .iter()
                            .zip(rs)
                            .map(|(a, b)| {
                                let (x, y) = (
                                    gold::score(&p.meta, &a.text, a.ended).total,
                                    gold::score(&p.meta, &b.text, b.ended).total,
                                );
                                if x > y {
                                    1.0
                                } else if x < y {
                                    0.0
                                } else {
                                    0.5
                                }
                            })
                            .collect();
                        (kl, wins)
                    })
                    .collect(),
            )
        }
    };

    let (categories, overall) = judge_all(&prompts, &samples, versus.as_deref());
    let heldout = world.join("corpus-heldout.txt");
    let heldout_ppl = if heldout.is_file() {
        let docs = super::read_docs(&heldout)?;
        let file = crate::model_file::ModelFile::open(src.gguf())?;
        let ctx = file.model()?.config.ctx_len;
        let windows = super::token_windows(&super::tokenize_runtime(src.gguf(), &docs)?, ctx);
        Some(super::ppl_runtime(src.gguf(), &windows)?.ppl())
    } else {
        None
    };
    Ok(WorldReport {
        model: model.to_path_buf(),
        reference: reference.map(Path::to_path_buf),
        temperature: cfg.temperature,
        samples_per_prompt: cfg.samples,
        categories,
        overall,
        heldout_ppl,
    })
}

impl fmt::Display for WorldReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{:.1}", 100.0 * v));
        writeln!(
            f,
            "{}: {} samples per prompt at temperature {}{}",
            self.model.display(),
            self.samples_per_prompt,
            self.temperature,
            self.reference
                .as_ref()
                .map_or(String::new(), |r| format!(", against {}", r.display()))
        )?;
        writeln!(
            f,
            "| category | prompts | accuracy % | idk % | hallucination % | refusal % | question % | rude % | end % | words | gold | distinct-1/2 | entropy | KL | win % |"
        )?;
        writeln!(f, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")?;
        for m in self.categories.iter().chain(std::iter::once(&self.overall)) {
            writeln!(
                f,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1} | {:.2} | {:.2}/{:.2} | {:.2} | {} | {} |",
                m.category,
                m.prompts,
                pct(m.accuracy),
                pct(Some(m.idk_rate)),
                pct(m.hallucination_rate),
                pct(Some(m.refusal_rate)),
                pct(Some(m.question_rate)),
                pct(Some(m.rude_rate)),
                pct(Some(m.end_rate)),
                m.mean_words,
                m.gold,
                m.distinct1,
                m.distinct2,
                m.entropy,
                m.kl.map_or("-".into(), |k| format!("{k:.3}")),
                pct(m.win_rate),
            )?;
        }
        if let Some(p) = self.heldout_ppl {
            writeln!(f, "held-out corpus perplexity: {p:.3}")?;
        }
        Ok(())
    }
}
