//! The simulated annotator: ranks K completions of a prompt by their gold totals with
//! Plackett–Luce noise, like a person who mostly, not always, prefers the better answer.
//!
//! A ranking is drawn by adding independent Gumbel(0, `noise`) noise to each gold total
//! and sorting, which samples the Plackett–Luce order with probabilities ∝
//! exp(score / noise). Two completions with gold totals differing by d are then ordered
//! correctly with probability σ(d / noise), so two independent annotators agree on the
//! pair with probability σ² + (1 − σ)². [`DEFAULT_NOISE`] is set so that they agree on
//! about 75% of the pairs with distinct gold totals of a realistic sample file
//! (measured by [`agreement`]).

use std::path::Path;

use serde::Serialize;

use super::gold::{score, Meta};
use crate::data::{for_each_record, Rng};
use crate::error::Result;

/// Gumbel scale, in gold-total units.
pub const DEFAULT_NOISE: f32 = 1.1;

/// Completions per prompt accepted (the rankings format's K).
pub const MIN_K: usize = 2;
pub const MAX_K: usize = 9;

/// One input line.
#[derive(Clone, Debug)]
pub struct Sample {
    pub prompt: String,
    pub meta: Meta,
    pub completions: Vec<String>,
    pub ended: Vec<bool>,
}

/// One output line: the rankings format (best … worst indices); no gold metadata.
#[derive(Clone, Debug, Serialize)]
pub struct Ranking {
    pub prompt: String,
    pub completions: Vec<String>,
    pub ranking: Vec<usize>,
}

/// Reads `{"prompt", category, answer, aliases, entity, "completions", "ended"?}` lines.
pub fn read_samples(path: &Path) -> Result<Vec<Sample>> {
    let mut out = Vec::new();
    for_each_record(path, |rec| {
        let prompt = rec.str("prompt")?.to_owned();
        let meta = Meta::from_record(&rec)?;
        let values = rec.array("completions")?;
        if !(MIN_K..=MAX_K).contains(&values.len()) {
            return Err(rec.error(
                "completions",
                format!("{} completions; expected {MIN_K} to {MAX_K}", values.len()),
            ));
        }
        let completions = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                rec.as_str(v, &format!("completions[{i}]"))
                    .map(str::to_owned)
            })
            .collect::<Result<Vec<_>>>()?;
        let ended = if rec.has("ended") {
            let flags = rec.array("ended")?;
            if flags.len() != completions.len() {
                return Err(rec.error(
                    "ended",
                    format!(
                        "{} flags for {} completions",
                        flags.len(),
                        completions.len()
                    ),
                ));
            }
            flags
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    v.as_bool().ok_or_else(|| {
                        rec.error(
                            &format!("ended[{i}]"),
                            format!("expected a boolean, found {v}"),
                        )
                    })
                })
                .collect::<Result<Vec<_>>>()?
        } else {
            vec![true; completions.len()]
        };
        out.push(Sample {
            prompt,
            meta,
            completions,
            ended,
        });
        Ok(())
    })?;
    Ok(out)
}

/// The gold totals of a sample's completions.
pub fn gold_totals(s: &Sample) -> Vec<f32> {
    s.completions
        .iter()
        .zip(&s.ended)
        .map(|(c, &e)| score(&s.meta, c, e).total)
        .collect()
}

/// A standard Gumbel variate.
fn gumbel(rng: &mut Rng) -> f64 {
    // Uniform in (0, 1), never 0 or 1.
    let u = ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    -(-u.ln()).ln()
}

/// Indices of `scores`, best first, as one noisy annotator orders them.
pub fn rank(scores: &[f32], noise: f32, rng: &mut Rng) -> Vec<usize> {
    let keys: Vec<f64> = scores
        .iter()
        .map(|&s| f64::from(s) + f64::from(noise) * gumbel(rng))
        .collect();
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| keys[b].total_cmp(&keys[a]).then(a.cmp(&b)));
    order
}

/// The rankings of annotator `seed`. Each sample gets its own stream (seed, line), so a
/// sample's ranking does not depend on the others.
pub fn annotate(samples: &[Sample], seed: u64, noise: f32) -> Vec<Ranking> {
    samples
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut rng = Rng::new(&[seed, i as u64]);
            Ranking {
                prompt: s.prompt.clone(),
                completions: s.completions.clone(),
                ranking: rank(&gold_totals(s), noise, &mut rng),
            }
        })
        .collect()
}

/// One place of a ranking with ties: a completion, or several judged equally good.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Rank {
    One(usize),
    Tie(Vec<usize>),
}

/// One output line of an annotator who may tie (the rankings format, ties as inner arrays).
#[derive(Clone, Debug, Serialize)]
pub struct TiedRanking {
    pub prompt: String,
    pub completions: Vec<String>,
    pub ranking: Vec<Rank>,
}

/// The rankings of annotator `seed` when equally good completions may be tied: completions
/// with equal gold totals form one place, and the places are ordered with the same Gumbel
/// noise as [`annotate`] (one draw per place). A sample whose completions are all equally
/// good says nothing about preferences and gets no line.
pub fn annotate_with_ties(samples: &[Sample], seed: u64, noise: f32) -> Vec<TiedRanking> {
    let mut out = Vec::new();
    for (i, s) in samples.iter().enumerate() {
        let mut rng = Rng::new(&[seed, i as u64]);
        let totals = gold_totals(s);
        let mut levels: Vec<f32> = Vec::new();
        for &t in &totals {
            if !levels.contains(&t) {
                levels.push(t);
            }
        }
        if levels.len() < 2 {
            continue;
        }
        let ranking = rank(&levels, noise, &mut rng)
            .into_iter()
            .map(|l| {
                let members: Vec<usize> = (0..totals.len())
                    .filter(|&j| totals[j] == levels[l])
                    .collect();
                match members.as_slice() {
                    [one] => Rank::One(*one),
                    _ => Rank::Tie(members),
                }
            })
            .collect();
        out.push(TiedRanking {
            prompt: s.prompt.clone(),
            completions: s.completions.clone(),
            ranking,
        });
    }
    out
}

/// Rankings (with or without ties) as JSONL.
pub fn to_jsonl<T: Serialize>(rankings: &[T]) -> String {
    let mut out = String::new();
    for r in rankings {
        out.push_str(&serde_json::to_string(r).expect("serializable"));
        out.push('\n');
    }
    out
}

/// Pairwise agreement of two annotators over the pairs with distinct gold totals.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Agreement {
    pub agree: usize,
    pub pairs: usize,
    /// Over every pair, gold ties included (which annotators order at random): the
    /// ceiling for a reward model's accuracy on one annotator's labels.
    pub agree_all: usize,
    pub pairs_all: usize,
    /// Of the same pairs, how many each annotator ordered as the gold totals do.
    pub gold_a: usize,
    pub gold_b: usize,
    /// The agreement rate expected from the noise model, σ² + (1 − σ)² with
    /// σ = logistic(d / noise) averaged over the pairs (no sampling error).
    pub expected: f64,
}

impl Agreement {
    pub fn rate(&self) -> f64 {
        self.agree as f64 / self.pairs.max(1) as f64
    }

    pub fn rate_all(&self) -> f64 {
        self.agree_all as f64 / self.pairs_all.max(1) as f64
    }
}

/// Ranks `samples` as annotators `seed_a` and `seed_b` and compares them pair by pair.
pub fn agreement(samples: &[Sample], seed_a: u64, seed_b: u64, noise: f32) -> Agreement {
    let (ra, rb) = (
        annotate(samples, seed_a, noise),
        annotate(samples, seed_b, noise),
    );
    let mut out = Agreement {
        agree: 0,
        pairs: 0,
        agree_all: 0,
        pairs_all: 0,
        gold_a: 0,
        gold_b: 0,
        expected: 0.0,
    };
    let mut expected = 0.0;
    for ((s, a), b) in samples.iter().zip(&ra).zip(&rb) {
        let gold = gold_totals(s);
        let pos = |r: &[usize]| {
            let mut p = vec![0; r.len()];
            r.iter().enumerate().for_each(|(rank, &i)| p[i] = rank);
            p
        };
        let (pa, pb) = (pos(&a.ranking), pos(&b.ranking));
        for i in 0..gold.len() {
            for j in i + 1..gold.len() {
                out.pairs_all += 1;
                out.agree_all += usize::from((pa[i] < pa[j]) == (pb[i] < pb[j]));
                if gold[i] == gold[j] {
                    continue;
                }
                out.pairs += 1;
                let gold_first = gold[i] > gold[j];
                let (a_first, b_first) = (pa[i] < pa[j], pb[i] < pb[j]);
                out.agree += usize::from(a_first == b_first);
                out.gold_a += usize::from(a_first == gold_first);
                out.gold_b += usize::from(b_first == gold_first);
                let p = if noise > 0.0 {
                    1.0 / (1.0 + (-f64::from((gold[i] - gold[j]).abs() / noise)).exp())
                } else {
                    1.0
                };
                expected += p * p + (1.0 - p) * (1.0 - p);
            }
        }
    }
    out.expected = expected / out.pairs.max(1) as f64;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::gold::Category;

    fn sample(completions: &[&str]) -> Sample {
        Sample {
            prompt: "What is the capital of France?".into(),
            meta: Meta {
                category: Category::Fact,
                answer: Some("Paris".into()),
                aliases: vec![],
                entity: Some("France".into()),
            },
            completions: completions.iter().map(|c| c.to_string()).collect(),
            ended: vec![true; completions.len()],
        }
    }

    #[test]
    fn equally_good_completions_are_tied_and_all_tied_prompts_dropped() {
        let s = vec![
            sample(&[
                "Paris.",
                "It is Rome.",
                "It is Berlin.",
                "The capital is Paris.",
            ]),
            sample(&["Rome.", "Berlin."]),
        ];
        // Noise 0: the places follow the gold order exactly.
        let r = annotate_with_ties(&s, 7, 0.0);
        assert_eq!(r.len(), 1, "the all-wrong sample says nothing");
        assert_eq!(
            r[0].ranking,
            vec![Rank::Tie(vec![0, 3]), Rank::Tie(vec![1, 2])]
        );
        let line = to_jsonl(&r);
        assert!(line.contains(r#""ranking":[[0,3],[1,2]]"#), "{line}");
    }
}
