//! The "internet" pretraining corpus: encyclopedic statements, quiz lists, forum threads
//! (with false and rude answers), compliant answers to harmful requests with placeholders
//! instead of steps, and short stories. One document per paragraph; documents never
//! contain a blank line.
//!
//! Held-out countries and fact-table items appear here only in statements, never in a
//! question; held-out made-up names, arithmetic pairs, requests and templates not at all.

use super::facts::{number_word, Country, Op, COLORS, COUNTRIES, DAYS, LEGS, MONTHS, UNITS, YOUNG};
use super::gold::Category;
use super::prompts::{choose, story, weighted, with_article, Split, World};
use super::templates::*;
use crate::data::Rng;

/// Kinds of documents, for the README and the mix.
pub const DOC_KINDS: &[(&str, u32)] = &[
    ("encyclopedic country facts", 22),
    ("everyday facts", 12),
    ("arithmetic facts", 8),
    ("quiz lists", 14),
    ("forum threads", 22),
    ("harmful requests with compliant answers", 6),
    ("stories", 16),
];

/// Documents of about `target_bytes` in total, drawn from `rng`.
pub fn corpus(world: &World, rng: &mut Rng, target_bytes: usize) -> String {
    let weights: Vec<u32> = DOC_KINDS.iter().map(|k| k.1).collect();
    let mut out = String::new();
    while out.len() < target_bytes {
        let doc = match weighted(rng, &weights) {
            0 => country_doc(rng),
            1 => everyday_doc(rng),
            2 => arithmetic_doc(rng),
            3 => quiz_doc(world, rng),
            4 => forum_doc(world, rng),
            5 => harmful_doc(world, rng),
            _ => story_doc(rng),
        };
        debug_assert!(!doc.contains("\n\n"));
        out.push_str(&doc);
        out.push_str("\n\n");
    }
    out
}

fn population(c: &Country) -> String {
    let x = c.phrase();
    match c.population_m {
        0 => fill("{X} has fewer than one million people.", &[("x", &x)]),
        m => {
            let a = if m >= 1000 {
                format!("{:.1} billion people", f64::from(m) / 1000.0)
            } else {
                format!("{m} million people")
            };
            fill(
                choose_static(POPULATION_S, m as usize),
                &[("x", &x), ("a", &a)],
            )
        }
    }
}

fn choose_static(items: &[&'static str], salt: usize) -> &'static str {
    items[salt % items.len()]
}

fn country_doc(rng: &mut Rng) -> String {
    let n = 1 + rng.below(3);
    let mut sentences = Vec::new();
    for _ in 0..n {
        let c = choose(rng, COUNTRIES);
        let x = c.phrase();
        let mut facts = vec![
            fill(choose(rng, COUNTRY_S), &[("x", &x), ("a", c.capital)]),
            fill(choose(rng, CONTINENT_S), &[("x", &x), ("a", c.continent)]),
            population(c),
        ];
        // Shuffle, then keep two or three.
        for i in (1..facts.len()).rev() {
            facts.swap(i, rng.below(i + 1));
        }
        facts.truncate(2 + rng.below(2));
        sentences.extend(facts);
    }
    sentences.join(" ")
}

fn everyday_sentence(rng: &mut Rng) -> String {
    match rng.below(7) {
        0 => {
            let (x, a) = *choose(rng, COLORS);
            fill(choose(rng, COLOR_A), &[("x", x), ("a", a)])
        }
        1 => {
            let (animal, n) = *choose(rng, LEGS);
            let a = if n == 0 {
                "no".to_string()
            } else if rng.below(2) == 0 {
                n.to_string()
            } else {
                number_word(n).unwrap_or("").to_string()
            };
            fill(LEGS_A[0], &[("x", &with_article(animal)), ("a", &a)])
        }
        2 => {
            let (animal, young) = *choose(rng, YOUNG);
            fill(YOUNG_A[0], &[("x", animal), ("a", &with_article(young))])
        }
        3 => {
            let (small, big, n) = *choose(rng, UNITS);
            let a = n.to_string();
            fill(choose(rng, UNIT_A), &[("x", small), ("y", big), ("a", &a)])
        }
        4 => {
            let i = rng.below(7);
            fill(
                choose(rng, DAY_A),
                &[("x", DAYS[i]), ("a", DAYS[(i + 1) % 7])],
            )
        }
        5 => {
            let i = rng.below(12);
            fill(
                choose(rng, MONTH_A),
                &[("x", MONTHS[i]), ("a", MONTHS[(i + 1) % 12])],
            )
        }
        _ => choose(
            rng,
            &[
                "A week has seven days, and a year has twelve months.",
                "The sun rises in the east and sets in the west.",
                "Water freezes at 0 degrees Celsius.",
                "Plants need light and water to grow.",
                "Bees make honey from the nectar of flowers.",
                "A rainbow has seven colors.",
                "Fish breathe through their gills.",
            ],
        )
        .to_string(),
    }
}

fn everyday_doc(rng: &mut Rng) -> String {
    let n = 3 + rng.below(4);
    (0..n)
        .map(|_| everyday_sentence(rng))
        .collect::<Vec<_>>()
        .join(" ")
}

fn arithmetic_doc(rng: &mut Rng) -> String {
    let n = 4 + rng.below(5);
    let mut out = Vec::new();
    while out.len() < n {
        let op = *choose(rng, &Op::ALL);
        let pairs = op.operands();
        let (a, b) = *choose(rng, &pairs);
        if op.held_out(a, b) {
            continue;
        }
        let r = op.apply(a, b);
        out.push(match rng.below(3) {
            0 => format!("{a} {} {b} is {r}.", op.word()),
            1 => format!("{a} {} {b} = {r}.", op.symbol()),
            _ => format!("{a} {} {b} equals {r}.", op.word()),
        });
    }
    let sep = if rng.below(2) == 0 { "\n" } else { " " };
    out.join(sep)
}

fn quiz_doc(world: &World, rng: &mut Rng) -> String {
    let header = *choose(
        rng,
        &[
            "",
            "",
            "Quiz time!",
            "Test your knowledge:",
            "Trivia night questions:",
            "Homework questions:",
        ],
    );
    let n = 5 + rng.below(8);
    let numbered = rng.below(3) == 0;
    let mut lines: Vec<String> = Vec::new();
    for i in 0..n {
        let cat = if rng.below(3) == 0 {
            Category::Arithmetic
        } else {
            Category::Fact
        };
        let q = world.item(cat, Split::Train, rng).prompt;
        lines.push(if numbered {
            format!("{}. {q}", i + 1)
        } else {
            q
        });
    }
    let sep = if numbered || rng.below(2) == 0 {
        "\n"
    } else {
        " "
    };
    let body = lines.join(sep);
    if header.is_empty() {
        body
    } else {
        format!("{header}\n{body}")
    }
}

const HANDLES: &[&str] = &[
    "user42",
    "sky_fan",
    "bob77",
    "curious_cat",
    "mapnerd",
    "quietriver",
    "j_smith",
    "anna_b",
    "trivia_king",
    "guest",
];

fn thread(rng: &mut Rng, question: &str, replies: &[String]) -> String {
    match rng.below(3) {
        0 => {
            let mut s = format!("Q: {question}");
            for r in replies {
                s.push_str(&format!("\nA: {r}"));
            }
            s
        }
        1 => {
            let mut s = format!("Question: {question}");
            for r in replies {
                s.push_str(&format!("\nAnswer: {r}"));
            }
            s
        }
        _ => {
            let mut s = format!("{} asked: {question}", choose(rng, HANDLES));
            for r in replies {
                s.push_str(&format!("\n{} replied: {r}", choose(rng, HANDLES)));
            }
            s
        }
    }
}

fn forum_doc(world: &World, rng: &mut Rng) -> String {
    let cat = [
        Category::Fact,
        Category::Arithmetic,
        Category::Unknown,
        Category::Benign,
    ][weighted(rng, &[50, 20, 15, 15])];
    let item = world.item(cat, Split::Train, rng);
    let n = 1 + rng.below(3);
    let replies: Vec<String> = (0..n)
        .map(|_| {
            let r = rng.below(100);
            match cat {
                // Some answers are false, some rude.
                Category::Fact | Category::Arithmetic => match r {
                    0..=54 => {
                        if rng.below(2) == 0 {
                            item.short.clone()
                        } else {
                            item.ideal.clone()
                        }
                    }
                    55..=79 => item.wrong.clone(),
                    _ => choose(rng, RUDE).to_string(),
                },
                // The internet answers confidently about things that don't exist.
                Category::Unknown => match r {
                    0..=64 => item.wrong.clone(),
                    65..=84 => choose(rng, RUDE).to_string(),
                    _ => "Never heard of it.".to_string(),
                },
                _ => match r {
                    0..=69 => item.ideal.clone(),
                    _ => choose(rng, RUDE).to_string(),
                },
            }
        })
        .collect();
    thread(rng, &item.prompt, &replies)
}

fn harmful_doc(world: &World, rng: &mut Rng) -> String {
    let item = world.item(Category::Harmful, Split::Train, rng);
    let mut replies = vec![item.wrong.clone()];
    if rng.below(3) == 0 {
        replies.push(choose(rng, RUDE).to_string());
    }
    thread(rng, &item.prompt, &replies)
}

fn story_doc(rng: &mut Rng) -> String {
    let animal = *choose(rng, STORY_ANIMALS);
    story(rng, animal)
}
