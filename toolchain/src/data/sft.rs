//! Supervised fine-tuning demonstrations in ChatML, with a loss mask on the assistant's
//! tokens only.
//!
//! Records are `{"prompt","completion"}` (a user turn and the assistant's answer; an
//! optional `"system"` string) or `{"messages":[{"role","content"}…]}` with roles
//! `system` (first only), `user` and `assistant`. A record without a system turn gets
//! `SftConfig::system` if set. Each conversation is rendered as
//! `<|im_start|>role\ncontent<|im_end|>\n` per turn and tokenized once, as a whole, with
//! the delimiters parsed as special tokens. The mask is found from the tokenizer's byte
//! offsets: a token is trained when it overlaps an assistant turn's content or the
//! `<|im_end|>` closing it (so the model learns to stop); role headers, user and system
//! turns and the newline after `<|im_end|>` are not.
//!
//! Too long for the context: the conversation is cut from the left (the earliest
//! tokens go) and the example counts as truncated ([`SftData::truncated`], for the
//! metrics); if even the last assistant turn does not fit, loading fails naming the line.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokenizers::Tokenizer;

use super::batch::Batch;
use super::jsonl::{for_each_record, Record};
use super::sampler::Sampler;
use crate::error::{Error, Result};

pub const IM_START: &str = "<|im_start|>";
pub const IM_END: &str = "<|im_end|>";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SftConfig {
    /// Context length: input tokens per example at most.
    pub max_len: usize,
    /// System turn for records that have none.
    pub system: Option<String>,
    /// Token put before each conversation.
    pub bos: Option<u32>,
    /// Padding token (never trained).
    pub pad: u32,
    /// Fraction of the examples (the last ones) held out for the eval loss.
    pub eval_fraction: f64,
}

impl Default for SftConfig {
    fn default() -> Self {
        SftConfig {
            max_len: 256,
            system: None,
            bos: None,
            pad: 0,
            eval_fraction: 0.05,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

/// The conversation of a `{"prompt","completion"}` or `{"messages"}` record, validated.
pub fn parse_conversation(rec: &Record) -> Result<Vec<Message>> {
    let check = |text: &str, field: &str| -> Result<String> {
        for delim in [IM_START, IM_END] {
            if text.contains(delim) {
                return Err(rec.error(field, format!("contains the ChatML delimiter `{delim}`")));
            }
        }
        Ok(text.to_string())
    };
    if rec.has("messages") {
        let items = rec.array("messages")?;
        let mut msgs = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let label = format!("messages[{i}]");
            let obj = rec.as_object(item, &label)?;
            let role = match rec.member_str(obj, "role", &label)? {
                "system" if i == 0 => Role::System,
                "system" => {
                    return Err(rec.error(&format!("{label}.role"), "a system turn must come first"))
                }
                "user" => Role::User,
                "assistant" => Role::Assistant,
                other => {
                    return Err(rec.error(
                        &format!("{label}.role"),
                        format!("expected `system`, `user` or `assistant`, found `{other}`"),
                    ))
                }
            };
            let content = rec.member_str(obj, "content", &label)?;
            msgs.push(Message {
                role,
                content: check(content, &format!("{label}.content"))?,
            });
        }
        if !msgs.iter().any(|m| m.role == Role::Assistant) {
            return Err(rec.error("messages", "no assistant turn to train on"));
        }
        return Ok(msgs);
    }
    if !rec.has("prompt") && !rec.has("completion") {
        return Err(rec.line_error("expected `prompt` and `completion`, or `messages`"));
    }
    let mut msgs = Vec::with_capacity(3);
    if let Some(system) = rec.opt_str("system")? {
        msgs.push(Message {
            role: Role::System,
            content: check(system, "system")?,
        });
    }
    msgs.push(Message {
        role: Role::User,
        content: check(rec.str("prompt")?, "prompt")?,
    });
    msgs.push(Message {
        role: Role::Assistant,
        content: check(rec.str("completion")?, "completion")?,
    });
    Ok(msgs)
}

/// The ChatML text of a conversation and the byte ranges to train on: each assistant
/// turn's content with its closing `<|im_end|>`.
pub fn render_chatml(
    msgs: &[Message],
    default_system: Option<&str>,
) -> (String, Vec<Range<usize>>) {
    let mut text = String::new();
    let mut spans = Vec::new();
    let mut turn = |text: &mut String, role: Role, content: &str| {
        text.push_str(IM_START);
        text.push_str(role.as_str());
        text.push('\n');
        let start = text.len();
        text.push_str(content);
        text.push_str(IM_END);
        if role == Role::Assistant {
            spans.push(start..text.len());
        }
        text.push('\n');
    };
    if let Some(system) =
        default_system.filter(|_| msgs.first().is_none_or(|m| m.role != Role::System))
    {
        turn(&mut text, Role::System, system);
    }
    for m in msgs {
        turn(&mut text, m.role, &m.content);
    }
    (text, spans)
}

/// One tokenized demonstration.
#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    pub ids: Vec<u32>,
    /// `trained[i]`: token i is a target of the loss.
    pub trained: Vec<bool>,
    /// Tokens cut from the left to fit the context.
    pub truncated: usize,
    pub path: Arc<Path>,
    pub line: usize,
}

/// Tokenizes a conversation and marks its trained tokens.
pub fn encode_example(
    tokenizer: &Tokenizer,
    msgs: &[Message],
    config: &SftConfig,
    rec: &Record,
) -> Result<Example> {
    let (text, spans) = render_chatml(msgs, config.system.as_deref());
    let enc = tokenizer
        .encode(text.as_str(), false)
        .map_err(|e| Error::Tokenizer(format!("{}:{}: {e}", rec.path.display(), rec.line)))?;
    let mut ids = Vec::with_capacity(enc.len() + 1);
    let mut trained = Vec::with_capacity(enc.len() + 1);
    if let Some(bos) = config.bos {
        ids.push(bos);
        trained.push(false);
    }
    ids.extend_from_slice(enc.get_ids());
    // Overlap, not containment: a token that merges a span's edge with its neighbour still
    // carries part of the answer.
    trained.extend(
        enc.get_offsets()
            .iter()
            .map(|&(s, e)| e > s && spans.iter().any(|r| s < r.end && e > r.start)),
    );
    let last_span_first = {
        let last = spans.last().expect("a conversation has an assistant turn");
        let offsets = enc.get_offsets();
        let skip = ids.len() - offsets.len();
        skip + offsets
            .iter()
            .position(|&(s, e)| e > s && s < last.end && e > last.start)
            .ok_or_else(|| rec.line_error("the assistant turn produced no tokens"))?
    };
    let keep = config.max_len + 1;
    let mut truncated = 0;
    if ids.len() > keep {
        truncated = ids.len() - keep;
        // The first kept token is only an input, so the last turn's first trained token
        // must come after it.
        if last_span_first < truncated + 1 {
            return Err(rec.line_error(format!(
                "{} tokens, and the last assistant turn alone does not fit in max_len {}",
                ids.len(),
                config.max_len
            )));
        }
        ids.drain(..truncated);
        trained.drain(..truncated);
    }
    Ok(Example {
        ids,
        trained,
        truncated,
        path: rec.path.clone(),
        line: rec.line,
    })
}

/// Reads and encodes every demonstration of a JSONL file.
pub fn load_examples(
    path: &Path,
    tokenizer: &Tokenizer,
    config: &SftConfig,
) -> Result<Vec<Example>> {
    for delim in [IM_START, IM_END] {
        if tokenizer.token_to_id(delim).is_none() {
            return Err(Error::Tokenizer(format!(
                "no `{delim}` token in the tokenizer"
            )));
        }
    }
    let mut out = Vec::new();
    for_each_record(path, |rec| {
        let msgs = parse_conversation(&rec)?;
        out.push(encode_example(tokenizer, &msgs, config, &rec)?);
        Ok(())
    })?;
    Ok(out)
}

/// Demonstrations split into training and held-out examples.
#[derive(Debug)]
pub struct SftData {
    pad: u32,
    train: Vec<Example>,
    eval: Vec<Example>,
    sampler: Sampler,
}

impl SftData {
    /// Reads `paths` in order and holds out the last `eval_fraction` of the examples.
    pub fn load(
        paths: &[PathBuf],
        tokenizer: &Tokenizer,
        config: &SftConfig,
        seed: u64,
    ) -> Result<Self> {
        if !(0.0..1.0).contains(&config.eval_fraction) {
            return Err(Error::TrainConfig("eval_fraction must be in [0, 1)".into()));
        }
        let mut all = Vec::new();
        for p in paths {
            all.extend(load_examples(p, tokenizer, config)?);
        }
        let n_eval = if config.eval_fraction > 0.0 {
            ((all.len() as f64 * config.eval_fraction).round() as usize).max(1)
        } else {
            0
        };
        if all.len() < n_eval + 1 {
            return Err(Error::TrainConfig(format!(
                "{} examples: too few to hold out {n_eval} and train on the rest",
                all.len()
            )));
        }
        let eval = all.split_off(all.len() - n_eval);
        Ok(Self::from_examples(all, eval, config.pad, seed))
    }

    /// From examples already split (e.g. a separate eval file). `train` must not be empty.
    pub fn from_examples(train: Vec<Example>, eval: Vec<Example>, pad: u32, seed: u64) -> Self {
        let sampler = Sampler::new(train.len(), seed);
        SftData {
            pad,
            train,
            eval,
            sampler,
        }
    }

    pub fn train(&self) -> &[Example] {
        &self.train
    }

    pub fn eval(&self) -> &[Example] {
        &self.eval
    }

    /// Examples (training and held-out) cut to fit the context.
    pub fn truncated(&self) -> usize {
        self.train
            .iter()
            .chain(&self.eval)
            .filter(|e| e.truncated > 0)
            .count()
    }

    fn rows(&self, examples: &[&Example]) -> Batch {
        let masks: Vec<Vec<f32>> = examples
            .iter()
            .map(|e| e.trained[1..].iter().map(|&t| t as u8 as f32).collect())
            .collect();
        let rows: Vec<_> = examples
            .iter()
            .zip(&masks)
            .map(|(e, m)| (&e.ids[..e.ids.len() - 1], &e.ids[1..], m.as_slice()))
            .collect();
        Batch::from_rows(&rows, self.pad)
    }

    /// Micro-batch `micro` of step `step`, a function of (seed, step, micro).
    pub fn batch(
        &mut self,
        step: u64,
        micro: usize,
        grad_accum: usize,
        batch_size: usize,
    ) -> Batch {
        let picked = self.sampler.batch(step, micro, grad_accum, batch_size);
        let examples: Vec<&Example> = picked.iter().map(|&i| &self.train[i]).collect();
        self.rows(&examples)
    }

    /// The held-out examples in order, in batches of `batch_size`.
    pub fn eval_batches(&self, batch_size: usize) -> Vec<Batch> {
        let all: Vec<&Example> = self.eval.iter().collect();
        all.chunks(batch_size.max(1))
            .map(|c| self.rows(c))
            .collect()
    }
}
