//! Special token ids and flags from `tokenizer.ggml.*`, and the text-based fix-ups llama.cpp
//! applies to token attributes when it loads a vocabulary.
//!
//! GGUF files carry no per-token flags beyond `token_type`, so llama.cpp recognises some
//! tokens by their text: end-of-turn markers such as `<|im_end|>` become control tokens and
//! end generation, fill-in-the-middle markers become control tokens, and a few model-specific
//! exceptions follow. Tokenization depends on this (control tokens are split out of the text
//! only with `parse_special`), so mote applies the same rules in the same order.

use super::vocab::{get_attr, set_attr, Attrs, Meta};
use crate::error::{Error, Key, Result};
use crate::gguf::Value;

/// End-of-turn texts (llama.cpp picks one as `eot` when the key is absent).
const EOT: &[&str] = &[
    "<|eot_id|>",
    "<|im_end|>",
    "<|end|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "<|end_of_text|>",
    "<EOT>",
    "_<EOT>",
    "[EOT]",
    "<｜end▁of▁sentence｜>",
    "<end_of_utterance>",
];
const EOM: &[&str] = &["<|eom_id|>"];
const FIM_PRE: &[&str] = &[
    "<|fim_prefix|>",
    "<fim-prefix>",
    "<fim_prefix>",
    "<｜fim▁begin｜>",
    "<PRE>",
    "▁<PRE>",
    "<|code_prefix|>",
    "<|prefix|>",
];
const FIM_SUF: &[&str] = &[
    "<|fim_suffix|>",
    "<fim-suffix>",
    "<fim_suffix>",
    "<｜fim▁hole｜>",
    "<SUF>",
    "▁<SUF>",
    "<|code_suffix|>",
    "<|suffix|>",
];
const FIM_MID: &[&str] = &[
    "<|fim_middle|>",
    "<fim-middle>",
    "<fim_middle>",
    "<｜fim▁end｜>",
    "<MID>",
    "▁<MID>",
    "<|code_middle|>",
    "<|middle|>",
];
const FIM_PAD: &[&str] = &["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"];
const FIM_REP: &[&str] = &[
    "<|fim_repo|>",
    "<|repo_name|>",
    "<fim-repo>",
    "<REPO>",
    "<reponame>",
];
const FIM_SEP: &[&str] = &["<|file_sep|>"];
/// Texts that always end generation (and are forced to be control tokens).
const EOG: &[&str] = &[
    "<|eot_id|>",
    "<|im_end|>",
    "<|end|>",
    "<|return|>",
    "<|call|>",
    "<|flush|>",
    "<|calls|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "</s>",
    "<|eom_id|>",
    "<EOT>",
    "_<EOT>",
    "[EOT]",
    "[EOS]",
    "<|end_of_text|>",
    "<end_of_utterance>",
    "<eos>",
    "<turn|>",
    "<|tool_response>",
    "<｜end▁of▁sentence｜>",
    "[e~[",
];
/// Tokens llama.cpp always renders (their attributes become exactly USER_DEFINED).
const ALWAYS_RENDER: &[&str] = &["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"];

/// How many tokens the fix-ups can at most turn into special tokens.
pub(super) const MAX_PROMOTED: usize = EOT.len()
    + EOM.len()
    + FIM_PRE.len()
    + FIM_SUF.len()
    + FIM_MID.len()
    + FIM_PAD.len()
    + FIM_REP.len()
    + FIM_SEP.len()
    + EOG.len()
    + ALWAYS_RENDER.len();

/// Special token ids and the tokenizer flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpecialIds {
    pub bos: Option<u32>,
    pub eos: Option<u32>,
    pub eot: Option<u32>,
    pub eom: Option<u32>,
    pub unk: Option<u32>,
    pub sep: Option<u32>,
    pub pad: Option<u32>,
    pub mask: Option<u32>,
    pub fim_pre: Option<u32>,
    pub fim_suf: Option<u32>,
    pub fim_mid: Option<u32>,
    pub fim_pad: Option<u32>,
    pub fim_rep: Option<u32>,
    pub fim_sep: Option<u32>,
    /// `tokenizer.ggml.add_bos_token` (default true for "llama").
    pub add_bos: bool,
    /// `tokenizer.ggml.add_eos_token` (default false).
    pub add_eos: bool,
    /// `tokenizer.ggml.add_space_prefix` (default true for "llama").
    pub add_space_prefix: bool,
}

/// The `tokenizer.ggml.<name>_token_id` keys and the id slot each sets, in llama.cpp's
/// order (the deprecated prefix/suffix/middle keys come last and win).
/// Slots: bos eos eot eom unk sep pad mask fim_pre fim_suf fim_mid fim_pad fim_rep fim_sep.
pub(super) const ID_KEYS: [(&str, usize); 17] = [
    ("bos", 0),
    ("eos", 1),
    ("eot", 2),
    ("eom", 3),
    ("unknown", 4),
    ("seperator", 5),
    ("padding", 6),
    ("mask", 7),
    ("fim_pre", 8),
    ("fim_suf", 9),
    ("fim_mid", 10),
    ("fim_pad", 11),
    ("fim_rep", 12),
    ("fim_sep", 13),
    ("prefix", 8),
    ("suffix", 9),
    ("middle", 10),
];

fn flag(v: Option<Value<'_>>, default: bool) -> Result<bool> {
    match v {
        None => Ok(default),
        Some(Value::Bool(b)) => Ok(b),
        Some(_) => Err(Error::BadKey(Key::SpecialTokenId)),
    }
}

impl SpecialIds {
    /// The ids and flags of a "llama" vocabulary: llama.cpp's defaults (bos 1, eos 2,
    /// unk 0), overridden by the keys that are present. A key naming an id outside the
    /// vocabulary keeps the default (as llama.cpp does); a negative one disables the token.
    pub(super) fn read(meta: &Meta<'_>) -> Result<Self> {
        let n = meta.n;
        let default = |id: u32| Some(id).filter(|&i| (i as usize) < n);
        let mut ids: [Option<u32>; 14] = [None; 14];
        ids[0] = default(1);
        ids[1] = default(2);
        ids[4] = default(0);
        for (&(_, slot), v) in ID_KEYS.iter().zip(meta.ids) {
            let Some(v) = v else { continue };
            let id = match v {
                Value::U8(_) | Value::U16(_) | Value::U32(_) | Value::U64(_) => v.as_u64(),
                Value::I8(_) | Value::I16(_) | Value::I32(_) | Value::I64(_) => match v.as_u64() {
                    Some(id) => Some(id),
                    None => {
                        ids[slot] = None;
                        continue;
                    }
                },
                _ => return Err(Error::BadKey(Key::SpecialTokenId)),
            };
            if let Some(id) = id.filter(|&id| id < n as u64) {
                ids[slot] = Some(id as u32);
            }
        }
        let [bos, eos, eot, eom, unk, sep, pad, mask, fim_pre, fim_suf, fim_mid, fim_pad, fim_rep, fim_sep] =
            ids;
        Ok(SpecialIds {
            bos,
            eos,
            eot,
            eom,
            unk,
            sep,
            pad,
            mask,
            fim_pre,
            fim_suf,
            fim_mid,
            fim_pad,
            fim_rep,
            fim_sep,
            add_bos: flag(meta.flags[0], true)?,
            add_eos: flag(meta.flags[1], false)?,
            add_space_prefix: flag(meta.flags[2], true)?,
        })
    }
}

/// Apply llama.cpp's attribute fix-ups (in its order) to `attrs`, filling in the ids it
/// detects by text. `find` is the exact text -> id lookup.
///
/// Where llama.cpp takes "the first" of several candidate texts it walks a hash map, so the
/// choice is unspecified; here the lowest id wins.
pub(super) fn apply_fixups(
    mut s: SpecialIds,
    find: &dyn Fn(&[u8]) -> Option<u32>,
    attrs: &mut [u32],
) -> SpecialIds {
    let update = |attrs: &mut [u32], id: u32, f: &dyn Fn(u8) -> u8| {
        let a = get_attr(attrs, id as usize);
        set_attr(attrs, id as usize, Attrs(f(a.0)));
    };
    let first = |texts: &[&str]| texts.iter().filter_map(|t| find(t.as_bytes())).min();

    // Auto-detected end-of-turn, end-of-message and fill-in-the-middle tokens become control.
    for (slot, texts) in [
        (&mut s.eot, EOT),
        (&mut s.eom, EOM),
        (&mut s.fim_pre, FIM_PRE),
        (&mut s.fim_suf, FIM_SUF),
        (&mut s.fim_mid, FIM_MID),
        (&mut s.fim_pad, FIM_PAD),
        (&mut s.fim_rep, FIM_REP),
        (&mut s.fim_sep, FIM_SEP),
    ] {
        if slot.is_none() {
            if let Some(id) = first(texts) {
                *slot = Some(id);
                update(attrs, id, &|a| a | Attrs::CONTROL);
            }
        }
    }

    // The end-of-generation set: FIM pad/repo/sep, every EOG-looking text (forced control).
    for id in [s.fim_pad, s.fim_rep, s.fim_sep].into_iter().flatten() {
        update(attrs, id, &|a| a | Attrs::EOG);
    }
    for t in EOG {
        if let Some(id) = find(t.as_bytes()) {
            update(attrs, id, &|a| a | Attrs::EOG | Attrs::CONTROL);
        }
    }
    for t in ALWAYS_RENDER {
        if let Some(id) = find(t.as_bytes()) {
            update(attrs, id, &|a| (a & Attrs::EOG) | Attrs::USER_DEFINED);
        }
    }
    for id in [s.eos, s.eot, s.eom].into_iter().flatten() {
        update(attrs, id, &|a| a | Attrs::EOG);
    }

    // Exceptions: `<|end|>` is not the end where `<|return|>`/`<|call|>` exist, and `</s>` is
    // a normal token next to `<|tool_response>` or `<|plamo:eos|>`.
    let eog = |attrs: &[u32], t: &str| {
        find(t.as_bytes()).filter(|&id| get_attr(attrs, id as usize).is_eog())
    };
    let has = |attrs: &[u32], t: &str| eog(attrs, t).is_some();
    let has_call = has(attrs, "<|call|>") || has(attrs, "<|calls|>");
    if let Some(end) = eog(attrs, "<|end|>") {
        if has_call && (has(attrs, "<|return|>") || has(attrs, "<|flush|>")) {
            update(attrs, end, &|_| Attrs::USER_DEFINED);
        }
    }
    if let Some(end_s) = eog(attrs, "</s>") {
        if has(attrs, "<|tool_response>") || has(attrs, "<|plamo:eos|>") {
            update(attrs, end_s, &|_| Attrs::NORMAL);
        }
    }
    s
}

/// llama.cpp's attribute rules by model name (`general.name`, ASCII-lowercased). The only one
/// for "llama" vocabularies: in Phi-3 models every special token (and `</s>`) drops the
/// whitespace after it, except `<unk>`, `<s>` and `<|endoftext|>`.
pub(super) fn apply_name_rules(
    name: Option<&str>,
    find: &dyn Fn(&[u8]) -> Option<u32>,
    attrs: &mut [u32],
    specials: &[u32],
) {
    let Some(name) = name else {
        return;
    };
    let contains = |pat: &[u8]| {
        name.as_bytes()
            .windows(pat.len())
            .any(|w| w.eq_ignore_ascii_case(pat))
    };
    if !(contains(b"phi-3") || contains(b"phi3")) {
        return;
    }
    let mut set = |id: u32, on: bool| {
        let a = get_attr(attrs, id as usize).0;
        let a = if on {
            a | Attrs::RSTRIP
        } else {
            a & !Attrs::RSTRIP
        };
        set_attr(attrs, id as usize, Attrs(a));
    };
    for &id in specials {
        set(id, true);
    }
    if let Some(id) = find(b"</s>") {
        set(id, true);
    }
    for t in ["<unk>", "<s>", "<|endoftext|>"] {
        if let Some(id) = find(t.as_bytes()) {
            set(id, false);
        }
    }
}
