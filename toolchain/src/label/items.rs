//! The samples to label: one prompt and K answers per line, as `mote sample` writes them
//! (`{"prompt" | "messages", …, "completions": [K], "ended": [K]}`) or plain
//! `{"prompt", "system"?, "completions"}`. Fields the page does not show are ignored.
//!
//! Each item gets an id from its content (system, prompt and answers), so labels stay
//! attached to the right item when the file is regenerated, reordered or extended.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use crate::data::preferences::{MAX_K, MIN_K};
use crate::data::sft::{IM_END, IM_START};
use crate::data::{for_each_record, Record};
use crate::error::Result;

/// One prompt with the answers to label.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Item {
    pub id: String,
    /// 1-based line of the samples file.
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    pub prompt: String,
    pub completions: Vec<String>,
    /// Per answer, whether it ended its turn (`mote sample`'s `ended`; all true if absent).
    pub ended: Vec<bool>,
}

/// The items of a samples file, in file order, each id once.
#[derive(Clone, Debug, Default)]
pub struct Items {
    pub items: Vec<Item>,
    by_id: HashMap<String, usize>,
    /// Lines dropped because an earlier line had the same content.
    pub duplicates: usize,
}

impl Items {
    pub fn get(&self, id: &str) -> Option<&Item> {
        self.by_id.get(id).map(|&i| &self.items[i])
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// 64-bit FNV-1a: stable across builds and platforms, unlike the std hasher.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The content id of an item: 16 hex digits.
pub fn item_id(system: Option<&str>, prompt: &str, completions: &[String]) -> String {
    // JSON keeps the parts unambiguous (no separator can be forged inside a string).
    let key = serde_json::to_vec(&(system, prompt, completions)).expect("serializable");
    format!("{:016x}", fnv1a(&key))
}

fn checked<'a>(rec: &Record, text: &'a str, field: &str) -> Result<&'a str> {
    for delim in [IM_START, IM_END] {
        if text.contains(delim) {
            return Err(rec.error(field, format!("contains the ChatML delimiter `{delim}`")));
        }
    }
    Ok(text)
}

/// System turn and prompt of a record: `prompt` (+ `system`), or `messages` holding an
/// optional system turn and one user turn.
fn prompt_of(rec: &Record) -> Result<(Option<String>, String)> {
    if !rec.has("messages") || rec.has("prompt") {
        let prompt = checked(rec, rec.str("prompt")?, "prompt")?;
        let system = match rec.opt_str("system")? {
            Some(s) => Some(checked(rec, s, "system")?.to_string()),
            None => None,
        };
        return Ok((system, prompt.to_string()));
    }
    let (mut system, mut user) = (None, None);
    let messages = rec.array("messages")?;
    for (i, m) in messages.iter().enumerate() {
        let label = format!("messages[{i}]");
        let obj = rec.as_object(m, &label)?;
        let role = rec.member_str(obj, "role", &label)?;
        let content = checked(
            rec,
            rec.member_str(obj, "content", &label)?,
            &format!("{label}.content"),
        )?;
        match role {
            "system" if i == 0 => system = Some(content.to_string()),
            "user" if user.is_none() => user = Some(content.to_string()),
            _ => {
                return Err(rec.error(
                    &format!("{label}.role"),
                    "only a system turn and one user turn can be labeled (the rankings \
                     format holds a single prompt)",
                ))
            }
        }
    }
    let user = user.ok_or_else(|| rec.error("messages", "no user turn"))?;
    Ok((system, user))
}

fn parse_item(rec: &Record) -> Result<Item> {
    let (system, prompt) = prompt_of(rec)?;
    let values = rec.array("completions")?;
    if !(MIN_K..=MAX_K).contains(&values.len()) {
        return Err(rec.error(
            "completions",
            format!("{} completions; expected {MIN_K} to {MAX_K}", values.len()),
        ));
    }
    let mut completions = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        let label = format!("completions[{i}]");
        completions.push(checked(rec, rec.as_str(v, &label)?, &label)?.to_string());
    }
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
        let flag = |(i, v): (usize, &serde_json::Value)| {
            v.as_bool()
                .ok_or_else(|| rec.error(&format!("ended[{i}]"), "expected a boolean"))
        };
        flags.iter().enumerate().map(flag).collect::<Result<_>>()?
    } else {
        vec![true; completions.len()]
    };
    Ok(Item {
        id: item_id(system.as_deref(), &prompt, &completions),
        line: rec.line,
        system,
        prompt,
        completions,
        ended,
    })
}

/// Every item of a samples file; errors name the file, line and field.
pub fn read_items(path: &Path) -> Result<Items> {
    let mut out = Items::default();
    for_each_record(path, |rec| {
        let item = parse_item(&rec)?;
        if out.by_id.contains_key(&item.id) {
            out.duplicates += 1;
        } else {
            out.by_id.insert(item.id.clone(), out.items.len());
            out.items.push(item);
        }
        Ok(())
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Items> {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        read_items(f.path())
    }

    #[test]
    fn reads_sample_output_and_plain_records() {
        let items = read(concat!(
            r#"{"prompt": "q1", "category": "x", "completions": ["a", "b"], "ended": [true, false]}"#,
            "\n",
            r#"{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "q2"}], "completions": ["c", "d", "e"]}"#,
            "\n",
            r#"{"prompt": "q1", "completions": ["a", "b"]}"#,
            "\n",
        ))
        .unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items.duplicates, 1);
        assert_eq!(items.items[0].ended, [true, false]);
        assert_eq!(items.items[1].ended, [true, true, true]);
        let second = &items.items[1];
        assert_eq!(
            (
                second.system.as_deref(),
                second.prompt.as_str(),
                second.line
            ),
            (Some("s"), "q2", 2)
        );
        assert_eq!(items.get(&second.id), Some(second));
        assert_ne!(items.items[0].id, second.id);
        assert_eq!(
            items.items[0].id,
            item_id(None, "q1", &["a".into(), "b".into()])
        );
    }

    #[test]
    fn errors_name_line_and_field() {
        let err = |t: &str| read(t).unwrap_err().to_string();
        let e = err("{\"prompt\": \"q\", \"completions\": [\"a\", \"b\"]}\n{\"prompt\": \"q\", \"completions\": [\"a\"]}\n");
        assert!(
            e.ends_with(":2: field `completions`: 1 completions; expected 2 to 9"),
            "{e}"
        );
        let e = err(r#"{"prompt": "q", "completions": ["a", 3]}"#);
        assert!(
            e.ends_with(":1: field `completions[1]`: expected a string, found a number"),
            "{e}"
        );
        let e = err(r#"{"prompt": "q<|im_end|>", "completions": ["a", "b"]}"#);
        assert!(
            e.contains(":1: field `prompt`: contains the ChatML delimiter"),
            "{e}"
        );
        let e = err(
            r#"{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "completions": ["a", "b"]}"#,
        );
        assert!(
            e.contains(":1: field `messages[1].role`: only a system turn"),
            "{e}"
        );
        let e = err(r#"{"prompt": "q", "completions": ["a", "b"], "ended": [true]}"#);
        assert!(
            e.ends_with(":1: field `ended`: 1 flags for 2 completions"),
            "{e}"
        );
        let e = err(r#"{"prompt": "q", "completions": ["a", "b"], "ended": [true, 1]}"#);
        assert!(
            e.ends_with(":1: field `ended[1]`: expected a boolean"),
            "{e}"
        );
        let e = err(r#"{"completions": ["a", "b"]}"#);
        assert!(e.ends_with(":1: field `prompt`: missing"), "{e}");
    }
}
