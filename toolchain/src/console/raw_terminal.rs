//! The local terminal in raw mode while a session runs, so that Ctrl-C, Ctrl-D,
//! Backspace and each key reach the board as typed, and the board does the echo.
//!
//! Through `nix`'s termios wrappers: `serialport` already builds on that very crate with
//! its `term` feature, so raw mode costs no new dependency and no `unsafe` here (a whole
//! terminal library such as crossterm would bring its own event and signal machinery).
//!
//! Output processing is left on (`\n` still becomes `\r\n`), so notes printed to stderr
//! start at the left margin; the board's own `\r\n` is unaffected.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::{Mutex, Once};

use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg, Termios};

/// The settings to put back, for the panic hook: a panic in any thread restores the
/// terminal before its message is printed.
static SAVED: Mutex<Option<(RawFd, Termios)>> = Mutex::new(None);

/// Raw mode on a terminal until dropped.
pub struct RawTerminal {
    fd: RawFd,
    saved: Termios,
}

impl RawTerminal {
    /// Put `tty` (standard input, a terminal) in raw mode.
    pub fn enter(tty: &impl AsRawFd) -> io::Result<RawTerminal> {
        let fd = tty.as_raw_fd();
        let saved = tcgetattr(fd)?;
        let mut raw = saved.clone();
        cfmakeraw(&mut raw);
        raw.output_flags = saved.output_flags;
        install_panic_hook();
        install_signal_restore();
        *SAVED.lock().unwrap_or_else(|e| e.into_inner()) = Some((fd, saved.clone()));
        tcsetattr(fd, SetArg::TCSANOW, &raw)?;
        Ok(RawTerminal { fd, saved })
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        let _ = tcsetattr(self.fd, SetArg::TCSANOW, &self.saved);
        *SAVED.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// Terminating signals (`kill`, a closed terminal) restore the terminal too, then end
/// the process the way the signal would have.
fn install_signal_restore() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let Ok(mut signals) =
            signal_hook::iterator::Signals::new([SIGTERM, SIGHUP, SIGINT, SIGQUIT])
        else {
            return;
        };
        std::thread::spawn(move || {
            if let Some(signal) = signals.forever().next() {
                restore_saved();
                let _ = signal_hook::low_level::emulate_default_handler(signal);
                std::process::exit(128 + signal);
            }
        });
    });
}

fn restore_saved() {
    if let Some((fd, saved)) = SAVED.lock().unwrap_or_else(|e| e.into_inner()).take() {
        let _ = tcsetattr(fd, SetArg::TCSANOW, &saved);
    }
}

fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore_saved();
            previous(info);
        }));
    });
}
