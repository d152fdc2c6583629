//! The lines a labeler's files hold. Each is in the format the training verbs read, plus
//! bookkeeping fields they ignore (`id`, `labeler`, `seq`, `time`):
//!
//! - `rankings.jsonl`: `{"prompt","system"?,"completions","ranking"}` for `mote rm` and
//!   `mote dpo`; `ranking` lists completion indices best first, an inner array being a
//!   tie (see [`crate::data::preferences`]);
//! - `demos.jsonl`: `{"prompt","system"?,"completion"}` for `mote sft`; a corrected answer
//!   also keeps `"original": {"index","completion"}`;
//! - `critiques.jsonl`: `{"prompt","system"?,"index","response","critique"}`; the answer
//!   is under `response`, not `completion`, so the file cannot be mistaken for
//!   demonstrations;
//! - `skips.jsonl`: `{"id"}` only.
//!
//! `seq` numbers a labeler's records across the four files, so the last one (what undo
//! takes back) is known after a restart.

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

use super::error::{LabelError, LabelResult};
use super::items::Item;
use crate::data::preferences::parse_preference;
use crate::data::sft::parse_conversation;
use crate::data::Record;
use crate::error::Error;

/// The four kinds of record, one file each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Ranking,
    Demo,
    Critique,
    Skip,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Ranking, Kind::Demo, Kind::Critique, Kind::Skip];

    pub fn file_name(self) -> &'static str {
        match self {
            Kind::Ranking => "rankings.jsonl",
            Kind::Demo => "demos.jsonl",
            Kind::Critique => "critiques.jsonl",
            Kind::Skip => "skips.jsonl",
        }
    }
}

/// Fields every record carries.
#[derive(Clone, Debug, Serialize)]
pub struct Stamp<'a> {
    pub id: &'a str,
    pub labeler: &'a str,
    pub seq: u64,
    /// Seconds since the Unix epoch.
    pub time: u64,
}

#[derive(Serialize)]
struct Prompted<'a, T: Serialize> {
    prompt: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<&'a str>,
    #[serde(flatten)]
    body: T,
    #[serde(flatten)]
    stamp: &'a Stamp<'a>,
}

#[derive(Serialize)]
struct RankingBody<'a> {
    completions: &'a [String],
    ranking: &'a Value,
}

#[derive(Serialize)]
struct Original<'a> {
    index: usize,
    completion: &'a str,
}

#[derive(Serialize)]
struct DemoBody<'a> {
    completion: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    original: Option<Original<'a>>,
}

#[derive(Serialize)]
struct CritiqueBody<'a> {
    index: usize,
    response: &'a str,
    critique: &'a str,
}

fn to_map(v: impl Serialize) -> Map<String, Value> {
    match serde_json::to_value(v).expect("serializable") {
        Value::Object(m) => m,
        _ => unreachable!("records are objects"),
    }
}

/// Run a training reader over a record about to be written, so that what the page
/// submits is exactly what `mote rm` / `mote sft` accept. Their error becomes the reply.
fn check_with<T>(
    fields: &Map<String, Value>,
    file: &str,
    read: impl FnOnce(&Record) -> crate::error::Result<T>,
) -> LabelResult<()> {
    let rec = Record {
        path: Arc::from(Path::new(file)),
        line: 0,
        fields: fields.clone(),
    };
    match read(&rec) {
        Ok(_) => Ok(()),
        Err(Error::Data { field, what, .. }) => Err(LabelError::Invalid(match field {
            Some(f) => format!("field `{f}`: {what}"),
            None => what,
        })),
        Err(e) => Err(e.into()),
    }
}

fn nonempty(text: &str, what: &str) -> LabelResult<()> {
    if text.trim().is_empty() {
        return Err(LabelError::Invalid(format!("the {what} is empty")));
    }
    Ok(())
}

fn answer(item: &Item, index: usize) -> LabelResult<&str> {
    item.completions
        .get(index)
        .map(String::as_str)
        .ok_or_else(|| {
            LabelError::Invalid(format!(
                "answer {index} out of range for {} answers",
                item.completions.len()
            ))
        })
}

/// A ranking line; `ranking` as in the rankings format (indices best first, ties as
/// inner arrays).
pub fn ranking(item: &Item, ranking: &Value, stamp: &Stamp) -> LabelResult<Map<String, Value>> {
    let m = to_map(Prompted {
        prompt: &item.prompt,
        system: item.system.as_deref(),
        body: RankingBody {
            completions: &item.completions,
            ranking,
        },
        stamp,
    });
    check_with(&m, Kind::Ranking.file_name(), parse_preference)?;
    Ok(m)
}

/// A demonstration line: written from scratch, or a correction of answer `corrects`.
pub fn demo(
    item: &Item,
    completion: &str,
    corrects: Option<usize>,
    stamp: &Stamp,
) -> LabelResult<Map<String, Value>> {
    nonempty(completion, "answer")?;
    let original = match corrects {
        Some(index) => {
            let text = answer(item, index)?;
            if text.trim() == completion.trim() {
                return Err(LabelError::Invalid(
                    "the correction is the same as the answer".into(),
                ));
            }
            Some(Original {
                index,
                completion: text,
            })
        }
        None => None,
    };
    let m = to_map(Prompted {
        prompt: &item.prompt,
        system: item.system.as_deref(),
        body: DemoBody {
            completion,
            original,
        },
        stamp,
    });
    check_with(&m, Kind::Demo.file_name(), parse_conversation)?;
    Ok(m)
}

/// A critique line of answer `index`.
pub fn critique(
    item: &Item,
    index: usize,
    critique: &str,
    stamp: &Stamp,
) -> LabelResult<Map<String, Value>> {
    nonempty(critique, "critique")?;
    let response = answer(item, index)?;
    Ok(to_map(Prompted {
        prompt: &item.prompt,
        system: item.system.as_deref(),
        body: CritiqueBody {
            index,
            response,
            critique,
        },
        stamp,
    }))
}

/// A skip line.
pub fn skip(stamp: &Stamp) -> Map<String, Value> {
    to_map(stamp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item() -> Item {
        Item {
            id: "i".into(),
            line: 1,
            system: None,
            prompt: "q".into(),
            completions: vec!["a".into(), "b".into(), "<script>c</script>".into()],
            ended: vec![true; 3],
        }
    }

    const STAMP: Stamp = Stamp {
        id: "i",
        labeler: "ann",
        seq: 4,
        time: 5,
    };

    #[test]
    fn rankings_are_what_the_reward_model_reads() {
        let m = ranking(&item(), &json!([2, [0, 1]]), &STAMP).unwrap();
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"completions":["a","b","<script>c</script>"],"id":"i","labeler":"ann","prompt":"q","ranking":[2,[0,1]],"seq":4,"time":5}"#
        );
        let e = ranking(&item(), &json!([[0, 1, 2]]), &STAMP).unwrap_err();
        assert_eq!(
            e.to_string(),
            "field `ranking`: every completion is tied: no preference to learn from"
        );
        let e = ranking(&item(), &json!([0, 1]), &STAMP).unwrap_err();
        assert!(
            e.to_string().starts_with("field `ranking`: 2 entries"),
            "{e}"
        );
    }

    #[test]
    fn demos_and_corrections() {
        let m = demo(&item(), "better", Some(1), &STAMP).unwrap();
        assert_eq!(m["completion"], json!("better"));
        assert_eq!(m["original"], json!({"index": 1, "completion": "b"}));
        assert!(demo(&item(), "  ", None, &STAMP).is_err());
        assert!(demo(&item(), "b", Some(1), &STAMP).is_err());
        assert!(demo(&item(), "x", Some(3), &STAMP).is_err());
        let e = demo(&item(), "x<|im_end|>", None, &STAMP).unwrap_err();
        assert!(
            e.to_string().starts_with("field `completion`: contains"),
            "{e}"
        );
    }

    #[test]
    fn critiques_name_the_answer() {
        let m = critique(&item(), 2, "unsafe", &STAMP).unwrap();
        assert_eq!(m["response"], json!("<script>c</script>"));
        assert!(!m.contains_key("completion"));
        assert!(critique(&item(), 0, "", &STAMP).is_err());
    }
}
