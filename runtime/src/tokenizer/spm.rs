//! SentencePiece-style merging of one raw text fragment (llama.cpp's
//! `llm_tokenizer_spm_session`).
//!
//! The fragment (with spaces shown as `▁`, U+2581) starts as one symbol per UTF-8 character.
//! While some pair of adjacent symbols concatenates to a vocabulary token, the pair whose
//! token has the highest score is merged (ties: the leftmost pair). Each final symbol becomes
//! its token, or, when it is not in the vocabulary (only single characters can be), the
//! byte-fallback tokens `<0xXX>` of its bytes.
//!
//! llama.cpp keeps a priority queue with stale entries; here an indexed binary heap holds
//! exactly one entry per current pair, so the working memory is fixed: five words per byte
//! of the fragment, laid out in caller memory. Both pick the same pair at every step: the
//! current pair with the highest `(score, -position)`.

use core::cmp::Ordering;

use super::vocab::NONE;
use super::Tokenizer;
use crate::error::{Error, Result};

/// Words of working memory per unit (byte of the fragment, plus one for the space prefix).
pub(super) const WORDS_PER_UNIT: usize = 5;

/// UTF-8 of `▁` (U+2581), which stands for a space in SentencePiece vocabularies.
pub(super) const SPACE: &[u8] = "\u{2581}".as_bytes();

/// A symbol start whose symbol was merged into its left neighbour.
const DEAD: u32 = NONE - 1;

/// One raw fragment as the merger sees it: an optional leading space, then the raw bytes.
/// Unit `u` is the prefix space (`u == 0` with a prefix) or raw byte `u - prefix`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Fragment<'t> {
    pub raw: &'t [u8],
    pub prefix: bool,
}

impl Fragment<'_> {
    fn p(&self) -> usize {
        self.prefix as usize
    }

    pub fn units(&self) -> usize {
        self.raw.len() + self.p()
    }

    /// Length after escaping (each space, and the prefix, is the 3-byte `▁`).
    pub fn escaped_len(&self) -> usize {
        let spaces = self.raw.iter().filter(|&&b| b == b' ').count();
        self.raw.len() + (SPACE.len() - 1) * spaces + SPACE.len() * self.p()
    }

    fn is_space(&self, u: usize) -> bool {
        u < self.p() || self.raw.get(u - self.p()) == Some(&b' ')
    }

    fn is_char_start(&self, u: usize) -> bool {
        u < self.p()
            || self
                .raw
                .get(u - self.p())
                .is_some_and(|&b| b & 0xC0 != 0x80)
    }

    /// Call `f` with the escaped bytes of units `a..b`.
    fn for_each_byte(&self, a: usize, b: usize, mut f: impl FnMut(u8)) {
        for u in a..b {
            if self.is_space(u) {
                SPACE.iter().for_each(|&c| f(c));
            } else if let Some(&c) = self.raw.get(u - self.p()) {
                f(c);
            }
        }
    }

    /// Order `token` against the escaped bytes of units `a..b`.
    fn cmp_token(&self, token: &[u8], a: usize, b: usize) -> Ordering {
        let mut t = token.iter();
        for u in a..b {
            let one;
            let bytes: &[u8] = if self.is_space(u) {
                SPACE
            } else {
                one = [self.raw.get(u - self.p()).copied().unwrap_or(0)];
                &one
            };
            for &c in bytes {
                match t.next() {
                    None => return Ordering::Less,
                    Some(&x) if x != c => return x.cmp(&c),
                    Some(_) => {}
                }
            }
        }
        if t.next().is_some() {
            Ordering::Greater
        } else {
            Ordering::Equal
        }
    }
}

/// The working arrays, each `n` long (`n` = units of the fragment).
struct Merger<'w> {
    /// Symbol start -> next symbol start (`n` for the last symbol; `DEAD` inside symbols).
    next: &'w mut [u32],
    /// Symbol start -> previous symbol start (`NONE` for the first).
    prev: &'w mut [u32],
    /// Symbol start -> its index in `heap` (`NONE` when its pair is not a token).
    pos: &'w mut [u32],
    /// Symbol start -> score of the token its pair with the next symbol forms (f32 bits).
    score: &'w mut [u32],
    /// Binary max-heap of symbol starts, by (score, leftmost).
    heap: &'w mut [u32],
    len: usize,
}

impl Merger<'_> {
    #[inline]
    fn better(&self, a: u32, b: u32) -> bool {
        let sa = f32::from_bits(self.score[a as usize]);
        let sb = f32::from_bits(self.score[b as usize]);
        sa > sb || (sa == sb && a < b)
    }

    #[inline]
    fn place(&mut self, i: usize, u: u32) {
        self.heap[i] = u;
        self.pos[u as usize] = i as u32;
    }

    fn sift_up(&mut self, mut i: usize) {
        let u = self.heap[i];
        while i > 0 {
            let parent = (i - 1) / 2;
            let p = self.heap[parent];
            if !self.better(u, p) {
                break;
            }
            self.place(i, p);
            i = parent;
        }
        self.place(i, u);
    }

    fn sift_down(&mut self, mut i: usize) {
        let u = self.heap[i];
        loop {
            let l = 2 * i + 1;
            if l >= self.len {
                break;
            }
            let mut c = l;
            if l + 1 < self.len && self.better(self.heap[l + 1], self.heap[l]) {
                c = l + 1;
            }
            let cu = self.heap[c];
            if !self.better(cu, u) {
                break;
            }
            self.place(i, cu);
            i = c;
        }
        self.place(i, u);
    }

    fn remove(&mut self, u: u32) {
        let i = self.pos[u as usize] as usize;
        self.pos[u as usize] = NONE;
        self.len -= 1;
        if i < self.len {
            let last = self.heap[self.len];
            self.place(i, last);
            self.sift_down(i);
            let j = self.pos[last as usize] as usize;
            self.sift_up(j);
        }
    }

    /// Set the pair score of `u` (`None`: its pair is not a token) and restore the heap.
    fn set(&mut self, u: u32, score: Option<f32>) {
        let in_heap = self.pos[u as usize] != NONE;
        match score {
            Some(s) => {
                // NaN would break the ordering; llama.cpp's behaviour with it is undefined.
                let s = if s.is_nan() { f32::NEG_INFINITY } else { s };
                self.score[u as usize] = s.to_bits();
                let i = if in_heap {
                    self.pos[u as usize] as usize
                } else {
                    self.len += 1;
                    self.place(self.len - 1, u);
                    self.len - 1
                };
                self.sift_up(i);
                let j = self.pos[u as usize] as usize;
                self.sift_down(j);
            }
            None if in_heap => self.remove(u),
            None => {}
        }
    }
}

impl<'a> Tokenizer<'a> {
    /// The token whose text is the escaped units `a..b` of `f`.
    fn lookup_units(&self, f: &Fragment<'_>, a: usize, b: usize) -> Option<u32> {
        // Every unit is at least one byte: longer ranges cannot be tokens.
        if b - a > self.max_token_len {
            return None;
        }
        // Short keys (all real ones) are escaped onto the stack for plain slice compares.
        const KEY: usize = 64;
        let mut key = [0u8; KEY];
        let mut len = 0;
        f.for_each_byte(a, b, |c| {
            if let Some(slot) = key.get_mut(len) {
                *slot = c;
            }
            len += 1;
        });
        if len > self.max_token_len {
            None
        } else if len <= KEY {
            self.t.find(&key[..len])
        } else {
            self.t.find_by(|tok| f.cmp_token(tok, a, b))
        }
    }

    /// Score of the pair starting at symbol `u`, if it forms a token.
    fn pair_score(&self, f: &Fragment<'_>, next: &[u32], u: u32) -> Option<f32> {
        let n = next.len();
        let r = *next.get(u as usize)? as usize;
        let e = *next.get(r)? as usize;
        if r >= n || e > n {
            return None;
        }
        self.lookup_units(f, u as usize, e).map(|id| self.score(id))
    }

    /// The byte-fallback token of `b`, else the unknown token.
    fn byte_token(&self, b: u8) -> Result<u32> {
        match self.t.byte_tokens.get(b as usize) {
            Some(&id) if id != NONE => Ok(id),
            _ => self.special.unk.ok_or(Error::BadVocab),
        }
    }

    /// Merge fragment `f` with `work` (at least `WORDS_PER_UNIT * f.units()` words) and write
    /// its ids to `dst`. Returns the number of ids.
    pub(super) fn spm(&self, f: Fragment<'_>, work: &mut [u32], dst: &mut [u32]) -> Result<usize> {
        let n = f.units();
        if n == 0 {
            return Ok(0);
        }
        let needed = WORDS_PER_UNIT * n;
        let got = work.len();
        let work = work
            .get_mut(..needed)
            .ok_or(Error::BufferTooSmall { needed, got })?;
        let (next, rest) = work.split_at_mut(n);
        let (prev, rest) = rest.split_at_mut(n);
        let (pos, rest) = rest.split_at_mut(n);
        let (score, heap) = rest.split_at_mut(n);
        let mut m = Merger {
            next,
            prev,
            pos,
            score,
            heap,
            len: 0,
        };

        // One symbol per UTF-8 character.
        let mut last = NONE;
        for u in 0..n {
            m.pos[u] = NONE;
            if f.is_char_start(u) {
                if last != NONE {
                    m.next[last as usize] = u as u32;
                }
                m.prev[u] = last;
                last = u as u32;
            } else {
                m.next[u] = DEAD;
                m.prev[u] = NONE;
            }
        }
        if last != NONE {
            m.next[last as usize] = n as u32;
        }

        // Seed the heap with every adjacent pair that is a token, then heapify.
        for u in 0..n {
            if m.next[u] == DEAD {
                continue;
            }
            if let Some(s) = self.pair_score(&f, m.next, u as u32) {
                m.score[u] = if s.is_nan() { f32::NEG_INFINITY } else { s }.to_bits();
                let i = m.len;
                m.len += 1;
                m.place(i, u as u32);
            }
        }
        for i in (0..m.len / 2).rev() {
            m.sift_down(i);
        }

        // Merge the best pair until no pair is a token.
        while m.len > 0 {
            let l = m.heap[0];
            let r = m.next[l as usize];
            if r as usize >= n {
                m.remove(l);
                continue;
            }
            let e = m.next[r as usize];
            m.next[l as usize] = e;
            m.next[r as usize] = DEAD;
            if (e as usize) < n {
                m.prev[e as usize] = l;
            }
            if m.pos[r as usize] != NONE {
                m.remove(r);
            }
            // `l` stays in the heap with its new pair's score (or leaves it).
            let s = self.pair_score(&f, m.next, l);
            m.set(l, s);
            let p = m.prev[l as usize];
            if p != NONE {
                let s = self.pair_score(&f, m.next, p);
                m.set(p, s);
            }
        }

        // Emit each symbol's token, or its bytes.
        let mut k = 0;
        let mut emit = |id: u32| -> Result<()> {
            *dst.get_mut(k).ok_or(Error::TooManyTokens)? = id;
            k += 1;
            Ok(())
        };
        let mut u = 0usize;
        while u < n {
            let e = m.next[u] as usize;
            if e <= u || e > n {
                break;
            }
            match self.lookup_units(&f, u, e) {
                Some(id) => emit(id)?,
                None => {
                    let mut res = Ok(());
                    f.for_each_byte(u, e, |b| {
                        if res.is_ok() {
                            res = self.byte_token(b).and_then(&mut emit);
                        }
                    });
                    res?;
                }
            }
            u = e;
        }
        Ok(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_len_counts_spaces_and_prefix() {
        let f = Fragment {
            raw: b"a b  c",
            prefix: true,
        };
        assert_eq!(f.units(), 7);
        assert_eq!(f.escaped_len(), "▁a▁b▁▁c".len());
        let f = Fragment {
            raw: b"",
            prefix: false,
        };
        assert_eq!(f.escaped_len(), 0);
    }

    #[test]
    fn compares_escaped_bytes() {
        let f = Fragment {
            raw: "x y".as_bytes(),
            prefix: true,
        };
        assert_eq!(f.cmp_token("▁x".as_bytes(), 0, 2), Ordering::Equal);
        assert_eq!(f.cmp_token("▁x▁".as_bytes(), 0, 3), Ordering::Equal);
        assert_eq!(f.cmp_token("▁".as_bytes(), 0, 2), Ordering::Less);
        assert_eq!(f.cmp_token("▁xz".as_bytes(), 0, 2), Ordering::Greater);
        assert_eq!(f.cmp_token(b"a", 0, 1), Ordering::Less);
    }
}
