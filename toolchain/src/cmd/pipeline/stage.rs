//! One pipeline stage: a `mote` command, or a step the pipeline does itself. A finished
//! stage leaves a stamp (`OUT/stages/NAME.json`: its command and wall time); a stage with
//! a stamp is skipped, so an interrupted pipeline resumes at the stage it was in, and
//! training stages pick up their own last checkpoint there.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use mote_toolchain::checkpoint::atomic;

/// What a stage runs.
pub enum Action {
    /// `mote ARGS…`; `resume_dir`: a training output whose `latest` file means the
    /// command can continue with `--resume`.
    Mote {
        args: Vec<String>,
        resume_dir: Option<PathBuf>,
    },
    /// Work done in-process (reading and writing files).
    Builtin(Box<dyn Fn() -> Result<()>>),
}

pub struct Stage {
    pub name: String,
    pub action: Action,
}

/// What a finished stage recorded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stamp {
    pub name: String,
    /// The command line (`mote …`), empty for built-in stages.
    pub command: String,
    pub seconds: f64,
    /// The stage resumed an interrupted run of itself.
    #[serde(default)]
    pub resumed: bool,
}

impl Stage {
    pub fn mote(name: impl Into<String>, args: Vec<String>) -> Self {
        Stage {
            name: name.into(),
            action: Action::Mote {
                args,
                resume_dir: None,
            },
        }
    }

    /// A training command that resumes from its own checkpoints in `dir`.
    pub fn training(name: impl Into<String>, args: Vec<String>, dir: &Path) -> Self {
        Stage {
            name: name.into(),
            action: Action::Mote {
                args,
                resume_dir: Some(dir.to_path_buf()),
            },
        }
    }

    pub fn builtin(name: impl Into<String>, f: impl Fn() -> Result<()> + 'static) -> Self {
        Stage {
            name: name.into(),
            action: Action::Builtin(Box::new(f)),
        }
    }

    pub fn command_line(&self) -> String {
        match &self.action {
            Action::Mote { args, .. } => {
                let quoted: Vec<String> = args.iter().map(|a| shell_quote(a)).collect();
                format!("mote {}", quoted.join(" "))
            }
            Action::Builtin(_) => String::new(),
        }
    }
}

fn shell_quote(a: &str) -> String {
    let plain = a
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+".contains(c));
    if plain && !a.is_empty() {
        a.to_string()
    } else {
        format!("'{}'", a.replace('\'', r"'\''"))
    }
}

pub fn stamp_path(out: &Path, name: &str) -> PathBuf {
    out.join("stages").join(format!("{name}.json"))
}

pub fn read_stamp(out: &Path, name: &str) -> Result<Option<Stamp>> {
    let path = stamp_path(out, name);
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path)?;
    Ok(Some(serde_json::from_str(&text).with_context(|| {
        format!(
            "{}: not a stage stamp (delete it to re-run the stage)",
            path.display()
        )
    })?))
}

/// Runs `stage` unless it has a stamp; the command's output goes to `OUT/logs/NAME.log`.
pub fn run(exe: &Path, out: &Path, stage: &Stage, index: usize, total: usize) -> Result<Stamp> {
    let label = format!("[{:>2}/{total}] {:<18}", index + 1, stage.name);
    if let Some(stamp) = read_stamp(out, &stage.name)? {
        eprintln!("{label} done earlier ({:.0} s)", stamp.seconds);
        return Ok(stamp);
    }
    let start = Instant::now();
    let mut resumed = false;
    match &stage.action {
        Action::Builtin(f) => {
            eprintln!("{label} …");
            f().with_context(|| format!("stage {}", stage.name))?;
        }
        Action::Mote { args, resume_dir } => {
            let mut args = args.clone();
            if let Some(dir) = resume_dir {
                if dir.join("latest").exists() {
                    args.push("--resume".into());
                    resumed = true;
                }
            }
            let log_path = out.join("logs").join(format!("{}.log", stage.name));
            std::fs::create_dir_all(log_path.parent().unwrap_or(out))?;
            let log = File::create(&log_path)
                .with_context(|| format!("creating {}", log_path.display()))?;
            eprintln!(
                "{label} {}{}",
                stage.command_line(),
                if resumed { " --resume" } else { "" }
            );
            let status = Command::new(exe)
                .args(&args)
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log)
                .status()
                .with_context(|| format!("starting {}", exe.display()))?;
            if !status.success() {
                eprintln!("--- last lines of {} ---", log_path.display());
                for line in tail(&log_path, 15)? {
                    eprintln!("{line}");
                }
                bail!(
                    "stage {} failed ({status}); fix the cause and run the pipeline again to \
                     resume here",
                    stage.name
                );
            }
        }
    }
    let stamp = Stamp {
        name: stage.name.clone(),
        command: stage.command_line(),
        seconds: start.elapsed().as_secs_f64(),
        resumed,
    };
    let path = stamp_path(out, &stage.name);
    std::fs::create_dir_all(path.parent().unwrap_or(out))?;
    atomic::write_bytes(&path, serde_json::to_string_pretty(&stamp)?.as_bytes())?;
    eprintln!("{label} {:.0} s", stamp.seconds);
    Ok(stamp)
}

fn tail(path: &Path, n: usize) -> Result<Vec<String>> {
    let lines: Vec<String> = BufReader::new(File::open(path)?)
        .lines()
        .map_while(|l| l.ok())
        // Progress bars redraw with carriage returns: keep each line's last state.
        .map(|l| l.rsplit('\r').next().unwrap_or("").to_string())
        .collect();
    Ok(lines[lines.len().saturating_sub(n)..].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_are_shell_quoted() {
        let s = Stage::mote("x", vec!["eval".into(), "a b".into(), "it's".into()]);
        assert_eq!(s.command_line(), r"mote eval 'a b' 'it'\''s'");
    }

    #[test]
    fn a_stamped_stage_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let ran = std::rc::Rc::new(std::cell::Cell::new(0));
        let r = ran.clone();
        let stage = Stage::builtin("b", move || {
            r.set(r.get() + 1);
            Ok(())
        });
        let exe = Path::new("/nonexistent");
        run(exe, dir.path(), &stage, 0, 1).unwrap();
        run(exe, dir.path(), &stage, 0, 1).unwrap();
        assert_eq!(ran.get(), 1);
        let failing = Stage::builtin("f", || bail!("boom"));
        assert!(run(exe, dir.path(), &failing, 0, 1).is_err());
        assert!(read_stamp(dir.path(), "f").unwrap().is_none());
    }
}
