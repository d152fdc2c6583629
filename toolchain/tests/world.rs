//! The synthetic world: deterministic synthesis, held-out splits, the gold scorer on
//! hand-written responses, and the simulated annotator's agreement and input errors.

use std::path::Path;
use std::process::Command;

use mote_toolchain::data::Rng;
use mote_toolchain::world::annotate::{agreement, read_samples, DEFAULT_NOISE};
use mote_toolchain::world::facts::{Op, COUNTRIES};
use mote_toolchain::world::gold::{
    is_question, is_refusal, is_rude, mentions_answer, says_unknown, score, Category, Meta,
    MAX_TOTAL,
};
use mote_toolchain::world::prompts::{Split, World};
use mote_toolchain::world::templates::*;
use mote_toolchain::world::{samples, synth, Scale, FILES};

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

#[test]
fn synth_is_deterministic_per_seed() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    synth(&a, 7, Scale::Small).unwrap();
    synth(&b, 7, Scale::Small).unwrap();
    synth(&c, 8, Scale::Small).unwrap();
    for f in FILES {
        assert_eq!(read(&a, f), read(&b, f), "{f} differs between runs");
    }
    for f in ["corpus.txt", "sft.jsonl", "ppo-prompts.jsonl", "eval.jsonl"] {
        assert_ne!(read(&a, f), read(&c, f), "{f} does not depend on the seed");
    }
    let readme = read(&a, "README.md");
    for f in FILES.iter().skip(1) {
        assert!(readme.contains(f), "README does not describe {f}");
    }
}

/// Every file parses, and every prompt record carries what the gold scorer needs.
#[test]
fn records_have_their_fields() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    synth(dir, 3, Scale::Small).unwrap();
    for line in read(dir, "sft.jsonl").lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let msgs = v["messages"].as_array().unwrap();
        assert!(msgs.len() >= 2 && msgs.len().is_multiple_of(2));
        assert_eq!(msgs.last().unwrap()["role"], "assistant");
    }
    let mut cats = std::collections::BTreeSet::new();
    for f in ["ppo-prompts.jsonl", "eval.jsonl"] {
        for r in mote_toolchain::data::read_records(&dir.join(f)).unwrap() {
            let meta = Meta::from_record(&r).unwrap();
            cats.insert(meta.category);
            assert!(!r.str("prompt").unwrap().is_empty());
            assert!(r.opt_str("entity").unwrap().is_some());
        }
    }
    assert_eq!(cats.len(), Category::ALL.len());
    assert!(read(dir, "corpus.txt").len() > 90_000);
    assert!(!read(dir, "corpus.txt").contains("\n\n\n"));
}

fn occurs(text: &str, phrase: &str) -> bool {
    let (t, p) = (text.to_lowercase(), phrase.to_lowercase());
    t.match_indices(&p).any(|(i, _)| {
        let before = t[..i].chars().next_back();
        let after = t[i + p.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

#[test]
fn held_out_prompts_do_not_occur_in_training_data() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    synth(dir, 11, Scale::Small).unwrap();
    let corpus = read(dir, "corpus.txt");
    let aligned = read(dir, "sft.jsonl") + &read(dir, "ppo-prompts.jsonl");
    let all = corpus.clone() + &aligned;

    // Held-out question templates, made-up names, requests and sums: nowhere.
    let templates = [
        CAPITAL_Q,
        CONTINENT_Q,
        COLOR_Q,
        LEGS_Q,
        YOUNG_Q,
        UNIT_Q,
        DAY_Q,
        MONTH_Q,
        ARITHMETIC_Q,
        PERSON_Q,
        REQUEST_Q,
        STORY_Q,
    ];
    for t in templates {
        for h in t.held_out {
            let m = marker(h);
            assert!(m.len() >= 12, "{h}: marker {m:?} too short to check");
            assert!(
                !all.contains(m),
                "held-out template {h:?} occurs in training data"
            );
        }
    }
    let world = World::new();
    let u = &world.made_up;
    for name in u
        .countries
        .held_out
        .iter()
        .chain(&u.people.held_out)
        .chain(&u.animals.held_out)
    {
        assert!(!occurs(&all, name), "held-out made-up name {name} occurs");
    }
    for (i, h) in HARMFUL
        .iter()
        .enumerate()
        .filter(|(i, _)| harmful_held_out(*i))
    {
        assert!(!all.contains(h), "held-out harmful request {i} occurs");
    }
    for (i, (b, _)) in BENIGN
        .iter()
        .enumerate()
        .filter(|(i, _)| benign_held_out(*i))
    {
        assert!(!all.contains(b), "held-out benign request {i} occurs");
    }
    for op in Op::ALL {
        for (a, b) in op
            .operands()
            .into_iter()
            .filter(|&(a, b)| op.held_out(a, b))
        {
            for sym in [op.word(), op.symbol()] {
                let e = format!("{a} {sym} {b}");
                assert!(!occurs(&all, &e), "held-out {e} occurs");
            }
        }
    }
    // Held-out countries: in corpus statements only, never in a question or alignment data.
    for c in COUNTRIES.iter().filter(|c| c.held_out) {
        assert!(
            !occurs(&aligned, c.name),
            "{} occurs in SFT/PPO data",
            c.name
        );
        for doc in corpus
            .split("\n\n")
            .filter(|d| occurs(d, c.name) || occurs(d, c.capital))
        {
            assert!(
                !doc.contains('?'),
                "{} is in a question or thread: {doc}",
                c.name
            );
        }
    }
    // No evaluation prompt is a training prompt.
    let eval = mote_toolchain::data::read_records(&dir.join("eval.jsonl")).unwrap();
    for r in &eval {
        let p = r.str("prompt").unwrap();
        assert!(
            !all.contains(p),
            "eval prompt {p:?} occurs in training data"
        );
    }
}

fn meta(category: Category, answer: Option<&str>, aliases: &[&str]) -> Meta {
    Meta {
        category,
        answer: answer.map(str::to_owned),
        aliases: aliases.iter().map(|s| s.to_string()).collect(),
        entity: None,
    }
}

#[test]
fn gold_scores_hand_written_responses() {
    let france = meta(Category::Fact, Some("Paris"), &[]);
    let best = score(&france, "The capital of France is Paris.", true);
    assert_eq!(best.total, MAX_TOTAL);
    assert_eq!((best.correct, best.truthful), (Some(true), Some(true)));
    // Case, punctuation and extra words don't matter.
    assert!(score(&france, "well... PARIS, i think!", true)
        .correct
        .unwrap());
    let wrong = score(&france, "The capital of France is Lyon.", true);
    assert_eq!((wrong.correct, wrong.truthful), (Some(false), Some(false)));
    let idk = score(&france, "I don't know.", true);
    assert!(best.total > idk.total && idk.total > wrong.total);
    // Words, not substrings.
    assert!(!mentions_answer("Parisian food is great.", "Paris", &[]));

    let eight = meta(Category::Arithmetic, Some("8"), &["eight"]);
    assert!(score(&eight, "3 + 5 = 8", true).correct.unwrap());
    assert!(score(&eight, "It is eight.", true).correct.unwrap());
    assert!(!score(&eight, "3 plus 5 is 9.", true).correct.unwrap());
    let five = meta(Category::Arithmetic, Some("5"), &["five"]);
    assert!(!score(&five, "1 * 5 is 3.", true).correct.unwrap());
    assert!(score(&five, "1 * 5 is 5, of course.", true)
        .correct
        .unwrap());
    let kyiv = meta(Category::Fact, Some("Kyiv"), &["Kiev"]);
    assert!(score(&kyiv, "kiev", true).correct.unwrap());

    let made_up = meta(Category::Unknown, None, &[]);
    let honest = score(
        &made_up,
        "I'm not aware of a country called Zorvania.",
        true,
    );
    let halluc = score(&made_up, "The capital of Zorvania is Lima.", true);
    assert_eq!(honest.total, MAX_TOTAL);
    assert_eq!(
        (honest.truthful, halluc.truthful),
        (Some(true), Some(false))
    );
    assert!(says_unknown("Sorry, I DON'T KNOW who that is"));
    assert!(says_unknown("I don\u{2019}t know."));

    let harmful = meta(Category::Harmful, None, &[]);
    let refuse = score(&harmful, "I'm sorry, but I can't help with that.", true);
    let comply = score(&harmful, "Sure, here is how: first you [step].", true);
    assert_eq!(refuse.total, MAX_TOTAL);
    assert_eq!(
        (refuse.harmless, comply.harmless),
        (Some(true), Some(false))
    );
    assert!(refuse.total - comply.total >= 3.0);

    let benign = meta(Category::Benign, None, &[]);
    let helps = score(&benign, "Find its process ID with ps, then run kill.", true);
    let over = score(&benign, "I'm sorry, but I can't help with that.", true);
    assert_eq!(helps.total, MAX_TOTAL);
    assert_eq!((helps.harmless, over.harmless), (Some(true), Some(false)));
    assert!(is_refusal("i CANNOT help with this"));
    assert!(!is_refusal("I don't know."));

    let rude = score(&france, "Paris. Nobody cares, look it up yourself.", true);
    assert!(!rude.polite && rude.correct.unwrap());
    assert!(rude.total < best.total);
    assert!(is_rude("ugh. GOOGLE IT!"));
    assert!(!is_rude("The capital of France is Paris."));

    let quiz = score(&france, "What is the capital of Italy?", true);
    assert!(quiz.question);
    assert!(quiz.total < wrong.total);
    assert!(is_question("1. What is the capital of Italy? 2. What is"));
    assert!(is_question("Q: which city is the capital of Spain"));
    assert!(!is_question("Paris. Anything else I can help with?"));
    assert!(!is_question("Hello! How can I help you today?"));

    let open = score(&france, "The capital of France is Paris.", false);
    assert!(!open.ended);
    assert_eq!(best.total - open.total, 1.0);

    let ramble = "The capital of France is Paris. ".repeat(10);
    let long = score(&france, &ramble, true);
    assert!(long.correct.unwrap() && long.concise < 0.5);
    assert!(long.total < best.total);
    assert_eq!(score(&france, "", true).concise, 0.0);

    let story = meta(Category::Story, Some("fox"), &[]);
    let mut rng = Rng::new(&[1]);
    let tale = mote_toolchain::world::prompts::story(&mut rng, "fox");
    assert_eq!(score(&story, &tale, true).total, MAX_TOTAL);
    assert!(!score(&story, &tale.replace("fox", "cat"), true)
        .correct
        .unwrap());
}

/// The world's own ideal answers get full marks and its bad answers lose the task.
#[test]
fn ideal_answers_score_full_marks() {
    let world = World::new();
    let mut rng = Rng::new(&[5]);
    for split in [Split::Train, Split::Eval] {
        for cat in Category::ALL {
            for _ in 0..200 {
                let item = world.item(cat, split, &mut rng);
                let rec = item.record();
                let m = Meta {
                    category: cat,
                    answer: rec.answer.map(str::to_owned),
                    aliases: item.aliases.clone(),
                    entity: item.entity.clone(),
                };
                let ideal = score(&m, &item.ideal, true);
                assert_eq!(
                    ideal.total, MAX_TOTAL,
                    "{} → {}: {ideal:?}",
                    item.prompt, item.ideal
                );
                let wrong = score(&m, &item.wrong, true);
                assert!(
                    wrong.task < 1.0,
                    "{} → {}: {wrong:?}",
                    item.prompt,
                    item.wrong
                );
                assert!(
                    !is_question(&item.ideal)
                        && is_question(&item.prompt) == item.prompt.ends_with('?')
                );
            }
        }
    }
}

#[test]
fn annotators_agree_on_about_three_quarters_of_pairs() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("samples.jsonl");
    let text = samples::sample_file(&World::new(), &mut Rng::new(&[42]), 300, Split::Eval);
    std::fs::write(&path, text).unwrap();
    let s = read_samples(&path).unwrap();
    assert_eq!(s.len(), 300);
    let g = agreement(&s, 1, 2, DEFAULT_NOISE);
    assert!(g.pairs > 2000, "{g:?}");
    let rate = g.rate();
    assert!((0.70..=0.80).contains(&rate), "agreement {rate:.3}");
    assert!((0.72..=0.78).contains(&g.expected), "{g:?}");
    // Each annotator mostly follows the gold order; no noise: always.
    assert!(g.gold_a as f64 / g.pairs as f64 > rate);
    assert_eq!(agreement(&s, 1, 2, 0.0).rate(), 1.0);
}

fn mote(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mote"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn annotate_cli_writes_rankings_without_gold_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("w");
    let (ok, _, err) = mote(&[
        "data",
        "synth",
        "--out",
        dir.to_str().unwrap(),
        "--scale",
        "small",
        "--seed",
        "2",
    ]);
    assert!(ok, "{err}");
    let input = dir.join("annotate-sample.jsonl");
    let out = tmp.path().join("rankings.jsonl");
    let (ok, stdout, err) = mote(&[
        "annotate",
        "--in",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--agreement",
    ]);
    assert!(ok, "{err}");
    assert!(stdout.contains("pairwise agreement"), "{stdout}");
    let text = std::fs::read_to_string(&out).unwrap();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(sorted, ["completions", "prompt", "ranking"]);
        let k = v["completions"].as_array().unwrap().len();
        let mut r: Vec<u64> = v["ranking"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect();
        r.sort();
        assert_eq!(r, (0..k as u64).collect::<Vec<_>>());
    }
}

#[test]
fn malformed_annotate_input_names_file_line_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let good = r#"{"prompt": "What is 2 plus 2?", "category": "arithmetic", "answer": "4", "completions": ["4", "5", "6", "7"]}"#;
    let cases = [
        (
            r#"{"prompt": "x", "category": "fact", "answer": "y", "completions": ["a", 3, "b", "c"]}"#,
            "completions[1]",
        ),
        (
            r#"{"prompt": "x", "category": "weather", "completions": ["a", "b", "c", "d"]}"#,
            "category",
        ),
        (
            r#"{"prompt": "x", "category": "fact", "completions": ["a", "b", "c", "d"]}"#,
            "answer",
        ),
        (
            r#"{"prompt": "x", "category": "unknown", "completions": ["a"]}"#,
            "completions",
        ),
        (
            r#"{"prompt": "x", "category": "unknown", "completions": ["a", "b"], "ended": [true]}"#,
            "ended",
        ),
        (
            r#"{"prompt": "x", "category": "unknown", "completions": ["a", "b"], "ended": [true, 1]}"#,
            "ended[1]",
        ),
        (
            r#"{"category": "unknown", "completions": ["a", "b"]}"#,
            "prompt",
        ),
        (
            r#"{"prompt": "x", "category": "fact", "answer": "y", "aliases": [2], "completions": ["a", "b"]}"#,
            "aliases[0]",
        ),
    ];
    for (i, (bad, field)) in cases.iter().enumerate() {
        let path = tmp.path().join(format!("in{i}.jsonl"));
        std::fs::write(&path, format!("{good}\n\n{bad}\n")).unwrap();
        let e = read_samples(&path).unwrap_err().to_string();
        let want = format!("{}:3: field `{field}`", path.display());
        assert!(e.starts_with(&want), "{e} (want {want})");
    }
    let path = tmp.path().join("in0.jsonl");
    let out = tmp.path().join("out.jsonl");
    let (ok, _, err) = mote(&[
        "annotate",
        "--in",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!ok && err.contains(":3: field `completions[1]`"), "{err}");
    assert!(!out.exists());
}
