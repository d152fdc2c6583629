//! `metrics.jsonl`: one JSON object per logged step, appended and flushed as training goes.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{Error, Result};

pub struct MetricsLog {
    path: PathBuf,
    file: File,
}

impl MetricsLog {
    /// Starts an empty log at `path`.
    pub fn create(path: &Path) -> Result<Self> {
        let file = File::create(path).map_err(|e| Error::io(path, e))?;
        Ok(MetricsLog {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Continues the log of a run resumed at `step`: lines of later steps (written after
    /// that checkpoint, by the interrupted run) and any torn last line are dropped.
    pub fn resume(path: &Path, step: u64) -> Result<Self> {
        let mut kept = String::new();
        if path.exists() {
            let f = File::open(path).map_err(|e| Error::io(path, e))?;
            for line in BufReader::new(f).split(b'\n') {
                let line = line.map_err(|e| Error::io(path, e))?;
                let logged = serde_json::from_slice::<Value>(&line)
                    .ok()
                    .and_then(|v| v.get("step").and_then(Value::as_u64));
                if let (Some(s), Ok(text)) = (logged, std::str::from_utf8(&line)) {
                    if s <= step {
                        kept.push_str(text);
                        kept.push('\n');
                    }
                }
            }
        }
        let tmp = path.with_extension("jsonl.tmp");
        std::fs::write(&tmp, kept).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        Ok(MetricsLog {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Appends one record as a line.
    pub fn write(&mut self, record: &Map<String, Value>) -> Result<()> {
        let mut line = serde_json::to_string(record).expect("JSON map serialises");
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .map_err(|e| Error::io(&self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resume_drops_later_steps_and_torn_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.jsonl");
        let mut log = MetricsLog::create(&path).unwrap();
        for step in 1..=5u64 {
            let rec = json!({"step": step, "loss": 1.0 / step as f64});
            log.write(rec.as_object().unwrap()).unwrap();
        }
        drop(log);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"step\": 6, \"lo").unwrap();
        drop(f);
        let mut log = MetricsLog::resume(&path, 3).unwrap();
        log.write(json!({"step": 4}).as_object().unwrap()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let steps: Vec<u64> = text
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["step"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(steps, [1, 2, 3, 4]);
    }
}
