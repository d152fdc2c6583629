//! An append-only JSONL file that survives crashes: each record is one `write` of a whole
//! line followed by an fsync before the caller hears it is saved, so an acknowledged
//! record is on disk. A crash in the middle of an append can only leave a partial last
//! line without its newline; opening the file drops it (it was never acknowledged).
//! Removing the last record (undo) rewrites the file to a temporary and renames it over,
//! so the file is always either before or after the undo.

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::checkpoint::atomic::{sync_dir, write_bytes};
use crate::error::{Error, Result};

/// One record of a journal, with its 1-based line.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub line: usize,
    pub fields: Map<String, Value>,
}

#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
}

/// What [`Journal::open`] found.
#[derive(Debug)]
pub struct Opened {
    pub journal: Journal,
    pub entries: Vec<Entry>,
    /// Bytes of an unfinished last line that were dropped.
    pub dropped_tail: usize,
}

fn parse_lines(path: &Path, text: &str) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(Value::Object(fields)) => out.push(Entry {
                line: line_no,
                fields,
            }),
            Ok(_) => return Err(Error::data(path, line_no, None, "expected a JSON object")),
            Err(e) => return Err(Error::data(path, line_no, None, format!("not JSON: {e}"))),
        }
    }
    Ok(out)
}

impl Journal {
    /// Open `path` (missing: empty) and read its records. An unfinished last line that is
    /// not a whole JSON object is cut off the file; one that is gets its newline.
    pub fn open(path: &Path) -> Result<Opened> {
        let bytes = match fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(Error::io(path, e)),
        };
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let tail = &bytes[complete..];
        let mut keep = complete;
        if !tail.is_empty() && serde_json::from_slice::<Map<String, Value>>(tail).is_ok() {
            keep = bytes.len();
        }
        let mut text = String::from_utf8(bytes[..keep].to_vec())
            .map_err(|e| Error::format(path, e.utf8_error().valid_up_to() as u64, "not UTF-8"))?;
        let dropped_tail = bytes.len() - keep;
        if keep != complete || dropped_tail > 0 {
            if keep != complete {
                text.push('\n');
            }
            write_bytes(path, text.as_bytes())?;
        }
        let entries = parse_lines(path, &text)?;
        Ok(Opened {
            journal: Journal {
                path: path.to_path_buf(),
            },
            entries,
            dropped_tail,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one record and fsync it (and the directory, when the file is new).
    pub fn append(&self, fields: &Map<String, Value>) -> Result<()> {
        let mut line = serde_json::to_vec(fields).expect("serializable");
        line.push(b'\n');
        let created = !self.path.exists();
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| Error::io(&self.path, e))?;
        f.write_all(&line)
            .and_then(|()| f.sync_data())
            .map_err(|e| Error::io(&self.path, e))?;
        if created {
            if let Some(dir) = self.path.parent() {
                sync_dir(dir)?;
            }
        }
        Ok(())
    }

    /// Remove the last record, atomically, and return it.
    pub fn pop(&self) -> Result<Option<Entry>> {
        let text = match fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&self.path, e)),
        };
        let entries = parse_lines(&self.path, &text)?;
        let Some(last) = entries.last().cloned() else {
            return Ok(None);
        };
        let kept: String = text.split_inclusive('\n').take(last.line - 1).collect();
        write_bytes(&self.path, kept.as_bytes())?;
        Ok(Some(last))
    }
}

/// Create `dir` and make its entry durable.
pub fn create_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        sync_dir(parent)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn appends_pops_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let j = Journal::open(&path).unwrap();
        assert!(j.entries.is_empty());
        let j = j.journal;
        j.append(&obj(json!({"a": 1}))).unwrap();
        j.append(&obj(json!({"a": "<script>\n"}))).unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "{\"a\":1}\n{\"a\":\"<script>\\n\"}\n"
        );
        let popped = j.pop().unwrap().unwrap();
        assert_eq!(
            (popped.line, &popped.fields["a"]),
            (2, &json!("<script>\n"))
        );
        let again = Journal::open(&path).unwrap();
        assert_eq!(again.entries.len(), 1);
        assert_eq!(again.entries[0].fields["a"], json!(1));
        assert_eq!(again.journal.pop().unwrap().unwrap().line, 1);
        assert_eq!(again.journal.pop().unwrap(), None);
        assert_eq!(fs::read_to_string(&path).unwrap(), "");
    }

    #[test]
    fn a_torn_last_line_is_dropped_and_a_whole_one_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        fs::write(&path, "{\"a\":1}\n{\"a\":2,\"b\"").unwrap();
        let o = Journal::open(&path).unwrap();
        assert_eq!((o.entries.len(), o.dropped_tail), (1, 10));
        assert_eq!(fs::read_to_string(&path).unwrap(), "{\"a\":1}\n");

        fs::write(&path, "{\"a\":1}\n{\"a\":2}").unwrap();
        let o = Journal::open(&path).unwrap();
        assert_eq!((o.entries.len(), o.dropped_tail), (2, 0));
        assert_eq!(fs::read_to_string(&path).unwrap(), "{\"a\":1}\n{\"a\":2}\n");
    }

    #[test]
    fn a_bad_line_in_the_middle_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        fs::write(&path, "{\"a\":1}\n[2]\n{\"a\":3}\n").unwrap();
        let e = Journal::open(&path).unwrap_err().to_string();
        assert!(e.ends_with("j.jsonl:2: expected a JSON object"), "{e}");
    }
}
