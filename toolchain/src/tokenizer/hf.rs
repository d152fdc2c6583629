//! The Hugging Face side: `tokenizer.json` from an [`SpmVocab`], and back.
//!
//! llama.cpp merges the adjacent pair whose concatenation has the best score, the leftmost
//! on ties. A BPE does the same when its merges are every split `a + b` of a vocabulary
//! piece (both parts pieces themselves), ordered by the piece's score, which is how Hugging
//! Face converts SentencePiece models; byte and special tokens take part in no merge.
//! The rest is the llama layout: `Prepend("▁")` and `Replace(" ", "▁")` as normalizer (run
//! on each fragment between special tokens, so each gets its own space prefix, as in
//! llama.cpp), no pre-tokenizer, byte fallback, the control tokens as special added tokens
//! and BOS added by the post-processor.

use std::collections::HashMap;

use serde_json::Value;
use tokenizers::decoders::byte_fallback::ByteFallback;
use tokenizers::decoders::fuse::Fuse;
use tokenizers::decoders::sequence::Sequence as DecoderSequence;
use tokenizers::decoders::strip::Strip;
use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::normalizers::{Prepend, Replace, Sequence};
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::{AddedToken, DecoderWrapper, ModelWrapper, NormalizerWrapper, Tokenizer};

use super::{byte_value, SpmVocab, TokenType, BOS, EOS, SPACE};
use crate::error::{Error, Result};

fn hf_error(what: &str) -> impl Fn(tokenizers::Error) -> Error + '_ {
    move |e| Error::Tokenizer(format!("{what}: {e}"))
}

/// The merges that make a BPE agree with best-score merging over `v`'s normal pieces.
pub fn merges(v: &SpmVocab) -> Vec<(String, String)> {
    let normal: HashMap<&str, usize> = v
        .tokens
        .iter()
        .enumerate()
        .filter(|&(i, _)| v.token_types[i] == TokenType::Normal)
        .map(|(i, t)| (t.as_str(), i))
        .collect();
    let mut by_score: Vec<usize> = normal.values().copied().collect();
    // Best score first; the sort is stable on ids, so equal scores keep id order.
    by_score.sort_unstable();
    by_score.sort_by(|&a, &b| v.scores[b].total_cmp(&v.scores[a]));
    let mut out = Vec::new();
    for id in by_score {
        let piece = v.tokens[id].as_str();
        let mut local: Vec<(usize, usize, &str, &str)> = piece
            .char_indices()
            .skip(1)
            .filter_map(|(at, _)| {
                let (a, b) = piece.split_at(at);
                Some((*normal.get(a)?, *normal.get(b)?, a, b))
            })
            .collect();
        local.sort_unstable();
        out.extend(local.into_iter().map(|(_, _, a, b)| (a.into(), b.into())));
    }
    out
}

/// The Hugging Face tokenizer that encodes as llama.cpp does with `v`
/// (`add_special = true, parse_special = true`).
pub fn hf_tokenizer(v: &SpmVocab) -> Result<Tokenizer> {
    let vocab: Vocab = v
        .tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), i as u32))
        .collect();
    if vocab.len() != v.tokens.len() {
        return Err(Error::Tokenizer("the vocabulary repeats a token".into()));
    }
    let text = |id: u32| -> Result<&str> {
        v.tokens
            .get(id as usize)
            .map(String::as_str)
            .ok_or_else(|| Error::Tokenizer(format!("special token id {id} out of range")))
    };
    let bpe = BPE::builder()
        .vocab_and_merges(vocab, merges(v))
        .unk_token(text(v.unk)?.into())
        .fuse_unk(true)
        .byte_fallback(true)
        .build()
        .map_err(hf_error("cannot build the BPE model"))?;
    let mut t = Tokenizer::new(bpe);

    let space = SPACE.to_string();
    let replace = Replace::new(" ", space.as_str()).map_err(hf_error("normalizer"))?;
    let normalizer = Sequence::new(vec![
        NormalizerWrapper::Prepend(Prepend::new(space.clone())),
        NormalizerWrapper::Replace(replace),
    ]);
    t.with_normalizer(Some(normalizer));

    let (bos, eos) = (text(v.bos)?, text(v.eos)?);
    let sequence = |name: &str, type_id: u32| {
        let mut parts = vec![format!("${name}:{type_id}")];
        if v.add_bos {
            parts.insert(0, format!("{bos}:{type_id}"));
        }
        if v.add_eos {
            parts.push(format!("{eos}:{type_id}"));
        }
        parts.join(" ")
    };
    let single = sequence("A", 0);
    let pair = format!("{} {}", sequence("A", 0), sequence("B", 1));
    let post = TemplateProcessing::builder()
        .try_single(single.as_str())
        .and_then(|b| b.try_pair(pair.as_str()))
        .map_err(|e| Error::Tokenizer(format!("post-processor: {e}")))?
        .special_tokens(vec![(bos, v.bos), (eos, v.eos)])
        .build()
        .map_err(|e| Error::Tokenizer(format!("post-processor: {e}")))?;
    t.with_post_processor(Some(post));

    let undo_space = Replace::new(space.as_str(), " ").map_err(hf_error("decoder"))?;
    t.with_decoder(Some(DecoderSequence::new(vec![
        DecoderWrapper::Replace(undo_space),
        DecoderWrapper::ByteFallback(ByteFallback::new()),
        DecoderWrapper::Fuse(Fuse::new()),
        DecoderWrapper::Strip(Strip::new(' ', 1, 0)),
    ])));

    let specials: Vec<AddedToken> = v
        .tokens
        .iter()
        .zip(&v.token_types)
        .filter(|(_, &ty)| matches!(ty, TokenType::Control | TokenType::Unknown))
        .map(|(s, _)| AddedToken::from(s.clone(), true))
        .collect();
    t.add_special_tokens(&specials);
    Ok(t)
}

/// The SentencePiece-style vocabulary of a tokenizer in the layout [`hf_tokenizer`] writes,
/// for a GGUF file: special added tokens are control tokens (the model's unknown token is
/// the unknown one), `<0xXX>` tokens are bytes, the rest normal pieces, scored −1, −2, …
/// in the order the merges first produce them, then in id order.
pub fn spm_vocab(t: &Tokenizer) -> Result<SpmVocab> {
    let bad = |what: &str| Error::Tokenizer(what.to_string());
    let ModelWrapper::BPE(bpe) = t.get_model() else {
        return Err(bad("the model is not a BPE"));
    };
    let vocab = t.get_vocab(true);
    let mut tokens = vec![None; vocab.len()];
    for (s, &id) in &vocab {
        let slot = tokens
            .get_mut(id as usize)
            .ok_or_else(|| bad("the token ids are not 0..n"))?;
        *slot = Some(s.clone());
    }
    let tokens: Vec<String> = tokens
        .into_iter()
        .collect::<Option<_>>()
        .ok_or_else(|| bad("the token ids are not 0..n"))?;

    let unk = bpe.get_unk_token().as_deref();
    let added = t.get_added_tokens_decoder();
    let token_types: Vec<TokenType> = tokens
        .iter()
        .enumerate()
        .map(|(i, s)| match added.get(&(i as u32)) {
            Some(a) if a.special && Some(s.as_str()) == unk => TokenType::Unknown,
            Some(a) if a.special => TokenType::Control,
            Some(_) => TokenType::UserDefined,
            None if byte_value(s).is_some() => TokenType::Byte,
            None => TokenType::Normal,
        })
        .collect();

    // Merges in rank order, from the model's own serialization.
    let model = serde_json::to_value(bpe).map_err(|e| bad(&format!("BPE model: {e}")))?;
    let merges = model["merges"].as_array().ok_or_else(|| bad("no merges"))?;
    let mut scores = vec![0.0f32; tokens.len()];
    let mut scored = vec![false; tokens.len()];
    let mut rank = 0usize;
    for m in merges {
        let joined = match m {
            Value::Array(p) => p.iter().filter_map(Value::as_str).collect::<String>(),
            Value::String(s) => s.replacen(' ', "", 1),
            _ => return Err(bad("a merge is neither a pair nor a string")),
        };
        let Some(&id) = vocab.get(&joined) else {
            return Err(bad(&format!(
                "merge result {joined:?} is not in the vocabulary"
            )));
        };
        let id = id as usize;
        if token_types[id] == TokenType::Normal && !scored[id] {
            rank += 1;
            scores[id] = -(rank as f32);
            scored[id] = true;
        }
    }
    for id in 0..tokens.len() {
        if token_types[id] == TokenType::Normal && !scored[id] {
            rank += 1;
            scores[id] = -(rank as f32);
        }
    }

    let id_of = |s: &str| {
        t.token_to_id(s)
            .ok_or_else(|| bad(&format!("no {s} token")))
    };
    let (bos, eos) = (id_of(BOS)?, id_of(EOS)?);
    let unk = id_of(unk.ok_or_else(|| bad("the model has no unknown token"))?)?;
    let empty = t.encode("", true).map_err(hf_error("encoding"))?;
    let ids = empty.get_ids();
    Ok(SpmVocab {
        tokens,
        scores,
        token_types,
        bos,
        eos,
        unk,
        add_bos: ids.first() == Some(&bos),
        add_eos: ids.last() == Some(&eos),
    })
}
