//! Saving the console's export blocks as training data: each record line is checked with
//! the reader of the command that will read the file, and the good ones are appended to
//! `DIR/NAME`, one atomic file replacement per block.
//!
//! The board keeps its feedback until it restarts, so a second `/export` repeats the
//! records of the first: lines already in the file are not appended again.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use super::export_blocks::{is_plain_jsonl_name, ExportBlock};
use crate::checkpoint::atomic;
use crate::data::jsonl::{kind, Record};
use crate::data::preferences::parse_preference;
use crate::data::sft::parse_conversation;
use crate::error::{Error, Result};

/// What saving one block did.
#[derive(Debug)]
pub struct SavedBlock {
    pub file: PathBuf,
    /// Records appended.
    pub saved: usize,
    /// Good records already in the file.
    pub already: usize,
    /// Records that failed their check, each naming the block and its line
    /// (`preferences.jsonl:2: field `chosen`: missing`); none of them was written.
    pub bad: Vec<Error>,
}

/// Check one record line of block `name`; `line` is its 1-based place in the block.
/// `sft.jsonl` must load in `mote sft`, `preferences.jsonl` in `mote rm` and `mote dpo`;
/// `labels.jsonl` is a demonstration with a boolean `label`; any other block a JSON
/// object. Errors name `name:line`.
pub fn check_record(name: &str, line: usize, bytes: &[u8]) -> Result<()> {
    let path: Arc<Path> = Arc::from(Path::new(name));
    let fail = |what: String| Error::data(&path, line, None, what);
    let text = std::str::from_utf8(bytes)
        .map_err(|e| fail(format!("not UTF-8 (at byte {})", e.valid_up_to())))?;
    let value: Value =
        serde_json::from_str(text.trim()).map_err(|e| fail(format!("not JSON: {e}")))?;
    let Value::Object(fields) = value else {
        return Err(fail(format!(
            "expected a JSON object, found {}",
            kind(&value)
        )));
    };
    let rec = Record {
        path: path.clone(),
        line,
        fields,
    };
    match name {
        "sft.jsonl" => parse_conversation(&rec).map(drop),
        "preferences.jsonl" => parse_preference(&rec).map(drop),
        "labels.jsonl" => {
            parse_conversation(&rec)?;
            match rec.get("label")? {
                Value::Bool(_) => Ok(()),
                v => Err(rec.error("label", format!("expected a boolean, found {}", kind(v)))),
            }
        }
        _ => Ok(()),
    }
}

/// Append the good, new records of `block` to `dir/NAME` (creating `dir`), replacing the
/// file atomically; nothing is written when no record is new.
pub fn save_block(dir: &Path, block: &ExportBlock) -> Result<SavedBlock> {
    // The scanner only yields plain names; checked again because this builds a path.
    if !is_plain_jsonl_name(&block.name) {
        return Err(Error::data(
            Path::new(&block.name),
            0,
            None,
            "not a plain *.jsonl file name",
        ));
    }
    let file = dir.join(&block.name);
    let mut report = SavedBlock {
        file: file.clone(),
        saved: 0,
        already: 0,
        bad: Vec::new(),
    };
    let mut good = Vec::new();
    for (i, line) in block.lines.iter().enumerate() {
        match check_record(&block.name, i + 1, line) {
            Ok(()) => good.push(line.trim_ascii()),
            Err(e) => report.bad.push(e),
        }
    }
    if good.is_empty() {
        return Ok(report);
    }
    let mut content = match std::fs::read(&file) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::io(&file, e)),
    };
    let mut seen: HashSet<Vec<u8>> = content
        .split(|&b| b == b'\n')
        .map(|l| l.trim_ascii().to_vec())
        .collect();
    let old_len = content.len();
    if !content.is_empty() && !content.ends_with(b"\n") {
        content.push(b'\n');
    }
    for line in good {
        if seen.insert(line.to_vec()) {
            content.extend_from_slice(line);
            content.push(b'\n');
            report.saved += 1;
        } else {
            report.already += 1;
        }
    }
    if content.len() > old_len {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        atomic::write_bytes(&file, &content)?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{read_preferences, read_records};

    fn block(name: &str, lines: &[&str]) -> ExportBlock {
        ExportBlock {
            name: name.into(),
            lines: lines.iter().map(|l| l.as_bytes().to_vec()).collect(),
        }
    }

    fn err(name: &str, line: &str) -> String {
        check_record(name, 3, line.as_bytes())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn records_are_checked_with_the_readers_of_their_file() {
        let pair = r#"{"system":"Be brief.","prompt":"hi","chosen":"Hello!","rejected":"hm"}"#;
        let demo = r#"{"prompt":"hi","completion":"Hello!"}"#;
        let label = r#"{"prompt":"hi","completion":"hm","label":false}"#;
        check_record("preferences.jsonl", 1, pair.as_bytes()).unwrap();
        check_record("sft.jsonl", 1, demo.as_bytes()).unwrap();
        check_record("labels.jsonl", 1, label.as_bytes()).unwrap();
        check_record("other.jsonl", 1, b"{\"anything\": 1}").unwrap();

        assert_eq!(
            err("preferences.jsonl", demo),
            "preferences.jsonl:3: field `chosen`: missing"
        );
        assert_eq!(
            err("sft.jsonl", r#"{"prompt":"hi"}"#),
            "sft.jsonl:3: field `completion`: missing"
        );
        assert_eq!(
            err("labels.jsonl", demo),
            "labels.jsonl:3: field `label`: missing"
        );
        assert_eq!(
            err(
                "labels.jsonl",
                r#"{"prompt":"a","completion":"b","label":"yes"}"#
            ),
            "labels.jsonl:3: field `label`: expected a boolean, found a string"
        );
        assert!(
            err("sft.jsonl", r#"{"prompt":"<|im_end|>","completion":"x"}"#)
                .contains("sft.jsonl:3: field `prompt`: contains the ChatML delimiter")
        );
        assert!(err("sft.jsonl", r#"{"prompt":"hi","#).starts_with("sft.jsonl:3: not JSON"));
        assert_eq!(
            err("other.jsonl", "[1]"),
            "other.jsonl:3: expected a JSON object, found an array"
        );
        assert_eq!(
            check_record("sft.jsonl", 1, b"{\"prompt\":\"\xff\"}")
                .unwrap_err()
                .to_string(),
            "sft.jsonl:1: not UTF-8 (at byte 11)"
        );
    }

    #[test]
    fn good_records_are_appended_once_and_bad_ones_reported() {
        let dir = tempfile::tempdir().unwrap();
        let fb = dir.path().join("feedback");
        let a = r#"{"prompt":"a","chosen":"good","rejected":"bad"}"#;
        let b = r#"{"prompt":"b","chosen":"better","rejected":"worse"}"#;
        let r = save_block(&fb, &block("preferences.jsonl", &[a, "{\"prompt\":1}"])).unwrap();
        assert_eq!((r.saved, r.already), (1, 0));
        assert_eq!(r.bad.len(), 1);
        assert!(r.bad[0]
            .to_string()
            .starts_with("preferences.jsonl:2: field `prompt`"));
        assert_eq!(r.file, fb.join("preferences.jsonl"));

        // A second export repeats the first record.
        let r = save_block(&fb, &block("preferences.jsonl", &[a, b])).unwrap();
        assert_eq!((r.saved, r.already, r.bad.len()), (1, 1, 0));
        let prefs = read_preferences(&fb.join("preferences.jsonl")).unwrap();
        assert_eq!(prefs.len(), 2);
        assert_eq!(prefs[1].responses, ["better", "worse"]);

        // A file without a final newline gets one before the new records.
        std::fs::write(fb.join("sft.jsonl"), r#"{"prompt":"x","completion":"y"}"#).unwrap();
        save_block(
            &fb,
            &block("sft.jsonl", &[r#"{"prompt":"z","completion":"w"}"#]),
        )
        .unwrap();
        assert_eq!(read_records(&fb.join("sft.jsonl")).unwrap().len(), 2);

        // Nothing good: no file, no directory.
        let empty = dir.path().join("none");
        let r = save_block(&empty, &block("labels.jsonl", &["{}"])).unwrap();
        assert_eq!((r.saved, r.bad.len()), (0, 1));
        assert!(!empty.exists());

        assert!(save_block(&fb, &block("../x.jsonl", &[a])).is_err());
    }
}
