//! A bounds-checked little-endian reader over the mapped file.

use crate::error::{Error, Result, Section};

/// Longest string the reader accepts (keys, values, tensor names).
pub const MAX_STRING: u64 = 1 << 24;

#[derive(Clone)]
pub(crate) struct Cursor<'a> {
    pub data: &'a [u8],
    pub pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(data: &'a [u8], pos: usize) -> Self {
        Cursor { data, pos }
    }

    pub fn bytes(&mut self, n: usize, s: Section) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or(Error::TooLarge(s))?;
        let out = self.data.get(self.pos..end).ok_or(Error::Truncated(s))?;
        self.pos = end;
        Ok(out)
    }

    pub fn array<const N: usize>(&mut self, s: Section) -> Result<[u8; N]> {
        let b = self.bytes(N, s)?;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }

    pub fn u32(&mut self, s: Section) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(s)?))
    }

    pub fn u64(&mut self, s: Section) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array(s)?))
    }

    /// A length-prefixed string's raw bytes, unvalidated.
    pub fn string_bytes(&mut self, s: Section) -> Result<&'a [u8]> {
        let len = self.u64(s)?;
        if len > MAX_STRING {
            return Err(Error::TooLarge(s));
        }
        self.bytes(len as usize, s)
    }

    /// A length-prefixed UTF-8 string.
    pub fn str(&mut self, s: Section) -> Result<&'a str> {
        core::str::from_utf8(self.string_bytes(s)?).map_err(|_| Error::InvalidUtf8(s))
    }
}
