//! Input bytes: read one at a time, with the bytes typed while a reply streams queued for
//! after it, and Ctrl-C picked out of them.

use embedded_io::{Read, ReadReady};

const QUEUE: usize = 64;
const CTRL_C: u8 = 0x03;

pub(crate) struct Input {
    queue: [u8; QUEUE],
    head: usize,
    len: usize,
    /// The port reported the end of its input.
    eof: bool,
}

impl Input {
    pub const fn new() -> Self {
        Input {
            queue: [0; QUEUE],
            head: 0,
            len: 0,
            eof: false,
        }
    }

    /// The next byte: queued ones first, then the port (blocking). `None` at the end of
    /// input.
    pub fn next<S: Read>(&mut self, port: &mut S) -> Result<Option<u8>, S::Error> {
        if self.len > 0 {
            let b = self.queue[self.head];
            self.head = (self.head + 1) % QUEUE;
            self.len -= 1;
            return Ok(Some(b));
        }
        if self.eof {
            return Ok(None);
        }
        let mut b = [0u8];
        if port.read(&mut b)? == 0 {
            self.eof = true;
            return Ok(None);
        }
        Ok(Some(b[0]))
    }

    /// Take in what has arrived without blocking; `true` if it held a Ctrl-C. Once 64
    /// bytes wait in the queue the rest is left in the port, unread (and a Ctrl-C behind
    /// them unseen), so pasted input is never lost.
    pub fn poll<S: Read + ReadReady>(&mut self, port: &mut S) -> Result<bool, S::Error> {
        while self.len < QUEUE {
            if self.eof || !port.read_ready()? {
                break;
            }
            let mut b = [0u8];
            if port.read(&mut b)? == 0 {
                self.eof = true;
                break;
            }
            if b[0] == CTRL_C {
                return Ok(true);
            }
            self.queue[(self.head + self.len) % QUEUE] = b[0];
            self.len += 1;
        }
        Ok(false)
    }
}
