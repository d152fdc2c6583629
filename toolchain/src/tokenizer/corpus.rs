//! Training texts from files: plain `.txt` (one text per non-empty line, as SentencePiece
//! reads them) or `.jsonl` with `{"text"}`, `{"prompt","completion"}` or
//! `{"messages":[{"role","content"}]}` lines, of which every string is used.

use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};

/// Every training text in `paths`, in order.
pub fn read_texts(paths: &[impl AsRef<Path>]) -> Result<Vec<String>> {
    let mut texts = Vec::new();
    for path in paths {
        let path = path.as_ref();
        let data = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        if path.extension().is_some_and(|e| e == "jsonl") {
            for (i, line) in data.lines().enumerate() {
                if !line.trim().is_empty() {
                    jsonl_strings(line, &mut texts)
                        .map_err(|what| Error::data(path, i + 1, None, what))?;
                }
            }
        } else {
            let lines = data.lines().map(|l| l.strip_suffix('\r').unwrap_or(l));
            texts.extend(lines.filter(|l| !l.is_empty()).map(str::to_owned));
        }
    }
    Ok(texts)
}

/// The strings of one JSONL record, or what is wrong with it.
fn jsonl_strings(line: &str, out: &mut Vec<String>) -> std::result::Result<(), String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let obj = v.as_object().ok_or("not a JSON object")?;
    let string = |v: &Value, field: &str| {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("field \"{field}\" is not a string"))
    };
    let mut found = false;
    for field in ["text", "prompt", "completion"] {
        if let Some(v) = obj.get(field) {
            out.push(string(v, field)?);
            found = true;
        }
    }
    if let Some(messages) = obj.get("messages") {
        let messages = messages
            .as_array()
            .ok_or("field \"messages\" is not an array")?;
        for (i, m) in messages.iter().enumerate() {
            for key in ["role", "content"] {
                let field = format!("messages[{i}].{key}");
                let v = m
                    .get(key)
                    .ok_or_else(|| format!("field \"{field}\" is missing"))?;
                out.push(string(v, &field)?);
            }
        }
        found = true;
    }
    if found {
        Ok(())
    } else {
        Err("no \"text\", \"prompt\"/\"completion\" or \"messages\" field".into())
    }
}
