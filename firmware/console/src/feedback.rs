//! Feedback on replies (`/good`, `/bad`, `/better`), kept in a fixed byte ring: each entry
//! is a 9-byte header (verdict, then the four field lengths as little-endian `u16`) and
//! the system prompt, user prompt, reply and better text. When a new entry does not fit,
//! the oldest go.

/// What the user said about a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Good,
    Bad,
    /// `/better TEXT`: TEXT is what the reply should have been.
    Better,
}

impl Verdict {
    fn code(self) -> u8 {
        match self {
            Verdict::Good => 1,
            Verdict::Bad => 2,
            Verdict::Better => 3,
        }
    }

    fn from_code(c: u8) -> Self {
        match c {
            1 => Verdict::Good,
            2 => Verdict::Bad,
            _ => Verdict::Better,
        }
    }
}

const HEADER: usize = 9;

/// A field of a stored entry: up to two slices, as it may wrap around the ring's end.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field<'r>(pub [&'r [u8]; 2]);

impl Field<'_> {
    pub fn is_empty(&self) -> bool {
        self.0[0].is_empty() && self.0[1].is_empty()
    }
}

pub(crate) struct Entry<'r> {
    pub verdict: Verdict,
    pub system: Field<'r>,
    pub prompt: Field<'r>,
    pub reply: Field<'r>,
    /// The better reply (`/better` only).
    pub better: Field<'r>,
}

/// The entry is larger than the whole ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooLarge;

pub(crate) struct FeedbackRing<'a> {
    buf: &'a mut [u8],
    /// Offset of the oldest entry.
    head: usize,
    used: usize,
    count: usize,
}

impl<'a> FeedbackRing<'a> {
    pub fn new(buf: &'a mut [u8]) -> Self {
        FeedbackRing {
            buf,
            head: 0,
            used: 0,
            count: 0,
        }
    }

    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    pub fn used(&self) -> usize {
        self.used
    }

    pub fn len(&self) -> usize {
        self.count
    }

    /// Store an entry (each field at most 65535 bytes), dropping the oldest entries until
    /// it fits; returns how many were dropped.
    pub fn push(&mut self, verdict: Verdict, fields: [&[u8]; 4]) -> Result<usize, TooLarge> {
        let mut size = HEADER;
        for f in fields {
            if f.len() > u16::MAX as usize {
                return Err(TooLarge);
            }
            size += f.len();
        }
        if size > self.buf.len() {
            return Err(TooLarge);
        }
        let mut dropped = 0;
        while self.buf.len() - self.used < size {
            let oldest = self.entry_size(self.head);
            self.head = (self.head + oldest) % self.buf.len();
            self.used -= oldest;
            self.count -= 1;
            dropped += 1;
        }
        let mut header = [verdict.code(), 0, 0, 0, 0, 0, 0, 0, 0];
        for (i, f) in fields.iter().enumerate() {
            header[1 + 2 * i..3 + 2 * i].copy_from_slice(&(f.len() as u16).to_le_bytes());
        }
        let mut at = (self.head + self.used) % self.buf.len();
        for part in core::iter::once(&header[..]).chain(fields) {
            at = self.put(at, part);
        }
        self.used += size;
        self.count += 1;
        Ok(dropped)
    }

    /// Entries, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = Entry<'_>> + '_ {
        let mut at = self.head;
        (0..self.count).map(move |_| {
            let e = self.entry(at);
            at = (at + self.entry_size(at)) % self.buf.len();
            e
        })
    }

    fn byte(&self, at: usize) -> u8 {
        self.buf[at % self.buf.len()]
    }

    fn lens(&self, at: usize) -> [usize; 4] {
        let mut lens = [0; 4];
        for (i, l) in lens.iter_mut().enumerate() {
            let lo = self.byte(at + 1 + 2 * i);
            let hi = self.byte(at + 2 + 2 * i);
            *l = u16::from_le_bytes([lo, hi]) as usize;
        }
        lens
    }

    fn entry_size(&self, at: usize) -> usize {
        HEADER + self.lens(at).iter().sum::<usize>()
    }

    fn entry(&self, at: usize) -> Entry<'_> {
        let lens = self.lens(at);
        let mut start = (at + HEADER) % self.buf.len();
        let mut fields = [Field([&[], &[]]); 4];
        for (f, len) in fields.iter_mut().zip(lens) {
            *f = self.field(start, len);
            start = (start + len) % self.buf.len();
        }
        Entry {
            verdict: Verdict::from_code(self.byte(at)),
            system: fields[0],
            prompt: fields[1],
            reply: fields[2],
            better: fields[3],
        }
    }

    fn field(&self, start: usize, len: usize) -> Field<'_> {
        let first = len.min(self.buf.len() - start);
        Field([&self.buf[start..start + first], &self.buf[..len - first]])
    }

    /// Copy `bytes` in at `at`, wrapping; returns the offset after them.
    fn put(&mut self, at: usize, bytes: &[u8]) -> usize {
        let first = bytes.len().min(self.buf.len() - at);
        self.buf[at..at + first].copy_from_slice(&bytes[..first]);
        self.buf[..bytes.len() - first].copy_from_slice(&bytes[first..]);
        (at + bytes.len()) % self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn joined(f: Field<'_>) -> Vec<u8> {
        [f.0[0], f.0[1]].concat()
    }

    #[test]
    fn wraps_and_drops_the_oldest() {
        let mut buf = [0u8; 40];
        let mut ring = FeedbackRing::new(&mut buf);
        // 9 + 6 = 15 bytes each: two fit, the third drops the first.
        for (i, p) in [b"aa", b"bb", b"cc", b"dd"].iter().enumerate() {
            let dropped = ring.push(Verdict::Good, [b"", *p, b"rrrr", b""]).unwrap();
            assert_eq!(dropped, usize::from(i >= 2));
        }
        assert_eq!(ring.len(), 2);
        let prompts: Vec<Vec<u8>> = ring.iter().map(|e| joined(e.prompt)).collect();
        assert_eq!(prompts, [b"cc".to_vec(), b"dd".to_vec()]);
        assert!(ring.iter().all(|e| joined(e.reply) == b"rrrr"));
    }

    #[test]
    fn an_entry_larger_than_the_ring_is_refused() {
        let mut buf = [0u8; 10];
        let mut ring = FeedbackRing::new(&mut buf);
        assert_eq!(
            ring.push(Verdict::Bad, [b"", b"ab", b"", b""]),
            Err(TooLarge)
        );
        assert_eq!(ring.len(), 0);
        let mut none: [u8; 0] = [];
        let mut ring = FeedbackRing::new(&mut none);
        assert_eq!(ring.push(Verdict::Bad, [b""; 4]), Err(TooLarge));
    }
}
