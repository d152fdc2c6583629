//! Perplexity on held-out text, computed the same way for a checkpoint (candle) and a GGUF
//! file (mote-runtime), so the numbers of f32, q8_0 and q4_0 files compare directly.
//!
//! The text's documents are tokenized (BOS first), concatenated and cut into windows of the
//! context length; every position of a window but the first is scored.

use std::fmt;
use std::path::Path;

use candle_core::{Device, Tensor, D};
use mote_runtime::{KvType, OwnedArena, Session, SessionConfig};

use crate::error::{Error, Result};
use crate::model::Llama;
use crate::model_file::ModelFile;

/// Summed negative log-likelihood over the scored tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Perplexity {
    pub nll: f64,
    pub tokens: usize,
}

impl Perplexity {
    pub fn mean_nll(&self) -> f64 {
        self.nll / self.tokens.max(1) as f64
    }

    pub fn ppl(&self) -> f64 {
        self.mean_nll().exp()
    }
}

impl fmt::Display for Perplexity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "perplexity {:.4} (mean NLL {:.5} over {} tokens)",
            self.ppl(),
            self.mean_nll(),
            self.tokens
        )
    }
}

/// Documents' ids concatenated and cut into windows of `ctx` tokens (the last may be
/// shorter; windows of one token score nothing and are dropped).
pub fn token_windows(docs: &[Vec<u32>], ctx: usize) -> Vec<Vec<u32>> {
    let all: Vec<u32> = docs.iter().flatten().copied().collect();
    all.chunks(ctx.max(2))
        .filter(|w| w.len() > 1)
        .map(<[u32]>::to_vec)
        .collect()
}

/// `-log softmax(logits)[target]`, in f64.
fn nll(logits: &[f32], target: u32) -> f64 {
    let max = logits.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x)) as f64;
    let sum: f64 = logits.iter().map(|&x| (x as f64 - max).exp()).sum();
    max + sum.ln() - logits[target as usize] as f64
}

/// Perplexity of the GGUF model at `path`, through mote-runtime (f32 KV cache).
pub fn ppl_runtime(path: &Path, windows: &[Vec<u32>]) -> Result<Perplexity> {
    let file = ModelFile::open(path)?;
    let ctx = windows.iter().map(Vec::len).max().unwrap_or(1);
    let sc = SessionConfig::new(ctx).with_kv_type(KvType::F32);
    let mut packed = crate::model_file::PackedStore::default();
    let model = file.model_for(sc.kernels, &mut packed)?;
    let mut arena = OwnedArena::new(
        model
            .arena_bytes_for(&sc)
            .map_err(|e| file.model_error(e))?,
    );
    let mut s = Session::new(&model, arena.as_mut_slice(), sc).map_err(|e| file.model_error(e))?;
    let mut p = Perplexity {
        nll: 0.0,
        tokens: 0,
    };
    for w in windows {
        s.truncate(0);
        for (i, &t) in w.iter().enumerate().take(w.len() - 1) {
            let logits = s.eval(t).map_err(|e| file.model_error(e))?;
            p.nll += nll(logits, w[i + 1]);
            p.tokens += 1;
        }
    }
    Ok(p)
}

/// Perplexity of a candle model, `batch` windows per forward pass.
pub fn ppl_candle(model: &Llama, windows: &[Vec<u32>], batch: usize) -> Result<Perplexity> {
    let dev = Device::Cpu;
    let mut p = Perplexity {
        nll: 0.0,
        tokens: 0,
    };
    // Windows of one length go together; only the last window may be shorter.
    let (full, rest): (Vec<&Vec<u32>>, Vec<&Vec<u32>>) = {
        let n = windows.first().map_or(0, Vec::len);
        windows.iter().partition(|w| w.len() == n)
    };
    for group in full.chunks(batch.max(1)).chain(rest.chunks(1)) {
        let t = group[0].len();
        let flat: Vec<u32> = group.iter().flat_map(|w| w.iter().copied()).collect();
        let ids = Tensor::from_vec(flat, (group.len(), t), &dev)?;
        let logits = model.forward(&ids.narrow(1, 0, t - 1)?)?;
        let logp =
            candle_nn::ops::log_softmax(&logits.to_dtype(candle_core::DType::F64)?, D::Minus1)?;
        let target = ids.narrow(1, 1, t - 1)?.unsqueeze(D::Minus1)?;
        let picked = logp.gather(&target.contiguous()?, D::Minus1)?;
        let sum: f64 = picked.sum_all()?.to_scalar()?;
        p.nll -= sum;
        p.tokens += group.len() * (t - 1);
    }
    if p.tokens == 0 {
        return Err(Error::TrainConfig("no tokens to score".into()));
    }
    Ok(p)
}

/// Token ids of each document (BOS first) with the vocabulary of the GGUF file at `path`.
pub fn tokenize_runtime(path: &Path, docs: &[String]) -> Result<Vec<Vec<u32>>> {
    let file = ModelFile::open(path)?;
    let g = file.gguf()?;
    let n = mote_runtime::Tokenizer::table_len(&g).map_err(|e| file.model_error(e))?;
    let mut table = vec![0u32; n];
    let tok = mote_runtime::Tokenizer::build(&g, &mut table).map_err(|e| file.model_error(e))?;
    docs.iter()
        .map(|d| {
            tok.encode_vec(d, true, false)
                .map_err(|e| file.model_error(e))
        })
        .collect()
}

/// Token ids of each document (BOS first) with a Hugging Face tokenizer.
pub fn tokenize_hf(tok: &tokenizers::Tokenizer, docs: &[String]) -> Result<Vec<Vec<u32>>> {
    docs.iter()
        .map(|d| {
            tok.encode(d.as_str(), true)
                .map(|e| e.get_ids().to_vec())
                .map_err(|e| Error::Tokenizer(e.to_string()))
        })
        .collect()
}

/// The documents of a held-out text file (`.txt`: blank-line separated; `.jsonl`: `text`).
pub fn read_docs(path: &Path) -> Result<Vec<String>> {
    Ok(crate::data::pretrain::read_documents(path)?
        .into_iter()
        .map(|d| d.text)
        .collect())
}
