//! Simulated policy samples: K responses per prompt with a spread of qualities, for
//! exercising and calibrating the annotator before any model exists.

use serde::Serialize;

use super::gold::Category;
use super::prompts::{choose, weighted, Item, Split, World};
use super::templates::{REFUSALS, RUDE};
use crate::data::Rng;

/// Response styles and their weights.
const STYLES: &[(&str, u32)] = &[
    ("ideal", 30),
    ("rambling", 10),
    ("wrong", 20),
    ("dont-know", 8),
    ("question", 12),
    ("rude", 8),
    ("rude-short", 5),
    ("unfinished", 10),
    ("refusal", 8),
];

const FILLER: &str = "I hope this helps. There are many interesting things to say about this topic, \
and people often ask about it in many different ways. If you have any other questions, feel free to \
ask me anytime and I will do my best.";

/// One simulated response and whether it ended its turn.
pub fn response(world: &World, item: &Item, rng: &mut Rng) -> (String, bool) {
    let weights: Vec<u32> = STYLES.iter().map(|s| s.1).collect();
    match STYLES[weighted(rng, &weights)].0 {
        "ideal" => (item.ideal.clone(), true),
        "rambling" => (
            format!("Let me think about this. {} {FILLER}", item.ideal),
            true,
        ),
        "wrong" => (item.wrong.clone(), true),
        "dont-know" => ("I don't know.".to_owned(), true),
        "question" => {
            let cat = if item.category == Category::Story {
                Category::Fact
            } else {
                item.category
            };
            (world.item(cat, Split::Train, rng).prompt, true)
        }
        "rude" => (choose(rng, RUDE).to_string(), true),
        "rude-short" => (format!("{} {}", item.short, choose(rng, RUDE)), true),
        "unfinished" => {
            let words: Vec<&str> = item.ideal.split_whitespace().collect();
            let keep = 1 + rng.below(words.len().max(2) - 1);
            (words[..keep].join(" "), false)
        }
        _ => (choose(rng, REFUSALS).to_string(), true),
    }
}

/// An `annotate` input line: a prompt, its gold metadata, and K completions.
#[derive(Serialize)]
pub struct SampleRecord<'a> {
    pub prompt: &'a str,
    pub category: &'a str,
    pub kind: &'a str,
    pub answer: Option<&'a str>,
    pub aliases: &'a [String],
    pub entity: Option<&'a str>,
    pub completions: Vec<String>,
    pub ended: Vec<bool>,
}

/// `n` prompts from `split` with K = 4…9 simulated completions each, as JSONL.
pub fn sample_file(world: &World, rng: &mut Rng, n: usize, split: Split) -> String {
    let mut out = String::new();
    for i in 0..n {
        let cat = Category::ALL[i % Category::ALL.len()];
        let item = world.item(cat, split, rng);
        let k = 4 + rng.below(6);
        let (completions, ended) = (0..k).map(|_| response(world, &item, rng)).unzip();
        let rec = item.record();
        let line = SampleRecord {
            prompt: rec.prompt,
            category: rec.category,
            kind: rec.kind,
            answer: rec.answer,
            aliases: rec.aliases,
            entity: rec.entity,
            completions,
            ended,
        };
        out.push_str(&serde_json::to_string(&line).expect("serializable"));
        out.push('\n');
    }
    out
}
