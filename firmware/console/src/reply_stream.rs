//! A reply on its way to the terminal: written piece by piece, copied for feedback, timed,
//! and stopped by Ctrl-C or a serial error.

use embedded_io::{Read, ReadReady, Write};
use mote_runtime::chat::TurnSink;

use crate::clock::Clock;
use crate::input::Input;
use crate::last_turn::LastTurn;
use crate::term::write_text;

pub(crate) struct ReplyStream<'s, 'a, S: Write, C: Clock> {
    pub port: &'s mut S,
    pub clock: &'s C,
    pub input: &'s mut Input,
    pub last: &'s mut LastTurn<'a>,
    /// When the prompt was evaluated.
    pub prompt_done_at: Option<u64>,
    /// Ctrl-C was pressed.
    pub interrupted: bool,
    /// The first serial error; the reply stops at it.
    pub error: Option<S::Error>,
}

impl<S: Read + Write + ReadReady, C: Clock> TurnSink for ReplyStream<'_, '_, S, C> {
    fn prompt_done(&mut self) {
        self.prompt_done_at = Some(self.clock.now());
    }

    fn go_on(&mut self) -> bool {
        if self.error.is_some() || self.interrupted {
            return false;
        }
        match self.input.poll(self.port) {
            Ok(ctrl_c) => self.interrupted = ctrl_c,
            Err(e) => self.error = Some(e),
        }
        self.error.is_none() && !self.interrupted
    }

    fn text(&mut self, text: &str) -> bool {
        if text.is_empty() || self.error.is_some() {
            return self.error.is_none();
        }
        self.last.push_reply(text);
        if let Err(e) = write_text(self.port, text.as_bytes()).and_then(|()| self.port.flush()) {
            self.error = Some(e);
        }
        self.error.is_none()
    }
}
