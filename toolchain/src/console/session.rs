//! One session: board output to the screen, input to the board, everything to the log,
//! export blocks to the feedback files.
//!
//! Three threads: one reads the board, one reads the input, and the calling one does all
//! the rest (writes to the board, the screen, the log and the files), so none of those
//! needs a lock and the order of the log is the order things happened in.

use std::collections::{BTreeMap, VecDeque};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::export_blocks::{ExportEvent, ExportScanner};
use super::feedback::{save_block, SavedBlock};
use super::port::Link;
use super::session_log::{Direction, SessionLog};
use super::ConsoleError;

/// Ctrl-], telnet's escape: ends the session locally (keys mode).
pub const QUIT_KEY: u8 = 0x1d;
/// The console's prompt at the start of a line: the board waits for a line.
const PROMPT: &[u8] = b"\n> ";

/// How the input is passed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputMode {
    /// Keystrokes from a terminal in raw mode, sent as they come; [`QUIT_KEY`] quits.
    Keys,
    /// Lines from a script, each sent once the board shows its prompt (`> ` at the start
    /// of a line) or has been quiet for the linger time, so none arrives mid-reply.
    Lines,
}

#[derive(Debug, Clone)]
pub struct SessionOptions {
    pub input: InputMode,
    /// After the input ends, the session ends once the board has been quiet this long.
    pub linger: Duration,
    /// Where export blocks are saved.
    pub feedback_dir: PathBuf,
}

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The quit key.
    Quit,
    /// The board's side closed (QEMU exited, the device went away): why, if known.
    Closed(Option<String>),
    /// The input ended and the board went quiet.
    InputDone,
}

/// What a session did.
#[derive(Debug)]
pub struct SessionSummary {
    pub ended: Ended,
    /// Records appended per feedback file.
    pub saved: BTreeMap<PathBuf, usize>,
    /// Export lines that failed their check (reported as they came).
    pub bad_lines: usize,
    /// Input lines not sent because the board's side closed first.
    pub unsent_lines: usize,
}

enum Event {
    Board(Vec<u8>),
    BoardEnd(Option<io::Error>),
    Input(Vec<u8>),
    InputEnd,
    Quit,
}

/// Run a session on `link` until it ends (see [`Ended`]). Board output goes to `screen`
/// as it comes; notes (feedback saved, bad export lines) go to `note` and the log.
///
/// `input` is read on a thread of its own; if the session ends first (quit key, board
/// gone), that thread stays blocked in its read until the process exits.
pub fn run_session(
    link: Link,
    input: impl Read + Send + 'static,
    screen: &mut dyn Write,
    mut log: Option<&mut SessionLog>,
    opts: &SessionOptions,
    note: &mut dyn FnMut(&str),
) -> Result<SessionSummary, ConsoleError> {
    let Link {
        name,
        reader,
        mut writer,
    } = link;
    let (tx, rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let board_thread = spawn_board_reader(reader, tx.clone(), stop.clone());
    spawn_input_reader(input, opts.input, tx);

    let mut capture = Capture::new(&opts.feedback_dir);
    let mut scanner = ExportScanner::new();
    let mut queue: VecDeque<Vec<u8>> = VecDeque::new();
    let mut tail: Vec<u8> = Vec::new();
    let mut prompt_shown = false;
    let mut input_done = false;
    let mut last_activity = Instant::now();
    let link_error = |error| ConsoleError::Link {
        port: name.clone(),
        error,
    };

    let ended = loop {
        if opts.input == InputMode::Lines
            && !queue.is_empty()
            && (prompt_shown || last_activity.elapsed() >= opts.linger)
        {
            let line = queue.pop_front().unwrap_or_default();
            writer.write_all(&line).map_err(link_error)?;
            if let Some(log) = log.as_deref_mut() {
                log.record(Direction::Sent, &line)?;
            }
            prompt_shown = false;
            last_activity = Instant::now();
        }
        let quiet = last_activity.elapsed();
        if input_done && queue.is_empty() && quiet >= opts.linger {
            break Ended::InputDone;
        }
        // Wake up when the linger time runs out, if something waits for it.
        let wait = if input_done || !queue.is_empty() {
            opts.linger
                .saturating_sub(quiet)
                .max(Duration::from_millis(5))
        } else {
            Duration::from_secs(1)
        };
        let event = match rx.recv_timeout(wait) {
            Ok(e) => e,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break Ended::Closed(None),
        };
        match event {
            Event::Board(bytes) => {
                last_activity = Instant::now();
                if let Some(log) = log.as_deref_mut() {
                    log.record(Direction::Received, &bytes)?;
                }
                tail.extend_from_slice(&bytes);
                tail.drain(..tail.len().saturating_sub(PROMPT.len()));
                prompt_shown = tail == PROMPT;
                // Whole lines first, then the notes about them, then the unfinished line
                // (the prompt): a note does not land after the prompt.
                let cut = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                for part in [&bytes[..cut], &bytes[cut..]] {
                    screen
                        .write_all(part)
                        .and_then(|()| screen.flush())
                        .map_err(ConsoleError::Screen)?;
                    for e in scanner.feed(part) {
                        capture.on_event(e, &mut |n| say(n, note, &mut log))?;
                    }
                }
            }
            Event::BoardEnd(error) => break Ended::Closed(error.map(|e| e.to_string())),
            Event::Input(bytes) => match opts.input {
                InputMode::Lines => queue.push_back(bytes),
                InputMode::Keys => {
                    writer.write_all(&bytes).map_err(link_error)?;
                    if let Some(log) = log.as_deref_mut() {
                        log.record(Direction::Sent, &bytes)?;
                    }
                }
            },
            Event::InputEnd => input_done = true,
            Event::Quit => break Ended::Quit,
        }
    };

    stop.store(true, Ordering::Relaxed);
    let _ = board_thread.join();
    for e in scanner.finish() {
        capture.on_event(e, &mut |n| say(n, note, &mut log))?;
    }
    capture.summarize(&mut |n| say(n, note, &mut log))?;
    if let Some(log) = log {
        log.flush_pending()?;
        log.note(&match &ended {
            Ended::Quit => "quit".to_string(),
            Ended::Closed(None) => "the board's side closed".to_string(),
            Ended::Closed(Some(why)) => format!("the board's side closed: {why}"),
            Ended::InputDone => "end of input".to_string(),
        })?;
    }
    Ok(SessionSummary {
        ended,
        saved: capture.totals,
        bad_lines: capture.bad_lines,
        unsent_lines: queue.len(),
    })
}

/// A note to the caller and to the log.
fn say(
    text: &str,
    note: &mut dyn FnMut(&str),
    log: &mut Option<&mut SessionLog>,
) -> Result<(), ConsoleError> {
    note(text);
    if let Some(log) = log.as_deref_mut() {
        log.note(text)?;
    }
    Ok(())
}

fn spawn_board_reader(
    mut reader: Box<dyn Read + Send>,
    tx: Sender<Event>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while !stop.load(Ordering::Relaxed) {
            let event = match reader.read(&mut buf) {
                Ok(0) => Event::BoardEnd(None),
                Ok(n) => Event::Board(buf[..n].to_vec()),
                // The read timed out: look at the stop flag.
                Err(e) if is_timeout(&e) => continue,
                Err(e) => Event::BoardEnd(Some(e)),
            };
            let end = matches!(event, Event::BoardEnd(_));
            if tx.send(event).is_err() || end {
                return;
            }
        }
    })
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

fn spawn_input_reader(input: impl Read + Send + 'static, mode: InputMode, tx: Sender<Event>) {
    std::thread::spawn(move || {
        let mut input = BufReader::new(input);
        loop {
            let mut buf = Vec::new();
            let read = match mode {
                InputMode::Lines => input.read_until(b'\n', &mut buf),
                InputMode::Keys => {
                    buf.resize(1024, 0);
                    input.read(&mut buf).inspect(|&n| buf.truncate(n))
                }
            };
            match read {
                Ok(0) | Err(_) => {
                    let _ = tx.send(Event::InputEnd);
                    return;
                }
                Ok(_) => {}
            }
            let quit = mode == InputMode::Keys && buf.contains(&QUIT_KEY);
            if quit {
                buf.truncate(buf.iter().position(|&b| b == QUIT_KEY).unwrap_or(0));
            }
            if !buf.is_empty() && tx.send(Event::Input(buf)).is_err() {
                return;
            }
            if quit {
                let _ = tx.send(Event::Quit);
                return;
            }
        }
    });
}

/// Export blocks to files, and what to say about them.
struct Capture<'d> {
    dir: &'d Path,
    /// Blocks of the export in progress.
    current: Vec<SavedBlock>,
    totals: BTreeMap<PathBuf, usize>,
    bad_lines: usize,
}

impl<'d> Capture<'d> {
    fn new(dir: &'d Path) -> Self {
        Capture {
            dir,
            current: Vec::new(),
            totals: BTreeMap::new(),
            bad_lines: 0,
        }
    }

    fn on_event(
        &mut self,
        event: ExportEvent,
        say: &mut dyn FnMut(&str) -> Result<(), ConsoleError>,
    ) -> Result<(), ConsoleError> {
        match event {
            ExportEvent::Block(block) => match save_block(self.dir, &block) {
                Ok(saved) => {
                    for e in &saved.bad {
                        say(&format!("feedback: skipped {e}"))?;
                    }
                    self.bad_lines += saved.bad.len();
                    *self.totals.entry(saved.file.clone()).or_default() += saved.saved;
                    self.current.push(saved);
                }
                // A file that cannot be written must not end the chat.
                Err(e) => say(&format!("feedback: not saved: {e}"))?,
            },
            ExportEvent::End(_) => self.summarize(say)?,
            ExportEvent::Refused { header } => say(&format!(
                "feedback: ignored a block, not a plain *.jsonl name: {header}"
            ))?,
            ExportEvent::Interrupted { name, lines } => {
                say(&format!(
                    "feedback: the export was cut short in {name} ({lines} lines); that block was not saved"
                ))?;
                self.summarize(say)?;
            }
        }
        Ok(())
    }

    /// One line about the export just finished, if it saved or found anything.
    fn summarize(
        &mut self,
        say: &mut dyn FnMut(&str) -> Result<(), ConsoleError>,
    ) -> Result<(), ConsoleError> {
        let blocks = std::mem::take(&mut self.current);
        if blocks.is_empty() {
            return Ok(());
        }
        let saved: Vec<String> = blocks
            .iter()
            .filter(|b| b.saved > 0)
            .map(|b| format!("{} to {}", records(b.saved), b.file.display()))
            .collect();
        let mut text = if saved.is_empty() {
            "feedback: nothing new saved".to_string()
        } else {
            format!("feedback: saved {}", saved.join(", "))
        };
        let already: usize = blocks.iter().map(|b| b.already).sum();
        let bad: usize = blocks.iter().map(|b| b.bad.len()).sum();
        if already > 0 {
            text.push_str(&format!("; {} already saved", records(already)));
        }
        if bad > 0 {
            text.push_str(&format!("; {bad} bad lines skipped"));
        }
        say(&text)
    }
}

fn records(n: usize) -> String {
    format!("{n} record{}", if n == 1 { "" } else { "s" })
}
