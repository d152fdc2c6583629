//! `mote console PORT`: chat with a board over a serial port (a tty, a QEMU pty or TCP),
//! log the session and save the board's `/export` blocks as training data.

use anyhow::{Context, Result};
use clap::Args as ClapArgs;
use mote_toolchain::console::{
    self, run_session, timestamp::Utc, Ended, InputMode, PortSpec, RawTerminal, SessionLog,
    SessionOptions,
};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

#[derive(ClapArgs)]
#[command(after_help = "\
On a terminal, keys go to the board as typed (Ctrl-C stops a reply, Ctrl-D on an empty \
line ends the board's session) and Ctrl-] quits. With standard input not a terminal, its \
lines are sent one at a time, each after the board's prompt, and mote console quits once \
the input has ended and the board has been quiet for --linger seconds.")]
pub struct Args {
    /// The board: a serial device (/dev/ttyACM0, a QEMU pty such as /dev/pts/3),
    /// tcp:HOST:PORT, or tcp:PORT for 127.0.0.1 (`mote flash --serial tcp:PORT`).
    port: PortSpec,
    /// Baud rate of a serial device (8N1).
    #[arg(long, default_value_t = 115_200)]
    baud: u32,
    /// Session log, both directions with UTC times, appended to
    /// [default: mote-console-YYYYmmdd-HHMMSS.log here, UTC].
    #[arg(long, conflicts_with = "no_log")]
    log: Option<PathBuf>,
    /// Write no session log.
    #[arg(long)]
    no_log: bool,
    /// Directory the /export blocks are appended to, one file each: sft.jsonl (for
    /// `mote sft`), preferences.jsonl (for `mote rm`, `mote dpo`), labels.jsonl.
    #[arg(long, default_value = "feedback")]
    feedback: PathBuf,
    /// Seconds the board must be quiet after the input ends before quitting (also the wait
    /// before a line when the board shows no prompt).
    #[arg(long, default_value_t = 2.0)]
    linger: f64,
    /// Keep trying to connect for this many seconds (while `mote flash` builds and boots).
    #[arg(long, default_value_t = 0.0)]
    wait: f64,
}

pub fn run(a: Args) -> Result<()> {
    let linger = seconds(a.linger, "--linger")?;
    let wait = seconds(a.wait, "--wait")?;
    let link = console::connect(&a.port, a.baud, wait)?;
    let mut log = match (a.no_log, a.log) {
        (true, _) => None,
        (false, path) => {
            let path = path.unwrap_or_else(|| {
                PathBuf::from(format!("mote-console-{}.log", Utc::now().file_stamp()))
            });
            Some(SessionLog::create(&path, &link.name)?)
        }
    };
    let stdin = std::io::stdin();
    let keys = stdin.is_terminal();
    // Only a terminal is put in raw mode; piped input is left alone.
    let raw = if keys {
        Some(RawTerminal::enter(&stdin).context("putting the terminal in raw mode")?)
    } else {
        None
    };
    eprintln!(
        "connected to {}{}; feedback to {}/{}",
        link.name,
        log.as_ref()
            .map(|l| format!(", log {}", l.path().display()))
            .unwrap_or_default(),
        a.feedback.display(),
        if keys { "; Ctrl-] quits" } else { "" },
    );
    let opts = SessionOptions {
        input: if keys {
            InputMode::Keys
        } else {
            InputMode::Lines
        },
        linger,
        feedback_dir: a.feedback,
    };
    let mut screen = std::io::stdout();
    let summary = run_session(link, stdin, &mut screen, log.as_mut(), &opts, &mut |note| {
        eprintln!("[{note}]")
    });
    drop(raw);
    let summary = summary?;
    match &summary.ended {
        Ended::Quit | Ended::InputDone => {}
        Ended::Closed(None) => eprintln!("[the board's side closed the connection]"),
        Ended::Closed(Some(why)) => eprintln!("[the board's side closed: {why}]"),
    }
    if summary.unsent_lines > 0 {
        eprintln!(
            "[{} input lines were not sent: the board's side closed first]",
            summary.unsent_lines
        );
    }
    Ok(())
}

fn seconds(s: f64, flag: &str) -> Result<Duration> {
    Duration::try_from_secs_f64(s).with_context(|| format!("{flag} {s}: not a number of seconds"))
}
