//! Human preferences for the reward model and DPO: responses to one prompt ordered from
//! best to worst.
//!
//! Accepted records (JSONL, TRL conventions; an optional `"system"` string on the first
//! and third):
//! - pairs `{"prompt","chosen","rejected"}`;
//! - implicit-prompt pairs `{"chosen","rejected"}`: two whole transcripts in the
//!   `\n\nHuman: … \n\nAssistant: …` form sharing everything up to their last assistant
//!   turn, which is where they are split; the shared part becomes ChatML turns;
//! - rankings `{"prompt","completions":[…],"ranking":[best…worst]}` with K = 2…9. An
//!   entry of `ranking` may be an array of indices the annotator judged equal, a tie:
//!   `"ranking": [2, [0, 3], 1]` puts 2 first, 0 and 3 second together, 1 last. Tied
//!   responses form no pair; a ranking with every response tied is an error (it has
//!   nothing to learn from). Readers that know only flat rankings reject such lines
//!   rather than invent an order.
//!
//! Each response is scored in the text SFT trains on and sampling continues:
//! `<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n{response}<|im_end|>`,
//! BOS first, tokenized as a whole; the reward is read at the `<|im_end|>` closing the
//! response (the last token).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokenizers::Tokenizer;

use super::jsonl::{for_each_record, Record};
use super::sft::{render_chatml, Message, Role, IM_END, IM_START};
use crate::error::{Error, Result};

/// Responses per prompt accepted in a ranking.
pub const MIN_K: usize = 2;
pub const MAX_K: usize = 9;

const HUMAN: &str = "\n\nHuman:";
const ASSISTANT: &str = "\n\nAssistant:";

/// One prompt with its responses, best first.
#[derive(Clone, Debug, PartialEq)]
pub struct Preference {
    /// The conversation before the judged assistant turn.
    pub context: Vec<Message>,
    /// Responses ordered from best to worst.
    pub responses: Vec<String>,
    /// Per response, its place among the distinct judgements (0 = best); equal numbers
    /// are ties. Non-decreasing, as `responses` is sorted best first.
    pub tiers: Vec<usize>,
    pub path: Arc<Path>,
    pub line: usize,
}

impl Preference {
    /// The ChatML text that asks for the judged assistant turn.
    pub fn prompt_chatml(&self, default_system: Option<&str>) -> String {
        let (mut text, _) = render_chatml(&self.context, default_system);
        text.push_str(IM_START);
        text.push_str(Role::Assistant.as_str());
        text.push('\n');
        text
    }

    /// Every (better, worse) pair of response indices: all C(K, 2) of them but ties.
    pub fn pairs(&self) -> Vec<(usize, usize)> {
        ordered_pairs(&self.tiers)
    }
}

/// The (better, worse) index pairs of responses sorted best first with these `tiers`:
/// every pair whose tiers differ.
pub fn ordered_pairs(tiers: &[usize]) -> Vec<(usize, usize)> {
    let k = tiers.len();
    (0..k)
        .flat_map(|i| (i + 1..k).map(move |j| (i, j)))
        .filter(|&(i, j)| tiers[i] < tiers[j])
        .collect()
}

/// Tiers of `k` responses in strict order: `0, 1, …, k − 1`.
pub fn strict_tiers(k: usize) -> Vec<usize> {
    (0..k).collect()
}

fn check_text(rec: &Record, text: &str, field: &str) -> Result<()> {
    for delim in [IM_START, IM_END] {
        if text.contains(delim) {
            return Err(rec.error(field, format!("contains the ChatML delimiter `{delim}`")));
        }
    }
    Ok(())
}

fn text_field(rec: &Record, field: &str) -> Result<String> {
    let s = rec.str(field)?;
    check_text(rec, s, field)?;
    Ok(s.to_string())
}

fn user_context(rec: &Record) -> Result<Vec<Message>> {
    let mut context = Vec::with_capacity(2);
    if let Some(system) = rec.opt_str("system")? {
        check_text(rec, system, "system")?;
        context.push(Message {
            role: Role::System,
            content: system.to_string(),
        });
    }
    context.push(Message {
        role: Role::User,
        content: text_field(rec, "prompt")?,
    });
    Ok(context)
}

/// The preference of one record, in any of the accepted layouts.
pub fn parse_preference(rec: &Record) -> Result<Preference> {
    let (context, responses, tiers) = if rec.has("completions") || rec.has("ranking") {
        parse_ranking(rec)?
    } else if rec.has("prompt") {
        let context = user_context(rec)?;
        (
            context,
            vec![text_field(rec, "chosen")?, text_field(rec, "rejected")?],
            strict_tiers(2),
        )
    } else if rec.has("chosen") || rec.has("rejected") {
        let (context, responses) = parse_transcripts(rec)?;
        (context, responses, strict_tiers(2))
    } else {
        return Err(rec.line_error(
            "expected `prompt`, `chosen` and `rejected`; `chosen` and `rejected` transcripts; \
             or `prompt`, `completions` and `ranking`",
        ));
    };
    Ok(Preference {
        context,
        responses,
        tiers,
        path: rec.path.clone(),
        line: rec.line,
    })
}

/// The `ranking` field: indices best first, an array of indices standing for a tie.
/// Returns the flat order and each index's tier.
fn parse_order(rec: &Record, k: usize) -> Result<(Vec<usize>, Vec<usize>)> {
    let entries = rec.array("ranking")?;
    let mut labelled = Vec::with_capacity(k);
    for (i, v) in entries.iter().enumerate() {
        let label = format!("ranking[{i}]");
        match v.as_array() {
            Some(group) if group.is_empty() => {
                return Err(rec.error(&label, "an empty tie"));
            }
            Some(group) => {
                for (j, w) in group.iter().enumerate() {
                    labelled.push((format!("{label}[{j}]"), w, i));
                }
            }
            None => labelled.push((label, v, i)),
        }
    }
    if labelled.len() != k {
        return Err(rec.error(
            "ranking",
            format!(
                "{} entries for {k} completions; expected each index once",
                labelled.len()
            ),
        ));
    }
    let mut seen = vec![false; k];
    let (mut order, mut tiers) = (Vec::with_capacity(k), Vec::with_capacity(k));
    for (label, v, tier) in labelled {
        let idx = rec.as_usize(v, &label)?;
        if idx >= k {
            return Err(rec.error(
                &label,
                format!("index {idx} out of range for {k} completions"),
            ));
        }
        if std::mem::replace(&mut seen[idx], true) {
            return Err(rec.error(&label, format!("index {idx} appears twice")));
        }
        order.push(idx);
        tiers.push(tier);
    }
    if tiers.first() == tiers.last() {
        return Err(rec.error(
            "ranking",
            "every completion is tied: no preference to learn from",
        ));
    }
    Ok((order, tiers))
}

type Ranked = (Vec<Message>, Vec<String>, Vec<usize>);

fn parse_ranking(rec: &Record) -> Result<Ranked> {
    let context = user_context(rec)?;
    let items = rec.array("completions")?;
    if !(MIN_K..=MAX_K).contains(&items.len()) {
        return Err(rec.error(
            "completions",
            format!("{} completions; expected {MIN_K} to {MAX_K}", items.len()),
        ));
    }
    let mut completions = Vec::with_capacity(items.len());
    for (i, v) in items.iter().enumerate() {
        let label = format!("completions[{i}]");
        let s = rec.as_str(v, &label)?;
        check_text(rec, s, &label)?;
        completions.push(s.to_string());
    }
    let (order, tiers) = parse_order(rec, completions.len())?;
    let responses = order.iter().map(|&i| completions[i].clone()).collect();
    Ok((context, responses, tiers))
}

/// Split two `\n\nHuman: … \n\nAssistant: …` transcripts after the last assistant marker
/// they share, and turn the shared part into ChatML turns.
fn parse_transcripts(rec: &Record) -> Result<(Vec<Message>, Vec<String>)> {
    let chosen = rec.str("chosen")?;
    let rejected = rec.str("rejected")?;
    check_text(rec, chosen, "chosen")?;
    check_text(rec, rejected, "rejected")?;
    let shared = chosen
        .char_indices()
        .zip(rejected.chars())
        .find(|((_, a), b)| a != b)
        .map_or(chosen.len().min(rejected.len()), |((i, _), _)| i);
    let cut = chosen[..shared]
        .rfind(ASSISTANT)
        .map(|i| i + ASSISTANT.len())
        .ok_or_else(|| {
            rec.error(
                "chosen",
                "the transcripts share no `\\n\\nAssistant:` turn to split at",
            )
        })?;
    let context = transcript_turns(rec, &chosen[..cut - ASSISTANT.len()])?;
    let mut responses = Vec::with_capacity(2);
    for (field, text) in [("chosen", chosen), ("rejected", rejected)] {
        let response = &text[cut..];
        if response.contains(HUMAN) || response.contains(ASSISTANT) {
            return Err(rec.error(
                field,
                "the transcripts differ before their last assistant turn",
            ));
        }
        responses.push(response.strip_prefix(' ').unwrap_or(response).to_string());
    }
    Ok((context, responses))
}

/// `\n\nHuman: a\n\nAssistant: b\n\nHuman: c` → user a, assistant b, user c.
fn transcript_turns(rec: &Record, text: &str) -> Result<Vec<Message>> {
    let text = if text.starts_with("Human:") {
        format!("\n\n{text}")
    } else {
        text.to_string()
    };
    let mut turns: Vec<Message> = Vec::new();
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let role = if let Some(r) = rest.strip_prefix(HUMAN) {
            rest = r;
            Role::User
        } else if let Some(r) = rest.strip_prefix(ASSISTANT) {
            rest = r;
            Role::Assistant
        } else {
            return Err(rec.error(
                "chosen",
                "expected the transcript to start with `\\n\\nHuman:`",
            ));
        };
        let end = [rest.find(HUMAN), rest.find(ASSISTANT)]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(rest.len());
        let content = &rest[..end];
        turns.push(Message {
            role,
            content: content.strip_prefix(' ').unwrap_or(content).to_string(),
        });
        rest = &rest[end..];
    }
    match turns.last() {
        Some(m) if m.role == Role::User => Ok(turns),
        _ => Err(rec.error(
            "chosen",
            "expected a `\\n\\nHuman:` turn before the last assistant turn",
        )),
    }
}

/// Every preference of a JSONL file.
pub fn read_preferences(path: &Path) -> Result<Vec<Preference>> {
    let mut out = Vec::new();
    for_each_record(path, |rec| {
        out.push(parse_preference(&rec)?);
        Ok(())
    })?;
    Ok(out)
}

/// Every preference of several files, in order.
pub fn read_preference_files(paths: &[PathBuf]) -> Result<Vec<Preference>> {
    let mut out = Vec::new();
    for p in paths {
        out.extend(read_preferences(p)?);
    }
    Ok(out)
}

/// How preferences become token sequences.
#[derive(Clone, Debug, PartialEq)]
pub struct PreferenceEncoding {
    /// Tokens per sequence at most; longer ones lose their earliest tokens.
    pub max_len: usize,
    /// System turn for prompts that have none.
    pub system: Option<String>,
    pub bos: Option<u32>,
}

/// A prompt's responses tokenized, best first.
#[derive(Clone, Debug, PartialEq)]
pub struct EncodedPreference {
    /// One sequence per response, each ending with the `<|im_end|>` closing it.
    pub seqs: Vec<Vec<u32>>,
    /// Per sequence: the tokens of the prompt (these are never trained in DPO).
    pub prompt_lens: Vec<usize>,
    /// Per sequence: its tier, as [`Preference::tiers`].
    pub tiers: Vec<usize>,
    /// Tokens cut from the left of the longest sequence.
    pub truncated: usize,
    pub path: Arc<Path>,
    pub line: usize,
}

/// `[bos] + tokens(prompt_chatml + response + <|im_end|>)`, and the number of its tokens
/// that belong to the prompt.
pub fn encode_response(
    tok: &Tokenizer,
    bos: Option<u32>,
    prompt_chatml: &str,
    response: &str,
) -> Result<(Vec<u32>, usize)> {
    let text = format!("{prompt_chatml}{response}{IM_END}");
    let enc = tok
        .encode(text.as_str(), false)
        .map_err(|e| Error::Tokenizer(e.to_string()))?;
    let mut ids = Vec::with_capacity(enc.len() + 1);
    ids.extend(bos);
    let skip = ids.len();
    ids.extend_from_slice(enc.get_ids());
    // Tokens that start inside the response belong to it.
    let prompt = skip
        + enc
            .get_offsets()
            .iter()
            .take_while(|&&(s, e)| s < prompt_chatml.len() || e == s)
            .count();
    Ok((ids, prompt))
}

/// Tokenize every response of `p`.
pub fn encode_preference(
    tok: &Tokenizer,
    p: &Preference,
    enc: &PreferenceEncoding,
) -> Result<EncodedPreference> {
    let prompt = p.prompt_chatml(enc.system.as_deref());
    let mut seqs = Vec::with_capacity(p.responses.len());
    let mut prompt_lens = Vec::with_capacity(p.responses.len());
    let mut truncated = 0;
    for r in &p.responses {
        let (mut ids, mut plen) = encode_response(tok, enc.bos, &prompt, r)?;
        if ids.len() > enc.max_len {
            let cut = ids.len() - enc.max_len;
            if cut >= plen {
                return Err(Error::data(
                    &p.path,
                    p.line,
                    None,
                    format!(
                        "a response of {} tokens does not fit in max_len {}",
                        ids.len() - plen,
                        enc.max_len
                    ),
                ));
            }
            ids.drain(..cut);
            plen -= cut;
            truncated = truncated.max(cut);
        }
        seqs.push(ids);
        prompt_lens.push(plen);
    }
    Ok(EncodedPreference {
        seqs,
        prompt_lens,
        tiers: p.tiers.clone(),
        truncated,
        path: p.path.clone(),
        line: p.line,
    })
}

/// Tokenize all preferences; the tokenizer must know the ChatML delimiters.
pub fn encode_preferences(
    tok: &Tokenizer,
    prefs: &[Preference],
    enc: &PreferenceEncoding,
) -> Result<Vec<EncodedPreference>> {
    for delim in [IM_START, IM_END] {
        if tok.token_to_id(delim).is_none() {
            return Err(Error::Tokenizer(format!(
                "no `{delim}` token in the tokenizer"
            )));
        }
    }
    prefs
        .iter()
        .map(|p| encode_preference(tok, p, enc))
        .collect()
}

/// The number of held-out preferences: the last `fraction` of them (at least one when the
/// fraction is positive), leaving at least one to train on.
pub fn held_out(n: usize, fraction: f64) -> Result<usize> {
    if !(0.0..1.0).contains(&fraction) {
        return Err(Error::TrainConfig("eval_fraction must be in [0, 1)".into()));
    }
    let n_eval = if fraction > 0.0 {
        ((n as f64 * fraction).round() as usize).max(1)
    } else {
        0
    };
    if n < n_eval + 1 {
        return Err(Error::TrainConfig(format!(
            "{n} preferences: too few to hold out {n_eval} and train on the rest"
        )));
    }
    Ok(n_eval)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(json: &str) -> Record {
        let fields = match serde_json::from_str(json).unwrap() {
            serde_json::Value::Object(m) => m,
            _ => unreachable!(),
        };
        Record {
            path: Arc::from(Path::new("p.jsonl")),
            line: 3,
            fields,
        }
    }

    #[test]
    fn transcripts_split_at_the_last_shared_assistant_turn() {
        let p = parse_preference(&rec(
            r#"{"chosen": "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: name?\n\nAssistant: Bob.",
                "rejected": "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: name?\n\nAssistant: Bo."}"#,
        ))
        .unwrap();
        let roles: Vec<_> = p
            .context
            .iter()
            .map(|m| (m.role, m.content.as_str()))
            .collect();
        assert_eq!(
            roles,
            [
                (Role::User, "hi"),
                (Role::Assistant, "hello"),
                (Role::User, "name?")
            ]
        );
        assert_eq!(p.responses, ["Bob.", "Bo."]);
        assert_eq!(
            p.prompt_chatml(None),
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nhello<|im_end|>\n\
             <|im_start|>user\nname?<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn rankings_are_ordered_best_first() {
        let p = parse_preference(&rec(
            r#"{"prompt": "q", "completions": ["a", "b", "c"], "ranking": [2, 0, 1]}"#,
        ))
        .unwrap();
        assert_eq!(p.responses, ["c", "a", "b"]);
        assert_eq!(p.pairs(), [(0, 1), (0, 2), (1, 2)]);
    }

    #[test]
    fn tied_responses_form_no_pair() {
        let p = parse_preference(&rec(
            r#"{"prompt": "q", "completions": ["a", "b", "c", "d"], "ranking": [[2, 0], 3, [1]]}"#,
        ))
        .unwrap();
        assert_eq!(p.responses, ["c", "a", "d", "b"]);
        assert_eq!(p.tiers, [0, 0, 1, 2]);
        assert_eq!(p.pairs(), [(0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]);
    }

    #[test]
    fn malformed_ties_name_the_field() {
        let err = |json: &str| parse_preference(&rec(json)).unwrap_err().to_string();
        let e = err(r#"{"prompt": "q", "completions": ["a", "b"], "ranking": [[0, 1]]}"#);
        assert!(
            e.ends_with("field `ranking`: every completion is tied: no preference to learn from"),
            "{e}"
        );
        let e = err(r#"{"prompt": "q", "completions": ["a", "b"], "ranking": [0, [], 1]}"#);
        assert!(e.ends_with("field `ranking[1]`: an empty tie"), "{e}");
        let e = err(r#"{"prompt": "q", "completions": ["a", "b", "c"], "ranking": [0, [1, 0]]}"#);
        assert!(
            e.ends_with("field `ranking[1][1]`: index 0 appears twice"),
            "{e}"
        );
        let e = err(r#"{"prompt": "q", "completions": ["a", "b", "c"], "ranking": [0, [1, "x"]]}"#);
        assert!(
            e.contains("field `ranking[1][1]`: expected a non-negative integer"),
            "{e}"
        );
        let e =
            err(r#"{"prompt": "q", "completions": ["a", "b", "c"], "ranking": [0, [1, 2, 0]]}"#);
        assert!(
            e.contains("field `ranking`: 4 entries for 3 completions"),
            "{e}"
        );
    }
}
