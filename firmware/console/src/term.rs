//! Output to the serial terminal: `\n` becomes `\r\n`, and `core::fmt` works on it.

use core::fmt;
use embedded_io::Write;

/// Write `text`, turning each `\n` into `\r\n` as serial terminals expect.
pub(crate) fn write_text<S: Write>(port: &mut S, text: &[u8]) -> Result<(), S::Error> {
    let mut lines = text.split(|&b| b == b'\n');
    if let Some(first) = lines.next() {
        port.write_all(first)?;
    }
    for line in lines {
        port.write_all(b"\r\n")?;
        port.write_all(line)?;
    }
    Ok(())
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
