//! Prompts with everything known about them: the text, the gold metadata, the ideal
//! assistant's answer, and a confident wrong answer of the kind the internet gives.
//!
//! A training prompt uses a training entity and a training template. An evaluation
//! prompt uses a held-out entity (with any template) or a held-out template (with any
//! entity), so no evaluation prompt is ever a training prompt.

use serde::Serialize;

use super::facts::{
    number_word, small_held_out, Country, Op, COLORS, COUNTRIES, DAYS, LEGS, MONTHS, UNITS, YOUNG,
};
use super::gold::Category;
use super::names::{made_up, MadeUp, Split as NameSplit};
use super::templates::*;
use crate::data::Rng;

/// Which side of the train / evaluation split a prompt is drawn from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    Train,
    Eval,
}

/// A prompt and what the world knows about it.
#[derive(Clone, Debug)]
pub struct Item {
    pub category: Category,
    /// Finer than the category: `capital`, `plus`, `made-up-country`, …
    pub kind: &'static str,
    pub prompt: String,
    pub answer: Option<String>,
    pub aliases: Vec<String>,
    pub entity: Option<String>,
    /// The ideal assistant's response.
    pub ideal: String,
    /// A confident bad response: a wrong answer, a hallucination, compliance with a
    /// harmful request, or a refusal of a benign one.
    pub wrong: String,
    /// The bare answer as a forum reply gives it ("Paris.").
    pub short: String,
}

/// A prompt record as written to `ppo-prompts.jsonl` and `eval.jsonl`.
#[derive(Serialize)]
pub struct PromptRecord<'a> {
    pub prompt: &'a str,
    pub category: &'a str,
    pub kind: &'a str,
    pub answer: Option<&'a str>,
    pub aliases: &'a [String],
    pub entity: Option<&'a str>,
}

impl Item {
    pub fn record(&self) -> PromptRecord<'_> {
        PromptRecord {
            prompt: &self.prompt,
            category: self.category.as_str(),
            kind: self.kind,
            answer: self.answer.as_deref(),
            aliases: &self.aliases,
            entity: self.entity.as_deref(),
        }
    }
}

pub fn choose<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
    &items[rng.below(items.len())]
}

/// Index of a weighted choice.
pub fn weighted(rng: &mut Rng, weights: &[u32]) -> usize {
    let mut r = rng.below(weights.iter().sum::<u32>() as usize) as u32;
    for (i, &w) in weights.iter().enumerate() {
        if r < w {
            return i;
        }
        r -= w;
    }
    weights.len() - 1
}

/// An entity index and a template for `split`; `held(i)` says whether entity `i` is
/// held out.
fn select(
    rng: &mut Rng,
    n: usize,
    held: &dyn Fn(usize) -> bool,
    t: &Templates,
    split: Split,
) -> (usize, &'static str) {
    let draw = |rng: &mut Rng, want_held: Option<bool>| loop {
        let i = rng.below(n);
        if want_held.is_none_or(|h| held(i) == h) {
            return i;
        }
    };
    match split {
        Split::Train => (draw(rng, Some(false)), *choose(rng, t.train)),
        Split::Eval => {
            if (0..n).any(held) && rng.below(2) == 0 {
                let i = draw(rng, Some(true));
                let k = rng.below(t.train.len() + t.held_out.len());
                let tpl = t
                    .train
                    .get(k)
                    .unwrap_or_else(|| &t.held_out[k - t.train.len()]);
                (i, tpl)
            } else {
                (draw(rng, None), *choose(rng, t.held_out))
            }
        }
    }
}

fn other<'a>(rng: &mut Rng, items: &[&'a str], not: &str) -> &'a str {
    loop {
        let s = *choose(rng, items);
        if s != not {
            return s;
        }
    }
}

const CONTINENTS: &[&str] = &[
    "Europe",
    "Asia",
    "Africa",
    "North America",
    "South America",
    "Oceania",
];
const JOBS: &[&str] = &[
    "painter",
    "singer",
    "scientist",
    "football player",
    "writer",
    "chef",
];

/// A country outside the held-out set: wrong answers name only these, so held-out
/// countries and capitals occur in training text only in true statements.
fn train_country(rng: &mut Rng) -> &'static Country {
    loop {
        let c = choose(rng, COUNTRIES);
        if !c.held_out {
            return c;
        }
    }
}

/// A number as an answer: digits, with the word as an alias when there is one.
fn number_answer(n: u32) -> (String, Vec<String>) {
    (
        n.to_string(),
        number_word(n).map(str::to_owned).into_iter().collect(),
    )
}

/// "an owl", "a cat".
pub fn with_article(word: &str) -> String {
    format!("{} {word}", article(word))
}

/// The world's prompt generator.
pub struct World {
    pub made_up: MadeUp,
}

impl Default for World {
    fn default() -> Self {
        World::new()
    }
}

impl World {
    pub fn new() -> World {
        World { made_up: made_up() }
    }

    /// A prompt of `category` from `split`.
    pub fn item(&self, category: Category, split: Split, rng: &mut Rng) -> Item {
        match category {
            Category::Fact => fact(rng, split),
            Category::Arithmetic => arithmetic(rng, split),
            Category::Unknown => self.unknown(rng, split),
            Category::Harmful => harmful(rng, split),
            Category::Benign => benign(rng, split),
            Category::Story => story_item(rng, split),
        }
    }

    fn unknown(&self, rng: &mut Rng, split: Split) -> Item {
        let pool = |s: &NameSplit| -> Vec<String> { s.all().cloned().collect() };
        let held_of = |s: &NameSplit| {
            let n = s.train.len();
            move |i: usize| i >= n
        };
        let mk = |kind, prompt: String, name: &str, ideal: String, wrong: String| Item {
            category: Category::Unknown,
            kind,
            prompt,
            answer: None,
            aliases: vec![],
            entity: Some(name.to_owned()),
            short: ideal.clone(),
            ideal,
            wrong,
        };
        match weighted(rng, &[5, 3, 2]) {
            0 => {
                let names = pool(&self.made_up.countries);
                let capital = rng.below(2) == 0;
                let t = if capital { CAPITAL_Q } else { CONTINENT_Q };
                let (i, tpl) = select(
                    rng,
                    names.len(),
                    &held_of(&self.made_up.countries),
                    &t,
                    split,
                );
                let x = &names[i];
                let ideal = fill(choose(rng, UNKNOWN_COUNTRY_A), &[("x", x)]);
                let wrong = if capital {
                    let a = train_country(rng).capital;
                    fill(choose(rng, CAPITAL_A), &[("x", x), ("a", a)])
                } else {
                    fill(
                        choose(rng, CONTINENT_A),
                        &[("x", x), ("a", *choose(rng, CONTINENTS))],
                    )
                };
                mk("made-up-country", fill(tpl, &[("x", x)]), x, ideal, wrong)
            }
            1 => {
                let names = pool(&self.made_up.people);
                let (i, tpl) = select(
                    rng,
                    names.len(),
                    &held_of(&self.made_up.people),
                    &PERSON_Q,
                    split,
                );
                let x = &names[i];
                let ideal = fill(choose(rng, UNKNOWN_PERSON_A), &[("x", x)]);
                let from = train_country(rng).phrase();
                let wrong = format!("{x} is a famous {} from {from}.", choose(rng, JOBS));
                mk("made-up-person", fill(tpl, &[("x", x)]), x, ideal, wrong)
            }
            _ => {
                let names = pool(&self.made_up.animals);
                let legs = rng.below(2) == 0;
                let t = if legs { LEGS_Q } else { COLOR_Q };
                let (i, tpl) = select(rng, names.len(), &held_of(&self.made_up.animals), &t, split);
                let x = with_article(&names[i]);
                let ideal = fill(choose(rng, UNKNOWN_ANIMAL_A), &[("x", &x)]);
                let wrong = if legs {
                    fill(
                        LEGS_A[0],
                        &[("x", &x), ("a", *choose(rng, &["two", "four", "six"]))],
                    )
                } else {
                    fill(
                        COLOR_A[0],
                        &[("x", &x), ("a", COLORS[rng.below(COLORS.len())].1)],
                    )
                };
                mk(
                    "made-up-animal",
                    fill(tpl, &[("x", &x)]),
                    &names[i],
                    ideal,
                    wrong,
                )
            }
        }
    }
}

fn fact_item(
    kind: &'static str,
    prompt: String,
    answer: &str,
    aliases: Vec<String>,
    entity: &str,
    ideal: String,
    wrong: String,
) -> Item {
    Item {
        category: Category::Fact,
        kind,
        prompt,
        short: format!("{answer}."),
        answer: Some(answer.to_owned()),
        aliases,
        entity: Some(entity.to_owned()),
        ideal,
        wrong,
    }
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn fact(rng: &mut Rng, split: Split) -> Item {
    let no_held = |_: usize| false;
    match weighted(rng, &[35, 15, 10, 10, 10, 10, 5, 5]) {
        0 => {
            let (i, tpl) = select(
                rng,
                COUNTRIES.len(),
                &|i| COUNTRIES[i].held_out,
                &CAPITAL_Q,
                split,
            );
            let c = &COUNTRIES[i];
            let x = c.phrase();
            let capitals: Vec<&str> = COUNTRIES
                .iter()
                .filter(|c| !c.held_out)
                .map(|c| c.capital)
                .collect();
            let w = other(rng, &capitals, c.capital);
            let a_tpl = choose(rng, CAPITAL_A);
            fact_item(
                "capital",
                fill(tpl, &[("x", &x)]),
                c.capital,
                strs(c.capital_aliases),
                c.name,
                fill(a_tpl, &[("x", &x), ("a", c.capital)]),
                fill(a_tpl, &[("x", &x), ("a", w)]),
            )
        }
        1 => {
            let (i, tpl) = select(
                rng,
                COUNTRIES.len(),
                &|i| COUNTRIES[i].held_out,
                &CONTINENT_Q,
                split,
            );
            let c = &COUNTRIES[i];
            let x = c.phrase();
            let w = loop {
                let w = other(rng, CONTINENTS, c.continent);
                if !c.continent_aliases.contains(&w) {
                    break w;
                }
            };
            let a_tpl = choose(rng, CONTINENT_A);
            fact_item(
                "continent",
                fill(tpl, &[("x", &x)]),
                c.continent,
                strs(c.continent_aliases),
                c.name,
                fill(a_tpl, &[("x", &x), ("a", c.continent)]),
                fill(a_tpl, &[("x", &x), ("a", w)]),
            )
        }
        2 => {
            let (i, tpl) = select(rng, COLORS.len(), &small_held_out, &COLOR_Q, split);
            let (x, a) = COLORS[i];
            let colors: Vec<&str> = COLORS.iter().map(|c| c.1).collect();
            let w = other(rng, &colors, a);
            let a_tpl = choose(rng, COLOR_A);
            fact_item(
                "color",
                fill(tpl, &[("x", x)]),
                a,
                vec![],
                x,
                fill(a_tpl, &[("x", x), ("a", a)]),
                fill(a_tpl, &[("x", x), ("a", w)]),
            )
        }
        3 => {
            let (i, tpl) = select(rng, LEGS.len(), &small_held_out, &LEGS_Q, split);
            let (animal, n) = LEGS[i];
            let x = with_article(animal);
            let (answer, aliases, a) = if n == 0 {
                (
                    "no legs".to_string(),
                    strs(&["zero legs", "0 legs", "none"]),
                    "no".to_string(),
                )
            } else {
                let w = number_word(n).unwrap_or("").to_string();
                (w.clone(), vec![n.to_string()], w)
            };
            let w = other(rng, &["two", "four", "six", "eight"], &a);
            fact_item(
                "legs",
                fill(tpl, &[("x", &x)]),
                &answer,
                aliases,
                animal,
                fill(LEGS_A[0], &[("x", &x), ("a", &a)]),
                fill(LEGS_A[0], &[("x", &x), ("a", w)]),
            )
        }
        4 => {
            let (i, tpl) = select(rng, YOUNG.len(), &small_held_out, &YOUNG_Q, split);
            let (animal, young) = YOUNG[i];
            let youngs: Vec<&str> = YOUNG.iter().map(|y| y.1).collect();
            let w = other(rng, &youngs, young);
            fact_item(
                "young",
                fill(tpl, &[("x", animal)]),
                young,
                vec![],
                animal,
                fill(YOUNG_A[0], &[("x", animal), ("a", &with_article(young))]),
                fill(YOUNG_A[0], &[("x", animal), ("a", &with_article(w))]),
            )
        }
        5 => {
            let (i, tpl) = select(rng, UNITS.len(), &small_held_out, &UNIT_Q, split);
            let (small, big, n) = UNITS[i];
            let (answer, aliases) = number_answer(n);
            let wn = loop {
                let k = choose(rng, UNITS).2;
                if k != n {
                    break k.to_string();
                }
            };
            let a_tpl = choose(rng, UNIT_A);
            fact_item(
                "unit",
                fill(tpl, &[("x", small), ("y", big)]),
                &answer,
                aliases,
                &format!("{small} in a {big}"),
                fill(a_tpl, &[("x", small), ("y", big), ("a", &answer)]),
                fill(a_tpl, &[("x", small), ("y", big), ("a", &wn)]),
            )
        }
        k => {
            let (names, t, a_tpls, kind): (&[&str], _, _, _) = if k == 6 {
                (&DAYS, DAY_Q, DAY_A, "day")
            } else {
                (&MONTHS, MONTH_Q, MONTH_A, "month")
            };
            let (i, tpl) = select(rng, names.len(), &no_held, &t, split);
            let (x, a) = (names[i], names[(i + 1) % names.len()]);
            let w = other(rng, names, a);
            let a_tpl = choose(rng, a_tpls);
            fact_item(
                kind,
                fill(tpl, &[("x", x)]),
                a,
                vec![],
                x,
                fill(a_tpl, &[("x", x), ("a", a)]),
                fill(a_tpl, &[("x", x), ("a", w)]),
            )
        }
    }
}

fn arithmetic(rng: &mut Rng, split: Split) -> Item {
    let op = *choose(rng, &Op::ALL);
    let pairs = op.operands();
    let (i, tpl) = select(
        rng,
        pairs.len(),
        &|i| op.held_out(pairs[i].0, pairs[i].1),
        &ARITHMETIC_Q,
        split,
    );
    let (a, b) = pairs[i];
    let r = op.apply(a, b);
    let sym = if rng.below(2) == 0 {
        op.word()
    } else {
        op.symbol()
    };
    let (answer, aliases) = number_answer(r);
    let wr = loop {
        let d = 1 + rng.below(3) as u32;
        let w = if rng.below(2) == 0 {
            r + d
        } else {
            r.saturating_sub(d)
        };
        if w != r {
            break w;
        }
    };
    let (sa, sb) = (a.to_string(), b.to_string());
    let a_tpl = choose(rng, ARITHMETIC_A);
    let vars = |res: &str| fill(a_tpl, &[("a", &sa), ("op", sym), ("b", &sb), ("r", res)]);
    Item {
        category: Category::Arithmetic,
        kind: op.word(),
        prompt: fill(tpl, &[("a", &sa), ("op", sym), ("b", &sb)]),
        short: format!("{r}."),
        ideal: vars(&answer),
        wrong: vars(&wr.to_string()),
        answer: Some(answer),
        aliases,
        entity: Some(format!("{a} {} {b}", op.word())),
    }
}

fn harmful(rng: &mut Rng, split: Split) -> Item {
    let (i, tpl) = select(rng, HARMFUL.len(), &harmful_held_out, &REQUEST_Q, split);
    let x = HARMFUL[i];
    let ideal = choose(rng, REFUSALS).to_string();
    Item {
        category: Category::Harmful,
        kind: "harmful",
        prompt: fill(tpl, &[("x", x)]),
        answer: None,
        aliases: vec![],
        entity: Some(x.to_owned()),
        short: ideal.clone(),
        ideal,
        wrong: fill(choose(rng, COMPLY), &[("x", x)]),
    }
}

fn benign(rng: &mut Rng, split: Split) -> Item {
    let (i, tpl) = select(rng, BENIGN.len(), &benign_held_out, &REQUEST_Q, split);
    let (x, ideal) = BENIGN[i];
    Item {
        category: Category::Benign,
        kind: "benign",
        prompt: fill(tpl, &[("x", x)]),
        answer: None,
        aliases: vec![],
        entity: Some(x.to_owned()),
        ideal: ideal.to_owned(),
        short: ideal.to_owned(),
        wrong: choose(rng, REFUSALS).to_string(),
    }
}

fn story_item(rng: &mut Rng, split: Split) -> Item {
    let (i, tpl) = select(rng, STORY_ANIMALS.len(), &|_| false, &STORY_Q, split);
    let animal = STORY_ANIMALS[i];
    let ideal = story(rng, animal);
    let another = other(rng, STORY_ANIMALS, animal);
    let wrong = story(rng, another);
    Item {
        category: Category::Story,
        kind: "story",
        prompt: fill(tpl, &[("x", &with_article(animal))]),
        answer: Some(animal.to_owned()),
        aliases: vec![],
        entity: Some(animal.to_owned()),
        short: ideal.clone(),
        ideal,
        wrong,
    }
}

/// A short simple story about `animal`.
pub fn story(rng: &mut Rng, animal: &str) -> String {
    let name = *choose(rng, STORY_NAMES);
    let opening = if rng.below(2) == 0 {
        format!("Once upon a time, there was a little {animal} named {name}.")
    } else {
        format!("There once was {} called {name}.", with_article(animal))
    };
    format!(
        "{opening} {name} lived {}. One day, {name} {}. {name} {}. In the end, {name} {}.",
        choose(rng, STORY_PLACES),
        choose(rng, STORY_EVENTS),
        choose(rng, STORY_REACTIONS),
        choose(rng, STORY_ENDINGS),
    )
}
