//! The line being typed: echo, backspace by UTF-8 character, Ctrl-C, Ctrl-D, and the
//! rule that CR, LF and CRLF each end exactly one line.

/// What one input byte did; the console turns it into output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Edit {
    /// Nothing to show (ignored control byte, escape sequence, LF after CR).
    Nothing,
    /// The byte was added to the line: echo it.
    Echo,
    /// One character was erased: rub it out on the terminal.
    Erase,
    /// The line is complete.
    Submit,
    /// Ctrl-C: the line was cleared.
    Cancel,
    /// Ctrl-D on an empty line.
    EndOfInput,
    /// The line outgrew the buffer: it is dropped and the rest of it ignored.
    Overflow,
    /// The end of a line that overflowed.
    DiscardEnd,
}

/// Where we are inside an ANSI escape sequence (arrow keys and the like are ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    None,
    /// After ESC.
    Start,
    /// After `ESC [` or `ESC O`, until a final byte.
    Sequence,
}

const CTRL_C: u8 = 0x03;
const CTRL_D: u8 = 0x04;
const BACKSPACE: u8 = 0x08;
const ESC: u8 = 0x1b;
const DEL: u8 = 0x7f;

pub(crate) struct LineEditor<'a> {
    buf: &'a mut [u8],
    len: usize,
    /// Ignoring the rest of an overlong line.
    discarding: bool,
    /// The last line ended with CR: a following LF belongs to it.
    after_cr: bool,
    escape: Escape,
}

impl<'a> LineEditor<'a> {
    pub fn new(buf: &'a mut [u8]) -> Self {
        LineEditor {
            buf,
            len: 0,
            discarding: false,
            after_cr: false,
            escape: Escape::None,
        }
    }

    /// Bytes a line can hold.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    pub fn feed(&mut self, b: u8) -> Edit {
        if core::mem::take(&mut self.after_cr) && b == b'\n' {
            return Edit::Nothing;
        }
        match self.escape {
            Escape::None => {}
            Escape::Start => {
                self.escape = if b == b'[' || b == b'O' {
                    Escape::Sequence
                } else {
                    Escape::None
                };
                return Edit::Nothing;
            }
            Escape::Sequence => {
                if (0x40..=0x7e).contains(&b) {
                    self.escape = Escape::None;
                }
                return Edit::Nothing;
            }
        }
        match b {
            b'\r' | b'\n' => {
                self.after_cr = b == b'\r';
                if core::mem::take(&mut self.discarding) {
                    self.len = 0;
                    Edit::DiscardEnd
                } else {
                    Edit::Submit
                }
            }
            CTRL_C => {
                self.len = 0;
                self.discarding = false;
                Edit::Cancel
            }
            CTRL_D if self.len == 0 && !self.discarding => Edit::EndOfInput,
            BACKSPACE | DEL if self.len > 0 && !self.discarding => {
                // A UTF-8 character is its lead byte and the continuation bytes after it.
                while self.len > 0 && self.buf[self.len - 1] & 0xc0 == 0x80 {
                    self.len -= 1;
                }
                self.len = self.len.saturating_sub(1);
                Edit::Erase
            }
            ESC => {
                self.escape = Escape::Start;
                Edit::Nothing
            }
            b'\t' | 0x20..=0x7e | 0x80..=0xff if !self.discarding => {
                if self.len == self.buf.len() {
                    self.discarding = true;
                    self.len = 0;
                    return Edit::Overflow;
                }
                self.buf[self.len] = b;
                self.len += 1;
                Edit::Echo
            }
            _ => Edit::Nothing,
        }
    }

    /// Lend out the buffer and the finished line's length, leaving the editor empty; give
    /// the buffer back with [`LineEditor::restore`]. Lets the console read the line while
    /// changing its other state.
    pub fn take_line(&mut self) -> (&'a mut [u8], usize) {
        let len = core::mem::take(&mut self.len);
        (core::mem::take(&mut self.buf), len)
    }

    pub fn restore(&mut self, buf: &'a mut [u8]) {
        self.buf = buf;
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_all(ed: &mut LineEditor<'_>, bytes: &[u8]) -> [usize; 8] {
        let mut n = [0; 8];
        for &b in bytes {
            n[ed.feed(b) as usize] += 1;
        }
        n
    }

    #[test]
    fn crlf_submits_once() {
        let mut buf = [0u8; 8];
        let mut ed = LineEditor::new(&mut buf);
        let n = feed_all(&mut ed, b"ab\r\ncd\n\re\r");
        assert_eq!(n[Edit::Submit as usize], 4);
    }

    #[test]
    fn backspace_erases_a_whole_character() {
        let mut buf = [0u8; 8];
        let mut ed = LineEditor::new(&mut buf);
        feed_all(&mut ed, "aé".as_bytes());
        assert_eq!(ed.feed(DEL), Edit::Erase);
        let (line, len) = ed.take_line();
        assert_eq!(&line[..len], b"a");
    }

    #[test]
    fn arrow_keys_are_ignored() {
        let mut buf = [0u8; 8];
        let mut ed = LineEditor::new(&mut buf);
        feed_all(&mut ed, b"a\x1b[A\x1b[1;5Cb");
        let (line, len) = ed.take_line();
        assert_eq!(&line[..len], b"ab");
    }

    #[test]
    fn overflow_discards_to_the_end_of_the_line() {
        let mut buf = [0u8; 2];
        let mut ed = LineEditor::new(&mut buf);
        assert_eq!(feed_all(&mut ed, b"abcd")[Edit::Overflow as usize], 1);
        assert_eq!(ed.feed(b'\n'), Edit::DiscardEnd);
        feed_all(&mut ed, b"x");
        let (line, len) = ed.take_line();
        assert_eq!(&line[..len], b"x");
    }
}
