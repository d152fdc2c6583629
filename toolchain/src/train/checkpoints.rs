//! The checkpoint directories under OUT and how they are written atomically.
//!
//! ```text
//! OUT/
//!   latest                  "checkpoint-000500\n": the newest complete checkpoint
//!   checkpoint-000400/      (the last `keep` checkpoints are kept)
//!   checkpoint-000500/
//!     config.json  model.safetensors  tokenizer.json    written by the stage
//!     optimizer.safetensors                             AdamW moments (exact f32)
//!     trainer_state.json                                step, tokens, config, …
//!   metrics.jsonl
//!   config.json  model.safetensors  tokenizer.json      the final model, after the last step
//! ```
//!
//! A checkpoint is written into `OUT/.tmp-checkpoint-NNNNNN`, every file and the directory
//! are fsynced, and one rename gives it its name; only then does `latest` move (tmp file +
//! rename). A kill at any point leaves either the previous checkpoint or the new one, never
//! a torn directory under a checkpoint name; leftover `.tmp-*` entries are removed on start.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub const LATEST: &str = "latest";
pub const STATE_FILE: &str = "trainer_state.json";
pub const OPTIMIZER_FILE: &str = "optimizer.safetensors";
const TMP_PREFIX: &str = ".tmp-";

/// `checkpoint-000123`.
pub fn checkpoint_name(step: u64) -> String {
    format!("checkpoint-{step:06}")
}

fn parse_step(name: &str) -> Option<u64> {
    name.strip_prefix("checkpoint-")?.parse().ok()
}

/// Complete checkpoints in `out`, oldest first, as (step, directory).
pub fn list(out: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let mut found = Vec::new();
    let entries = match fs::read_dir(out) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(Error::io(out, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(out, e))?;
        let name = entry.file_name();
        if let Some(step) = name.to_str().and_then(parse_step) {
            let dir = entry.path();
            if dir.join(STATE_FILE).is_file() {
                found.push((step, dir));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The newest complete checkpoint: the one `latest` names, or, if that pointer is missing
/// (a kill between the directory's rename and the pointer's), the highest-numbered one.
pub fn latest(out: &Path) -> Result<Option<PathBuf>> {
    let pointer = out.join(LATEST);
    match fs::read_to_string(&pointer) {
        Ok(name) => {
            let dir = out.join(name.trim());
            let step = parse_step(name.trim()).filter(|_| dir.join(STATE_FILE).is_file());
            let Some(step) = step else {
                return Err(Error::checkpoint(
                    &pointer,
                    format!(
                        "names `{}`, which is not a complete checkpoint",
                        name.trim()
                    ),
                ));
            };
            // A newer complete checkpoint than the pointer can only come from that kill.
            let newest = list(out)?.pop().filter(|(s, _)| *s > step);
            Ok(Some(newest.map_or(dir, |(_, d)| d)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(list(out)?.pop().map(|(_, d)| d)),
        Err(e) => Err(Error::io(&pointer, e)),
    }
}

/// Removes temporary entries a killed run left in `out`.
pub fn remove_leftovers(out: &Path) -> Result<()> {
    for entry in fs::read_dir(out).map_err(|e| Error::io(out, e))? {
        let entry = entry.map_err(|e| Error::io(out, e))?;
        if entry.file_name().to_string_lossy().starts_with(TMP_PREFIX) {
            remove_any(&entry.path())?;
        }
    }
    Ok(())
}

fn remove_any(path: &Path) -> Result<()> {
    let r = if path.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    };
    r.map_err(|e| Error::io(path, e))
}

/// Writes checkpoint `step` atomically: `write` fills a temporary directory, which is
/// synced and renamed to `checkpoint-NNNNNN`; then `latest` points at it.
pub fn commit(out: &Path, step: u64, write: impl FnOnce(&Path) -> Result<()>) -> Result<PathBuf> {
    let name = checkpoint_name(step);
    let tmp = out.join(format!("{TMP_PREFIX}{name}"));
    if tmp.exists() {
        remove_any(&tmp)?;
    }
    fs::create_dir(&tmp).map_err(|e| Error::io(&tmp, e))?;
    write(&tmp)?;
    sync_tree(&tmp)?;
    let dir = out.join(&name);
    if dir.exists() {
        remove_any(&dir)?;
    }
    fs::rename(&tmp, &dir).map_err(|e| Error::io(&dir, e))?;
    sync_dir(out)?;
    write_atomic(&out.join(LATEST), format!("{name}\n").as_bytes())?;
    Ok(dir)
}

/// Deletes all but the newest `keep` checkpoints (never the one `latest` names);
/// `keep == 0` keeps every checkpoint.
pub fn prune(out: &Path, keep: usize) -> Result<()> {
    if keep == 0 {
        return Ok(());
    }
    let all = list(out)?;
    let current = latest(out)?;
    let excess = all.len().saturating_sub(keep);
    for (_, dir) in all.into_iter().take(excess) {
        if Some(&dir) != current.as_ref() {
            remove_any(&dir)?;
        }
    }
    Ok(())
}

/// Writes files into `out` itself, each appearing whole: `write` fills a temporary
/// directory, whose files are synced and then renamed one by one into `out`.
pub fn publish(out: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let tmp = out.join(format!("{TMP_PREFIX}final"));
    if tmp.exists() {
        remove_any(&tmp)?;
    }
    fs::create_dir(&tmp).map_err(|e| Error::io(&tmp, e))?;
    write(&tmp)?;
    sync_tree(&tmp)?;
    for entry in fs::read_dir(&tmp).map_err(|e| Error::io(&tmp, e))? {
        let entry = entry.map_err(|e| Error::io(&tmp, e))?;
        let dst = out.join(entry.file_name());
        if dst.is_dir() {
            remove_any(&dst)?;
        }
        fs::rename(entry.path(), &dst).map_err(|e| Error::io(&dst, e))?;
    }
    sync_dir(out)?;
    fs::remove_dir(&tmp).map_err(|e| Error::io(&tmp, e))
}

/// Writes `path` via a synced temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!("{TMP_PREFIX}{name}"));
    fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    sync_file(&tmp)?;
    fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
    sync_dir(dir)
}

fn sync_file(path: &Path) -> Result<()> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io(path, e))
}

fn sync_dir(path: &Path) -> Result<()> {
    // Directories can be opened and fsynced on Unix; elsewhere renames are already durable
    // enough and opening a directory fails.
    if cfg!(unix) {
        sync_file(path)
    } else {
        Ok(())
    }
}

fn sync_tree(dir: &Path) -> Result<()> {
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.is_dir() {
            sync_tree(&path)?;
        } else {
            sync_file(&path)?;
        }
    }
    sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake(dir: &Path) -> Result<()> {
        fs::write(dir.join(STATE_FILE), "{}").map_err(|e| Error::io(dir, e))
    }

    #[test]
    fn commit_points_latest_and_prunes() {
        let out = tempfile::tempdir().unwrap();
        let out = out.path();
        assert_eq!(latest(out).unwrap(), None);
        for step in [10, 20, 30] {
            commit(out, step, fake).unwrap();
            prune(out, 2).unwrap();
        }
        assert_eq!(
            fs::read_to_string(out.join(LATEST)).unwrap(),
            "checkpoint-000030\n"
        );
        let steps: Vec<u64> = list(out).unwrap().into_iter().map(|(s, _)| s).collect();
        assert_eq!(steps, [20, 30]);
        assert_eq!(latest(out).unwrap(), Some(out.join("checkpoint-000030")));
    }

    #[test]
    fn torn_writes_are_invisible() {
        let out = tempfile::tempdir().unwrap();
        let out = out.path();
        commit(out, 1, fake).unwrap();
        // A kill while writing checkpoint 2: its temporary directory remains.
        let e = commit(out, 2, |d| {
            fs::write(d.join("model.safetensors"), "half").unwrap();
            Err(Error::TrainConfig("killed".into()))
        });
        assert!(e.is_err());
        assert_eq!(latest(out).unwrap(), Some(out.join("checkpoint-000001")));
        remove_leftovers(out).unwrap();
        assert!(!out.join(".tmp-checkpoint-000002").exists());
        // A kill after the rename but before the pointer moved.
        fs::create_dir(out.join("checkpoint-000003")).unwrap();
        fake(&out.join("checkpoint-000003")).unwrap();
        assert_eq!(latest(out).unwrap(), Some(out.join("checkpoint-000003")));
        fs::remove_file(out.join(LATEST)).unwrap();
        assert_eq!(latest(out).unwrap(), Some(out.join("checkpoint-000003")));
        // Step numbers, not names, decide which is newest.
        commit(out, 1_000_000, fake).unwrap();
        commit(out, 999_999, fake).unwrap();
        fs::remove_file(out.join(LATEST)).unwrap();
        assert_eq!(latest(out).unwrap(), Some(out.join("checkpoint-1000000")));
    }
}
