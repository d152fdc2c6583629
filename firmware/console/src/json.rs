//! JSON string literals written straight to the serial port, no buffer.

use embedded_io::Write;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Write `parts` (together one UTF-8 text) as one JSON string: quotes and backslashes
/// escaped, control characters as `\u00XX`, everything else as is.
pub(crate) fn write_str<S: Write>(port: &mut S, parts: &[&[u8]]) -> Result<(), S::Error> {
    port.write_all(b"\"")?;
    for part in parts {
        let mut run = 0;
        for (i, &b) in part.iter().enumerate() {
            let escaped: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                0..=0x1f | 0x7f => &[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[(b >> 4) as usize],
                    HEX[(b & 15) as usize],
                ],
                _ => continue,
            };
            port.write_all(&part[run..i])?;
            port.write_all(escaped)?;
            run = i + 1;
        }
        port.write_all(&part[run..])?;
    }
    port.write_all(b"\"")
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_quotes_backslashes_and_controls() {
        let mut buf = [0u8; 64];
        let mut out: &mut [u8] = &mut buf;
        super::write_str(&mut out, &[b"a\"b\\", "\n\x01\u{e9}\x7f".as_bytes()]).unwrap();
        let n = 64 - out.len();
        assert_eq!(
            core::str::from_utf8(&buf[..n]).unwrap(),
            "\"a\\\"b\\\\\\u000a\\u0001\u{e9}\\u007f\""
        );
    }
}
