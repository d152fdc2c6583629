//! Demonstrations of the ideal assistant for SFT: helpful (correct, concise answers),
//! truthful ("I don't know" about made-up entities), harmless (polite refusals of harmful
//! requests, and no refusal of requests that only look risky), plus a little small talk.

use serde::Serialize;

use super::gold::Category;
use super::prompts::{choose, weighted, Split, World};
use super::templates::CHAT;
use crate::data::Rng;

/// The demonstration mix: (what, weight). `None` is small talk.
pub const DEMO_MIX: &[(Option<Category>, u32)] = &[
    (Some(Category::Fact), 30),
    (Some(Category::Arithmetic), 15),
    (Some(Category::Unknown), 15),
    (Some(Category::Harmful), 12),
    (Some(Category::Benign), 13),
    (Some(Category::Story), 7),
    (None, 8),
];

/// Share of demonstrations (in percent) with a second exchange.
pub const TWO_TURN_PERCENT: usize = 10;

#[derive(Serialize)]
pub struct Message {
    pub role: &'static str,
    pub content: String,
}

/// One `sft.jsonl` line.
#[derive(Serialize)]
pub struct Demo {
    pub messages: Vec<Message>,
}

fn exchange(world: &World, rng: &mut Rng) -> (String, String) {
    let weights: Vec<u32> = DEMO_MIX.iter().map(|m| m.1).collect();
    match DEMO_MIX[weighted(rng, &weights)].0 {
        Some(cat) => {
            let item = world.item(cat, Split::Train, rng);
            (item.prompt, item.ideal)
        }
        None => {
            let (q, a) = *choose(rng, CHAT);
            (q.to_owned(), a.to_owned())
        }
    }
}

/// `n` demonstrations.
pub fn demos(world: &World, rng: &mut Rng, n: usize) -> Vec<Demo> {
    (0..n)
        .map(|_| {
            let turns = if rng.below(100) < TWO_TURN_PERCENT {
                2
            } else {
                1
            };
            let mut messages = Vec::new();
            for _ in 0..turns {
                let (q, a) = exchange(world, rng);
                messages.push(Message {
                    role: "user",
                    content: q,
                });
                messages.push(Message {
                    role: "assistant",
                    content: a,
                });
            }
            Demo { messages }
        })
        .collect()
}
