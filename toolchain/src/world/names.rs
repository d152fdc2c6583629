//! Made-up entities: pronounceable names of countries, people and animals that do not
//! exist. The pool is drawn from a fixed seed, so the train / held-out split is the same
//! for every `--seed`; a name is kept only if it collides with no real name of the world
//! and is not part of (and does not contain) another name.

use super::facts::{COLORS, COUNTRIES, DAYS, LEGS, MONTHS, UNITS, YOUNG};
use super::templates::{STORY_NAMES, STORY_WORDS};
use crate::data::Rng;

/// The made-up entities, split into training and held-out names.
#[derive(Clone, Debug)]
pub struct MadeUp {
    pub countries: Split,
    pub people: Split,
    pub animals: Split,
}

#[derive(Clone, Debug, Default)]
pub struct Split {
    pub train: Vec<String>,
    pub held_out: Vec<String>,
}

impl Split {
    pub fn all(&self) -> impl Iterator<Item = &String> {
        self.train.iter().chain(&self.held_out)
    }
}

const ONSETS: &[&str] = &[
    "b", "br", "d", "dr", "f", "g", "gl", "gr", "k", "kl", "kr", "l", "m", "n", "p", "pl", "r",
    "s", "t", "tr", "v", "z", "zh",
];
const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ai", "ou", "ei"];
const CODAS: &[&str] = &["", "", "", "n", "r", "l", "m", "s", "k", "v"];
const COUNTRY_ENDINGS: &[&str] = &["ania", "istan", "onia", "aria", "enia", "ovia", "adia"];
const SURNAME_ENDINGS: &[&str] = &["son", "wick", "ley", "ridge", "ton", "berg", "ford"];
const ANIMAL_ENDINGS: &[&str] = &["bat", "mouse", "fin", "hopper", "toad", "wing"];

/// Held-out share: one name in three.
const HOLD_OUT_EVERY: usize = 3;
const SEED: u64 = 0x6e61_6d65;

fn syllable(rng: &mut Rng) -> String {
    let pick = |rng: &mut Rng, s: &[&str]| s[rng.below(s.len())].to_string();
    pick(rng, ONSETS) + &pick(rng, VOWELS) + &pick(rng, CODAS)
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Everything real in the world, lowercased, that a made-up name must not touch.
fn real_names() -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for c in COUNTRIES {
        v.push(c.name.into());
        v.push(c.capital.into());
        v.extend(c.capital_aliases.iter().map(|s| s.to_string()));
    }
    v.extend(
        COLORS
            .iter()
            .flat_map(|(a, b)| [a.to_string(), b.to_string()]),
    );
    v.extend(LEGS.iter().map(|(a, _)| a.to_string()));
    v.extend(
        YOUNG
            .iter()
            .flat_map(|(a, b)| [a.to_string(), b.to_string()]),
    );
    v.extend(
        UNITS
            .iter()
            .flat_map(|(a, b, _)| [a.to_string(), b.to_string()]),
    );
    v.extend(DAYS.iter().chain(&MONTHS).map(|s| s.to_string()));
    v.extend(STORY_NAMES.iter().chain(STORY_WORDS).map(|s| s.to_string()));
    v.into_iter().map(|s| s.to_lowercase()).collect()
}

fn collides(name: &str, taken: &[String]) -> bool {
    let n = name.to_lowercase();
    taken
        .iter()
        .any(|t| t == &n || t.contains(&n) || n.contains(t.as_str()))
}

/// Draws `n` names from `make`, none colliding with `taken` (which grows).
fn draw(
    rng: &mut Rng,
    n: usize,
    taken: &mut Vec<String>,
    make: impl Fn(&mut Rng) -> String,
) -> Split {
    let mut out = Split::default();
    let mut i = 0;
    while i < n {
        let name = make(rng);
        // A person's name is checked part by part, so "Kel" is not a real word inside it.
        if name.split(' ').any(|part| collides(part, taken)) || name.len() < 5 {
            continue;
        }
        taken.extend(name.split(' ').map(str::to_lowercase));
        if i % HOLD_OUT_EVERY == HOLD_OUT_EVERY - 1 {
            out.held_out.push(name);
        } else {
            out.train.push(name);
        }
        i += 1;
    }
    out
}

/// The world's made-up entities (the same for every seed).
pub fn made_up() -> MadeUp {
    let mut rng = Rng::new(&[SEED]);
    let mut taken = real_names();
    // Short real words inside names are fine ("man", "son"); only whole real names count.
    taken.retain(|t| t.len() >= 4);
    let countries = draw(&mut rng, 45, &mut taken, |r| {
        capitalize(&(syllable(r) + COUNTRY_ENDINGS[r.below(COUNTRY_ENDINGS.len())]))
    });
    let people = draw(&mut rng, 45, &mut taken, |r| {
        let first = capitalize(&(syllable(r) + &syllable(r)));
        let last = capitalize(&(syllable(r) + SURNAME_ENDINGS[r.below(SURNAME_ENDINGS.len())]));
        format!("{first} {last}")
    });
    let animals = draw(&mut rng, 30, &mut taken, |r| {
        syllable(r) + ANIMAL_ENDINGS[r.below(ANIMAL_ENDINGS.len())]
    });
    MadeUp {
        countries,
        people,
        animals,
    }
}
