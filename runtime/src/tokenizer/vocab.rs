//! The vocabulary tables: reading `tokenizer.ggml.*` metadata and laying out the lookup
//! tables in caller memory.
//!
//! Table layout (all `u32` words, `n` = vocabulary size):
//!
//! | words            | contents                                                          |
//! | ---------------- | ----------------------------------------------------------------- |
//! | `n + 1`          | offset of each token's length prefix in the raw token array, then the array's end |
//! | `n`              | token ids sorted by their bytes (binary search for text -> id)     |
//! | `n`              | the first four bytes of each sorted token, big-endian (the search keys) |
//! | `ceil(n / 4)`    | one attribute byte per token ([`Attrs`]), four to a word          |
//! | `256`            | the byte-fallback token of each byte value (`NONE` if absent)      |
//! | `k`              | the special tokens split out of text first, longest first          |
//!
//! (`k` is bounded by [`Meta::max_specials`]; the table reserves that many words.)

use core::cmp::Ordering;

use super::special;
use crate::error::{Error, Key, Result};
use crate::gguf::{Array, Gguf, Value, ValueType};

/// "No token" in the tables.
pub(super) const NONE: u32 = u32::MAX;

/// The largest vocabulary accepted (ids stay far below `NONE`, sizes cannot overflow).
pub const MAX_VOCAB: usize = 1 << 24;

/// The token attributes llama.cpp derives from `tokenizer.ggml.token_type` and from its
/// text-based fix-ups, plus whether the token ends generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Attrs(pub(super) u8);

impl Attrs {
    pub(super) const UNDEFINED: u8 = 0;
    pub(super) const UNKNOWN: u8 = 1 << 0;
    pub(super) const UNUSED: u8 = 1 << 1;
    pub(super) const NORMAL: u8 = 1 << 2;
    pub(super) const CONTROL: u8 = 1 << 3;
    pub(super) const USER_DEFINED: u8 = 1 << 4;
    pub(super) const BYTE: u8 = 1 << 5;
    /// Not a llama.cpp attribute: membership of its end-of-generation set.
    pub(super) const EOG: u8 = 1 << 6;
    /// Whitespace after the token is dropped when it is split out of text.
    pub(super) const RSTRIP: u8 = 1 << 7;

    /// The attributes of a `tokenizer.ggml.token_type` value (llama.cpp's mapping).
    pub(super) fn from_type(t: i32) -> Self {
        Attrs(match t {
            1 => Self::NORMAL,
            2 => Self::UNKNOWN,
            3 => Self::CONTROL,
            4 => Self::USER_DEFINED,
            5 => Self::UNUSED,
            6 => Self::BYTE,
            _ => Self::UNDEFINED,
        })
    }

    fn has(self, bits: u8) -> bool {
        self.0 & bits != 0
    }

    pub fn is_normal(self) -> bool {
        self.has(Self::NORMAL)
    }
    pub fn is_unknown(self) -> bool {
        self.has(Self::UNKNOWN)
    }
    pub fn is_control(self) -> bool {
        self.has(Self::CONTROL)
    }
    pub fn is_user_defined(self) -> bool {
        self.has(Self::USER_DEFINED)
    }
    pub fn is_unused(self) -> bool {
        self.has(Self::UNUSED)
    }
    pub fn is_byte(self) -> bool {
        self.has(Self::BYTE)
    }
    /// In llama.cpp's end-of-generation set (EOS, EOT, `<|im_end|>`, ...).
    pub fn is_eog(self) -> bool {
        self.has(Self::EOG)
    }
    /// Whitespace after the token is dropped when it is split out of text.
    pub fn rstrip(self) -> bool {
        self.has(Self::RSTRIP)
    }
    /// Split out of the text before merging (when `parse_special`, or always for
    /// user-defined tokens).
    pub(super) fn is_special(self) -> bool {
        self.has(Self::CONTROL | Self::USER_DEFINED | Self::UNKNOWN)
    }
}

/// The tokenizer metadata, gathered in one pass over the file's keys (each lookup by key
/// would re-read the whole token array).
#[derive(Clone, Copy)]
pub(super) struct Meta<'a> {
    pub tokens: Array<'a>,
    pub scores: Option<Array<'a>>,
    pub types: Option<Array<'a>>,
    pub n: usize,
    /// `general.name`, for llama.cpp's name-based rules.
    pub name: Option<&'a str>,
    /// The `tokenizer.ggml.<name>_token_id` values, in [`special::ID_KEYS`] order.
    pub ids: [Option<Value<'a>>; special::ID_KEYS.len()],
    /// `add_bos_token`, `add_eos_token`, `add_space_prefix`.
    pub flags: [Option<Value<'a>>; 3],
}

fn as_array<'a>(v: Option<Value<'a>>, key: Key) -> Result<Option<Array<'a>>> {
    match v {
        None => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(_) => Err(Error::BadKey(key)),
    }
}

impl<'a> Meta<'a> {
    pub fn read(g: &Gguf<'a>) -> Result<Self> {
        let (mut model, mut tokens, mut scores, mut types, mut name) =
            (None, None, None, None, None);
        let mut ids = [None; special::ID_KEYS.len()];
        let mut flags = [None; 3];
        for (k, v) in g.metadata() {
            match k {
                "general.name" => name = v.as_str(),
                "tokenizer.ggml.model" => model = Some(v),
                "tokenizer.ggml.tokens" => tokens = Some(v),
                "tokenizer.ggml.scores" => scores = Some(v),
                "tokenizer.ggml.token_type" => types = Some(v),
                "tokenizer.ggml.add_bos_token" => flags[0] = Some(v),
                "tokenizer.ggml.add_eos_token" => flags[1] = Some(v),
                "tokenizer.ggml.add_space_prefix" => flags[2] = Some(v),
                _ => {
                    let slot = k
                        .strip_prefix("tokenizer.ggml.")
                        .and_then(|r| r.strip_suffix("_token_id"))
                        .and_then(|r| special::ID_KEYS.iter().position(|&(n, _)| n == r));
                    if let Some(i) = slot {
                        ids[i] = Some(v);
                    }
                }
            }
        }
        match model {
            None => return Err(Error::MissingKey(Key::TokenizerModel)),
            Some(Value::Str("llama")) => {}
            Some(Value::Str(_)) => return Err(Error::UnsupportedTokenizer),
            Some(_) => return Err(Error::BadKey(Key::TokenizerModel)),
        }
        let tokens = as_array(tokens, Key::TokenizerTokens)?
            .ok_or(Error::MissingKey(Key::TokenizerTokens))?;
        let n = tokens.len();
        if tokens.elem_type() != ValueType::String
            || n == 0
            || n > MAX_VOCAB
            || tokens.raw().len() >= NONE as usize
        {
            return Err(Error::BadKey(Key::TokenizerTokens));
        }
        // Scores and types are optional in llama.cpp (0.0 and NORMAL); when present they must
        // cover every token.
        let scores = as_array(scores, Key::TokenizerScores)?;
        if let Some(s) = scores {
            if !matches!(s.elem_type(), ValueType::F32 | ValueType::I32) || s.len() < n {
                return Err(Error::BadKey(Key::TokenizerScores));
            }
        }
        let types = as_array(types, Key::TokenizerTokenType)?;
        if let Some(t) = types {
            if !matches!(t.elem_type(), ValueType::I32 | ValueType::U32) || t.len() < n {
                return Err(Error::BadKey(Key::TokenizerTokenType));
            }
        }
        Ok(Meta {
            tokens,
            scores,
            types,
            n,
            name,
            ids,
            flags,
        })
    }

    pub fn token_type(&self, id: usize) -> i32 {
        match self.types {
            Some(t) => t.i32(id).unwrap_or(0),
            None => 1,
        }
    }

    /// An upper bound on the number of special tokens (raw control/user-defined/unknown
    /// types plus every token llama.cpp's text fix-ups could promote).
    pub fn max_specials(&self) -> usize {
        let raw = (0..self.n)
            .filter(|&i| Attrs::from_type(self.token_type(i)).is_special())
            .count();
        raw.saturating_add(special::MAX_PROMOTED).min(self.n)
    }
}

/// Words of table memory for a vocabulary of `n` tokens with at most `k` special tokens.
pub(super) fn table_words(n: usize, k: usize) -> usize {
    (n + 1) + 2 * n + n.div_ceil(4) + 256 + k
}

/// The first four bytes of `text`, big-endian, zero-padded. Sorting texts sorts these keys
/// too (equal keys say nothing: "a" and "a\0" share one).
pub(super) fn prefix_key(text: &[u8]) -> u32 {
    let mut b = [0u8; 4];
    for (d, s) in b.iter_mut().zip(text) {
        *d = *s;
    }
    u32::from_be_bytes(b)
}

/// The read-only tables, borrowed from the caller's memory.
#[derive(Clone, Copy)]
pub(super) struct Tables<'a> {
    /// The raw element bytes of `tokenizer.ggml.tokens` (u64 length + bytes per token).
    pub raw: &'a [u8],
    /// `n + 1` offsets: token `i` is `raw[starts[i] + 8 .. starts[i + 1]]`.
    pub starts: &'a [u32],
    /// Ids sorted by token bytes.
    pub sorted: &'a [u32],
    /// `prefix[i]` = [`prefix_key`] of token `sorted[i]`: the binary search runs on this
    /// contiguous array and reads token bytes only where the prefixes are equal.
    pub prefix: &'a [u32],
    /// Attribute bytes, four to a word.
    pub attrs: &'a [u32],
    /// Byte value -> byte-fallback token.
    pub byte_tokens: &'a [u32],
    /// Special tokens, longest first.
    pub specials: &'a [u32],
}

impl<'a> Tables<'a> {
    pub fn n(&self) -> usize {
        self.sorted.len()
    }

    /// The bytes of token `id` (empty when out of range).
    #[inline]
    pub fn text(&self, id: u32) -> &'a [u8] {
        let i = id as usize;
        match (self.starts.get(i), self.starts.get(i.wrapping_add(1))) {
            (Some(&s), Some(&e)) => self.raw.get(s as usize + 8..e as usize).unwrap_or(&[]),
            _ => &[],
        }
    }

    #[inline]
    pub fn attrs(&self, id: u32) -> Attrs {
        let i = id as usize;
        match self.attrs.get(i / 4) {
            Some(w) => Attrs((w >> (8 * (i % 4))) as u8),
            None => Attrs(Attrs::UNDEFINED),
        }
    }

    /// Binary search of the sorted index; `cmp` orders a token's bytes against the key.
    #[inline]
    pub fn find_by(&self, mut cmp: impl FnMut(&[u8]) -> Ordering) -> Option<u32> {
        self.sorted
            .binary_search_by(|&id| cmp(self.text(id)))
            .ok()
            .and_then(|i| self.sorted.get(i).copied())
    }

    /// Exact text -> id lookup. Empty text matches nothing (llama.cpp renames empty tokens).
    pub fn find(&self, key: &[u8]) -> Option<u32> {
        if key.is_empty() {
            return None;
        }
        let kp = prefix_key(key);
        let (mut lo, mut hi) = (0, self.sorted.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let id = *self.sorted.get(mid)?;
            let ord = self
                .prefix
                .get(mid)?
                .cmp(&kp)
                .then_with(|| self.text(id).cmp(key));
            match ord {
                Ordering::Less => lo = mid + 1,
                Ordering::Greater => hi = mid,
                Ordering::Equal => return Some(id),
            }
        }
        None
    }
}

pub(super) fn set_attr(words: &mut [u32], id: usize, a: Attrs) {
    if let Some(w) = words.get_mut(id / 4) {
        let shift = 8 * (id % 4);
        *w = (*w & !(0xff << shift)) | ((a.0 as u32) << shift);
    }
}

pub(super) fn get_attr(words: &[u32], id: usize) -> Attrs {
    words
        .get(id / 4)
        .map_or(Attrs(0), |w| Attrs((w >> (8 * (id % 4))) as u8))
}

/// The byte a BYTE token stands for, as llama.cpp reads it: up to two hex digits after `<0x`.
pub(super) fn byte_value(text: &[u8]) -> Option<u8> {
    let digits = text.get(3..)?;
    let mut v: u32 = 0;
    for &c in digits.iter().take(2) {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => break,
        };
        v = v * 16 + d as u32;
    }
    Some(v as u8)
}

/// Everything `build` works out besides the tables.
pub(super) struct Built<'a> {
    pub tables: Tables<'a>,
    pub special: special::SpecialIds,
    pub max_token_len: usize,
}

/// Fill `table` (at least `table_words(n, meta.max_specials())` words) and return views of it.
pub(super) fn build<'a>(meta: &Meta<'a>, table: &'a mut [u32]) -> Result<Built<'a>> {
    let n = meta.n;
    let k_cap = meta.max_specials();
    let needed = table_words(n, k_cap);
    if table.len() < needed {
        return Err(Error::BufferTooSmall {
            needed,
            got: table.len(),
        });
    }
    let raw = meta.tokens.raw();
    let (starts, rest) = table.split_at_mut(n + 1);
    let (sorted, rest) = rest.split_at_mut(n);
    let (prefix, rest) = rest.split_at_mut(n);
    let (attrs, rest) = rest.split_at_mut(n.div_ceil(4));
    let (byte_tokens, rest) = rest.split_at_mut(256);
    let specials = &mut rest[..k_cap];

    // Token offsets: walk the length-prefixed strings once.
    let mut pos = 0usize;
    let mut max_token_len = 0;
    for s in starts.iter_mut().take(n) {
        *s = pos as u32;
        let len = raw
            .get(pos..pos + 8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
            .ok_or(Error::BadVocab)?;
        let len = usize::try_from(len).map_err(|_| Error::BadVocab)?;
        max_token_len = max_token_len.max(len);
        pos = pos
            .checked_add(8)
            .and_then(|p| p.checked_add(len))
            .filter(|&p| p <= raw.len())
            .ok_or(Error::BadVocab)?;
    }
    if pos != raw.len() {
        return Err(Error::BadVocab);
    }
    starts[n] = pos as u32;
    let starts: &'a [u32] = starts;

    // Sorted index; duplicate texts make llama.cpp refuse the file, so they are an error here.
    let text = |id: u32| -> &'a [u8] {
        let i = id as usize;
        match (starts.get(i), starts.get(i + 1)) {
            (Some(&s), Some(&e)) => raw.get(s as usize + 8..e as usize).unwrap_or(&[]),
            _ => &[],
        }
    };
    // Sort by (prefix key, bytes): the keys, indexed by id for now, settle most comparisons.
    for (i, (s, p)) in sorted.iter_mut().zip(prefix.iter_mut()).enumerate() {
        *s = i as u32;
        *p = prefix_key(text(i as u32));
    }
    {
        let key = |id: u32| prefix.get(id as usize).copied().unwrap_or(0);
        sorted.sort_unstable_by(|&a, &b| {
            key(a)
                .cmp(&key(b))
                .then_with(|| text(a).cmp(text(b)))
                .then(a.cmp(&b))
        });
    }
    if sorted
        .windows(2)
        .any(|w| !text(w[0]).is_empty() && text(w[0]) == text(w[1]))
    {
        return Err(Error::BadVocab);
    }
    let sorted: &'a [u32] = sorted;
    // Now in sorted order.
    for (p, &id) in prefix.iter_mut().zip(sorted) {
        *p = prefix_key(text(id));
    }
    let prefix: &'a [u32] = prefix;

    // Attributes from token_type. BYTE tokens need at least `<0x` (llama.cpp throws otherwise).
    attrs.fill(0);
    for id in 0..n {
        let a = Attrs::from_type(meta.token_type(id));
        if a.is_byte() && text(id as u32).len() < 3 {
            return Err(Error::BadVocab);
        }
        set_attr(attrs, id, a);
    }

    // Special ids from the keys, then llama.cpp's text-based fix-ups of the attributes.
    let find = |key: &[u8]| -> Option<u32> {
        if key.is_empty() {
            return None;
        }
        sorted
            .binary_search_by(|&id| text(id).cmp(key))
            .ok()
            .and_then(|i| sorted.get(i).copied())
    };
    let special = special::SpecialIds::read(meta)?;
    let special = special::apply_fixups(special, &find, attrs);

    // Byte fallback: `<0xXX>` (upper-case hex), else the byte itself as a one-byte token.
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for (b, slot) in byte_tokens.iter_mut().enumerate() {
        let name = [b'<', b'0', b'x', HEX[b >> 4], HEX[b & 15], b'>'];
        *slot = find(&name).or_else(|| find(&[b as u8])).unwrap_or(NONE);
    }
    let byte_tokens: &'a [u32] = byte_tokens;

    // Special tokens, longest first (ties by id: llama.cpp's std::sort is stable in practice
    // for the handful of specials real vocabularies have).
    let mut k = 0;
    for id in 0..n as u32 {
        if get_attr(attrs, id as usize).is_special() && !text(id).is_empty() {
            *specials.get_mut(k).ok_or(Error::BadVocab)? = id;
            k += 1;
        }
    }
    let specials = &mut specials[..k];
    specials.sort_unstable_by(|&a, &b| text(b).len().cmp(&text(a).len()).then(a.cmp(&b)));
    let specials: &'a [u32] = specials;
    special::apply_name_rules(meta.name, &find, attrs, specials);
    let attrs: &'a [u32] = attrs;

    Ok(Built {
        tables: Tables {
            raw,
            starts,
            sorted,
            prefix,
            attrs,
            byte_tokens,
            specials,
        },
        special,
        max_token_len,
    })
}
