//! Output to the serial terminal: `\n` becomes `\r\n`, and `core::fmt` works on it.

use core::fmt;
use embedded_io::Write;

/// Write `text`, turning each `\n` into `\r\n` as serial terminals expect, and other
/// control characters but tab into U+FFFD: a model's reply must not move the cursor or
/// start an escape sequence.
pub(crate) fn write_text<S: Write>(port: &mut S, text: &[u8]) -> Result<(), S::Error> {
    let mut run = 0;
    for (i, &b) in text.iter().enumerate() {
        let shown: &[u8] = match b {
            b'\n' => b"\r\n",
            b'\t' => continue,
            0..=0x1f | 0x7f => "\u{fffd}".as_bytes(),
            _ => continue,
        };
        port.write_all(&text[run..i])?;
        port.write_all(shown)?;
        run = i + 1;
    }
    port.write_all(&text[run..])
}

/// `fmt::Write` over a port, keeping the port's own error.
struct Adapter<'p, S: Write> {
    port: &'p mut S,
    err: Option<S::Error>,
}

impl<S: Write> fmt::Write for Adapter<'_, S> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        write_text(self.port, s.as_bytes()).map_err(|e| {
            self.err = Some(e);
            fmt::Error
        })
    }
}

/// Formatted output with `\r\n` line ends. A formatting error without a port error (a
/// `Display` impl failing) only cuts the text short.
pub(crate) fn say<S: Write>(port: &mut S, args: fmt::Arguments<'_>) -> Result<(), S::Error> {
    let mut a = Adapter { port, err: None };
    let _ = fmt::write(&mut a, args);
    match a.err {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// A fixed-point number with three decimals, from thousandths.
pub(crate) struct Milli(pub u64);

impl fmt::Display for Milli {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}", self.0 / 1000, self.0 % 1000)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn line_ends_and_control_characters() {
        let mut buf = [0u8; 32];
        let mut out: &mut [u8] = &mut buf;
        super::write_text(&mut out, b"a\nb\tc\x1b[2J\r").unwrap();
        let n = 32 - out.len();
        assert_eq!(&buf[..n], "a\r\nb\tc\u{fffd}[2J\u{fffd}".as_bytes());
    }
}
