//! Splitting special tokens out of the text before merging (llama.cpp's
//! `tokenizer_st_partition`).
//!
//! llama.cpp takes the special tokens longest first; each one is searched in every piece of
//! text that is still raw, left to right, non-overlapping, and splits it. The order matters:
//! a longer special token claims its text even where a shorter one would match further left.
//! Here the matches are kept as a sorted list in the tail of a caller's buffer, growing
//! downwards, so the raw pieces are the gaps between them.

use super::vocab::Tables;

/// Words per match: start and end of the text it takes (the token, plus the whitespace
/// after it for `rstrip` tokens), and the token id.
pub(super) const WORDS_PER_MATCH: usize = 3;

/// One special token found in the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Match {
    pub start: usize,
    pub end: usize,
    pub id: u32,
}

/// The matches found by [`partition`], in text order.
#[derive(Clone, Copy)]
pub(super) struct Matches<'m> {
    words: &'m [u32],
}

impl<'m> Matches<'m> {
    pub fn new(words: &'m [u32]) -> Self {
        Matches { words }
    }

    pub fn len(&self) -> usize {
        self.words.len() / WORDS_PER_MATCH
    }

    pub fn get(&self, j: usize) -> Option<Match> {
        let w = self
            .words
            .get(WORDS_PER_MATCH * j..WORDS_PER_MATCH * (j + 1))?;
        Some(Match {
            start: w[0] as usize,
            end: w[1] as usize,
            id: w[2],
        })
    }
}

/// First occurrence of `needle` (non-empty) in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let last_start = hay.len().checked_sub(needle.len())?;
    let mut i = 0;
    while i <= last_start {
        i += hay.get(i..=last_start)?.iter().position(|&c| c == first)?;
        if hay.get(i + 1..i + needle.len()) == Some(rest) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// C's `isspace` in the "C" locale, which llama.cpp's rstrip uses.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Find the special tokens in `text` the way llama.cpp does and store them in the tail of
/// `buf`. Returns the number of matches (they occupy the last `WORDS_PER_MATCH * count`
/// words), or `None` when `buf` cannot hold them.
pub(super) fn partition(
    t: &Tables<'_>,
    text: &[u8],
    parse_special: bool,
    buf: &mut [u32],
) -> Option<usize> {
    let mut count = 0usize;
    for &id in t.specials {
        let a = t.attrs(id);
        // Without parse_special only user-defined tokens are split out.
        if !parse_special && (a.is_control() || a.is_unknown()) {
            continue;
        }
        let s = t.text(id);
        if s.is_empty() {
            continue;
        }
        // Walk the gaps between existing matches; `j` is the match after the current gap.
        let mut j = 0usize;
        let mut gap_start = 0usize;
        loop {
            let gap_end = if j < count {
                get(buf, count, j)?.start
            } else {
                text.len()
            };
            let mut at = gap_start;
            while let Some(off) = text.get(at..gap_end).and_then(|h| find(h, s)) {
                let start = at + off;
                let mut end = start + s.len();
                if a.rstrip() {
                    while end < gap_end && text.get(end).is_some_and(|&b| is_c_space(b)) {
                        end += 1;
                    }
                }
                insert(buf, &mut count, j, Match { start, end, id })?;
                j += 1;
                at = end;
            }
            if j >= count {
                break;
            }
            gap_start = get(buf, count, j)?.end;
            j += 1;
        }
    }
    Some(count)
}

/// Match `j` of the `count` stored at the end of `buf`.
fn get(buf: &[u32], count: usize, j: usize) -> Option<Match> {
    let lo = buf.len().checked_sub(WORDS_PER_MATCH * count)?;
    Matches::new(buf.get(lo..)?).get(j)
}

/// Insert a match before match `j`, growing the list downwards by one entry.
fn insert(buf: &mut [u32], count: &mut usize, j: usize, m: Match) -> Option<()> {
    const W: usize = WORDS_PER_MATCH;
    let lo = buf.len().checked_sub(W * *count)?;
    let new_lo = lo.checked_sub(W)?;
    buf.copy_within(lo..lo + W * j, new_lo);
    let slot = buf.get_mut(new_lo + W * j..new_lo + W * (j + 1))?;
    slot.copy_from_slice(&[m.start as u32, m.end as u32, m.id]);
    *count += 1;
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_substrings() {
        assert_eq!(find(b"abcabc", b"ca"), Some(2));
        assert_eq!(find(b"abc", b"abc"), Some(0));
        assert_eq!(find(b"ab", b"abc"), None);
        assert_eq!(find(b"aab", b"ab"), Some(1));
        assert_eq!(find(b"", b"a"), None);
        assert_eq!(find(b"abc", b""), None);
    }
}
