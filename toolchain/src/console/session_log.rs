//! The session log: both directions, a line at a time, each with the UTC time it was
//! completed. `<` marks what the board sent, `>` what was typed, `*` notes of `mote
//! console` itself (saved feedback, the end of the connection).
//!
//! ```text
//! 2025-03-01T12:00:00.100Z < mote console: /help lists the commands
//! 2025-03-01T12:00:01.000Z > hello
//! 2025-03-01T12:00:01.004Z < > hello
//! ```
//!
//! Board lines end at `\n` (a `\r` before it is dropped); typed lines at `\r` or `\n`
//! (Enter sends `\r` in raw mode). Ctrl-C and Ctrl-D are logged as `^C` and `^D` at once.
//! Other control bytes and bytes that are not UTF-8 are written as `\xNN`. Each line is
//! written as soon as it is complete, so a crash loses at most the line in progress.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::timestamp::Utc;
use crate::error::{Error, Result};

/// Which way bytes went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the board.
    Received,
    /// To the board.
    Sent,
}

/// A log line is written once this many bytes wait without a line end.
const MAX_PENDING: usize = 4096;

/// An open session log.
pub struct SessionLog {
    path: PathBuf,
    file: File,
    received: Vec<u8>,
    sent: Vec<u8>,
    /// The last byte sent was `\r`, so a `\n` right after it ends no second line.
    sent_cr: bool,
}

impl SessionLog {
    /// Open `path` for appending (a log is never overwritten) and write a header naming
    /// the port.
    pub fn create(path: &Path, port: &str) -> Result<SessionLog> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        let mut log = SessionLog {
            path: path.to_path_buf(),
            file,
            received: Vec::new(),
            sent: Vec::new(),
            sent_cr: false,
        };
        log.write_line(
            '*',
            format!("mote console {port} (< board, > typed, * notes; times UTC)").as_bytes(),
        )?;
        Ok(log)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Record bytes that went one way.
    pub fn record(&mut self, dir: Direction, bytes: &[u8]) -> Result<()> {
        match dir {
            Direction::Received => self.record_received(bytes),
            Direction::Sent => self.record_sent(bytes),
        }
    }

    /// A note of `mote console`'s own.
    pub fn note(&mut self, text: &str) -> Result<()> {
        self.write_line('*', text.as_bytes())
    }

    /// Write what waits without a line end (at the end of the session).
    pub fn flush_pending(&mut self) -> Result<()> {
        let received = std::mem::take(&mut self.received);
        if !received.is_empty() {
            self.write_line('<', &received)?;
        }
        let sent = std::mem::take(&mut self.sent);
        if !sent.is_empty() {
            self.write_line('>', &sent)?;
        }
        Ok(())
    }

    fn record_received(&mut self, bytes: &[u8]) -> Result<()> {
        for &b in bytes {
            if b == b'\n' {
                let mut line = std::mem::take(&mut self.received);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                self.write_line('<', &line)?;
            } else {
                self.received.push(b);
                if self.received.len() >= MAX_PENDING {
                    let line = std::mem::take(&mut self.received);
                    self.write_line('<', &line)?;
                }
            }
        }
        Ok(())
    }

    fn record_sent(&mut self, bytes: &[u8]) -> Result<()> {
        for &b in bytes {
            let after_cr = std::mem::replace(&mut self.sent_cr, b == b'\r');
            match b {
                b'\n' if after_cr => {}
                b'\r' | b'\n' => {
                    let line = std::mem::take(&mut self.sent);
                    self.write_line('>', &line)?;
                }
                0x03 | 0x04 => {
                    let line = std::mem::take(&mut self.sent);
                    if !line.is_empty() {
                        self.write_line('>', &line)?;
                    }
                    self.write_line('>', if b == 0x03 { b"^C" } else { b"^D" })?;
                }
                _ => {
                    self.sent.push(b);
                    if self.sent.len() >= MAX_PENDING {
                        let line = std::mem::take(&mut self.sent);
                        self.write_line('>', &line)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn write_line(&mut self, mark: char, bytes: &[u8]) -> Result<()> {
        let line = format!("{} {mark} {}\n", Utc::now(), escape(bytes));
        self.file
            .write_all(line.as_bytes())
            .map_err(|e| Error::io(&self.path, e))
    }
}

/// `bytes` as text: UTF-8 kept, tab kept, other control bytes, DEL and bytes that are not
/// UTF-8 as `\xNN`, and `\` doubled so the escapes are unambiguous.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\t' => out.push('\t'),
                c if c.is_ascii_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| {
                // Drop the timestamp: "2025-03-01T12:00:00.100Z < text".
                let (time, rest) = l.split_once(' ').unwrap();
                assert!(time.ends_with('Z') && time.len() == 24, "{time}");
                rest.to_string()
            })
            .collect()
    }

    #[test]
    fn both_directions_line_by_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.log");
        let mut log = SessionLog::create(&path, "tcp:127.0.0.1:4444").unwrap();
        log.record(Direction::Received, b"banner\r\n> ").unwrap();
        // Typed one key at a time, Enter as `\r`; the board's echo in between.
        for b in b"hi\r" {
            log.record(Direction::Sent, &[*b]).unwrap();
        }
        log.record(Direction::Received, b"hi\r\nHel").unwrap();
        log.record(Direction::Received, b"lo \xff\x1b[2J\\\r\n> ")
            .unwrap();
        log.record(Direction::Sent, b"a\r\nb\n\x03x\x04").unwrap();
        log.note("saved 1 record").unwrap();
        log.flush_pending().unwrap();
        assert_eq!(
            lines(&path),
            [
                "* mote console tcp:127.0.0.1:4444 (< board, > typed, * notes; times UTC)",
                "< banner",
                "> hi",
                "< > hi",
                "< Hello \\xff\\x1b[2J\\\\",
                "> a",
                "> b",
                "> ^C",
                "> x",
                "> ^D",
                "* saved 1 record",
                "< > ",
            ]
        );
        // Reopening appends.
        drop(log);
        SessionLog::create(&path, "again").unwrap();
        assert_eq!(lines(&path).len(), 13);
    }
}
