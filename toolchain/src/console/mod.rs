//! `mote console`'s library side: talk to a board's chat console (`firmware/console`)
//! over a serial device, a QEMU pty or TCP, log the session, and save what the board's
//! `/export` prints as training data.
//!
//! - [`port`]: `PortSpec` (`/dev/ttyACM0`, `/dev/pts/3`, `tcp:HOST:PORT`, `tcp:PORT`) and
//!   [`connect`], which opens it as a [`Link`];
//! - [`session`]: [`run_session`], the loop between the link, the input and the screen;
//! - [`export_blocks`]: [`ExportScanner`], which finds the export blocks in the output;
//! - [`feedback`]: checks each record with the toolchain's own readers and appends the good
//!   ones to `DIR/NAME`;
//! - [`session_log`]: the timestamped log of both directions;
//! - [`raw_terminal`]: the local terminal in raw mode while keys are passed on;
//! - [`timestamp`]: UTC times for the log.

pub mod export_blocks;
pub mod feedback;
pub mod port;
pub mod raw_terminal;
pub mod session;
pub mod session_log;
pub mod timestamp;

pub use export_blocks::{ExportBlock, ExportEvent, ExportScanner};
pub use port::{connect, Link, PortSpec};
pub use raw_terminal::RawTerminal;
pub use session::{run_session, Ended, InputMode, SessionOptions, SessionSummary, QUIT_KEY};
pub use session_log::SessionLog;

use std::io;

/// Everything `mote console` can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error(
        "unknown port `{0}`: expected a device (/dev/ttyACM0, a QEMU pty such as /dev/pts/3), \
         tcp:HOST:PORT or tcp:PORT"
    )]
    BadPort(String),
    /// The port could not be opened.
    #[error("{port}: {error}")]
    Connect { port: String, error: io::Error },
    /// Writing to the board failed.
    #[error("{port}: {error}")]
    Link { port: String, error: io::Error },
    /// The local terminal: raw mode, or writing the board's output.
    #[error("terminal: {0}")]
    Screen(io::Error),
    /// The log or a feedback file.
    #[error(transparent)]
    File(#[from] crate::Error),
}
