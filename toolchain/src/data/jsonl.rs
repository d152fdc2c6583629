//! Reading JSONL data files, one JSON object per line, with errors that name the file,
//! the line (1-based) and the field.
//!
//! Blank lines are skipped; a line that is not UTF-8, not JSON or not an object is an
//! error, and so is a file without a single record. Fields a loader does not ask for are
//! ignored (the TRL conventions allow extra columns).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// One line's object, with where it came from.
#[derive(Clone, Debug)]
pub struct Record {
    pub path: Arc<Path>,
    /// 1-based line number.
    pub line: usize,
    pub fields: Map<String, Value>,
}

/// Calls `f` on every record of `path`, in order, without holding the whole file.
pub fn for_each_record(path: &Path, mut f: impl FnMut(Record) -> Result<()>) -> Result<()> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::new(file);
    let shared: Arc<Path> = Arc::from(path);
    let mut buf = Vec::new();
    let (mut line, mut records) = (0usize, 0usize);
    loop {
        buf.clear();
        if reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| Error::io(path, e))?
            == 0
        {
            break;
        }
        line += 1;
        let mut bytes = buf.as_slice();
        if line == 1 {
            bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        }
        let text = std::str::from_utf8(bytes).map_err(|e| {
            Error::data(
                path,
                line,
                None,
                format!("not UTF-8 (at byte {} of the line)", e.valid_up_to()),
            )
        })?;
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(text)
            .map_err(|e| Error::data(path, line, None, format!("not JSON: {e}")))?;
        let Value::Object(fields) = value else {
            return Err(Error::data(
                path,
                line,
                None,
                format!("expected a JSON object, found {}", kind(&value)),
            ));
        };
        records += 1;
        f(Record {
            path: shared.clone(),
            line,
            fields,
        })?;
    }
    if records == 0 {
        return Err(Error::format(path, 0, "no records: the file is empty"));
    }
    Ok(())
}

/// Every record of `path`.
pub fn read_records(path: &Path) -> Result<Vec<Record>> {
    let mut out = Vec::new();
    for_each_record(path, |r| {
        out.push(r);
        Ok(())
    })?;
    Ok(out)
}

/// "a string", "an array", … for error messages.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Record {
    /// An error about `field` (a JSON path such as `messages[1].role`) of this record.
    pub fn error(&self, field: &str, what: impl Into<String>) -> Error {
        Error::data(&self.path, self.line, Some(field), what)
    }

    /// An error about the record as a whole.
    pub fn line_error(&self, what: impl Into<String>) -> Error {
        Error::data(&self.path, self.line, None, what)
    }

    pub fn has(&self, field: &str) -> bool {
        self.fields.get(field).is_some_and(|v| !v.is_null())
    }

    /// A required top-level field.
    pub fn get(&self, field: &str) -> Result<&Value> {
        match self.fields.get(field) {
            Some(v) if !v.is_null() => Ok(v),
            _ => Err(self.error(field, "missing")),
        }
    }

    /// A required string field.
    pub fn str(&self, field: &str) -> Result<&str> {
        self.as_str(self.get(field)?, field)
    }

    /// An optional string field (absent or null: `None`).
    pub fn opt_str(&self, field: &str) -> Result<Option<&str>> {
        match self.fields.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => self.as_str(v, field).map(Some),
        }
    }

    /// A required array field.
    pub fn array(&self, field: &str) -> Result<&[Value]> {
        self.as_array(self.get(field)?, field)
    }

    /// `v`, found at `label`, as a string.
    pub fn as_str<'v>(&self, v: &'v Value, label: &str) -> Result<&'v str> {
        v.as_str()
            .ok_or_else(|| self.error(label, format!("expected a string, found {}", kind(v))))
    }

    /// `v`, found at `label`, as an array.
    pub fn as_array<'v>(&self, v: &'v Value, label: &str) -> Result<&'v [Value]> {
        v.as_array()
            .map(Vec::as_slice)
            .ok_or_else(|| self.error(label, format!("expected an array, found {}", kind(v))))
    }

    /// `v`, found at `label`, as an object.
    pub fn as_object<'v>(&self, v: &'v Value, label: &str) -> Result<&'v Map<String, Value>> {
        v.as_object()
            .ok_or_else(|| self.error(label, format!("expected an object, found {}", kind(v))))
    }

    /// `v`, found at `label`, as a non-negative integer.
    pub fn as_usize(&self, v: &Value, label: &str) -> Result<usize> {
        v.as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| self.error(label, format!("expected a non-negative integer, found {v}")))
    }

    /// The string `key` of object `obj`, itself found at `label`.
    pub fn member_str<'v>(
        &self,
        obj: &'v Map<String, Value>,
        key: &str,
        label: &str,
    ) -> Result<&'v str> {
        let field = format!("{label}.{key}");
        match obj.get(key) {
            Some(v) if !v.is_null() => self.as_str(v, &field),
            _ => Err(self.error(&field, "missing")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(content: &[u8]) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), content).unwrap();
        f
    }

    fn err(content: &[u8]) -> String {
        let f = file(content);
        let e = read_records(f.path()).unwrap_err().to_string();
        assert!(e.contains(&f.path().display().to_string()), "{e}");
        e
    }

    #[test]
    fn reads_objects_and_skips_blank_lines() {
        let f = file(b"\xef\xbb\xbf{\"a\": \"x\"}\n\n  \r\n{\"a\": \"y\", \"b\": 1}\r\n");
        let recs = read_records(f.path()).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!((recs[0].line, recs[1].line), (1, 4));
        assert_eq!(recs[1].str("a").unwrap(), "y");
        assert_eq!(recs[1].opt_str("c").unwrap(), None);
    }

    #[test]
    fn errors_name_line_and_field() {
        assert!(err(b"").contains("empty"));
        assert!(err(b"\n  \n").contains("empty"));
        let e = err(b"{\"a\": 1}\n{\"a\": \xff}\n");
        assert!(e.contains(":2: not UTF-8"), "{e}");
        let e = err(b"{\"a\": 1}\n\n{\"a\": \n");
        assert!(e.contains(":3: not JSON"), "{e}");
        let e = err(b"[1, 2]\n");
        assert!(
            e.contains(":1: expected a JSON object, found an array"),
            "{e}"
        );

        let f = file(b"{\"a\": 1, \"m\": [{\"role\": 3}]}\n");
        let rec = &read_records(f.path()).unwrap()[0];
        let e = rec.str("a").unwrap_err().to_string();
        assert!(
            e.ends_with(":1: field `a`: expected a string, found a number"),
            "{e}"
        );
        assert!(rec
            .str("b")
            .unwrap_err()
            .to_string()
            .ends_with("field `b`: missing"));
        let m = rec.array("m").unwrap();
        let obj = rec.as_object(&m[0], "m[0]").unwrap();
        let e = rec.member_str(obj, "role", "m[0]").unwrap_err().to_string();
        assert!(
            e.ends_with("field `m[0].role`: expected a string, found a number"),
            "{e}"
        );
    }
}
