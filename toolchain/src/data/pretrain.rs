//! Pretraining text: documents → tokens → one stream → fixed windows of `seq_len + 1`.
//!
//! Inputs are `{"text"}` JSONL (`.jsonl`/`.json`: one document per record) or plain text
//! (any other extension: documents are separated by blank lines). Each document is tokenized
//! without added special tokens and framed as `[bos] tokens [eos]` (either optional); the
//! documents are concatenated in file order. The last `eval_fraction` of the documents is
//! held out, so the split is deterministic and no document straddles it. Window k of a
//! stream is `stream[k·seq_len .. k·seq_len + seq_len + 1]`: consecutive windows share one
//! token, so every token but the first is a target exactly once.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokenizers::Tokenizer;

use super::batch::Batch;
use super::jsonl::for_each_record;
use super::sampler::Sampler;
use crate::error::{Error, Result};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PretrainConfig {
    /// Tokens per training row (the model's context or less).
    pub seq_len: usize,
    /// Fraction of the documents (the last ones) held out for the eval loss.
    pub eval_fraction: f64,
    /// Token put before each document.
    pub bos: Option<u32>,
    /// Token put after each document.
    pub eos: Option<u32>,
}

impl Default for PretrainConfig {
    fn default() -> Self {
        PretrainConfig {
            seq_len: 256,
            eval_fraction: 0.01,
            bos: None,
            eos: None,
        }
    }
}

/// A document and where it starts.
#[derive(Clone, Debug)]
pub struct Document {
    pub path: PathBuf,
    pub line: usize,
    pub text: String,
}

/// Reads the documents of a `.jsonl` (`{"text"}`) or plain-text file.
pub fn read_documents(path: &Path) -> Result<Vec<Document>> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let mut docs = Vec::new();
    if ext.eq_ignore_ascii_case("jsonl") || ext.eq_ignore_ascii_case("json") {
        for_each_record(path, |rec| {
            let text = rec.str("text")?;
            if !text.is_empty() {
                docs.push(Document {
                    path: path.to_path_buf(),
                    line: rec.line,
                    text: text.to_string(),
                });
            }
            Ok(())
        })?;
        return Ok(docs);
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        Error::data(path, line, None, "not UTF-8")
    })?;
    let mut current: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            if let Some((start, doc)) = current.take() {
                docs.push(Document {
                    path: path.to_path_buf(),
                    line: start,
                    text: doc,
                });
            }
            continue;
        }
        match &mut current {
            Some((_, doc)) => {
                doc.push('\n');
                doc.push_str(line);
            }
            None => current = Some((i + 1, line.to_string())),
        }
    }
    if let Some((start, doc)) = current {
        docs.push(Document {
            path: path.to_path_buf(),
            line: start,
            text: doc,
        });
    }
    if docs.is_empty() {
        return Err(Error::format(path, 0, "no documents: the file is empty"));
    }
    Ok(docs)
}

/// Tokenized, packed pretraining data with a held-out part.
#[derive(Debug)]
pub struct PretrainData {
    seq_len: usize,
    train: Vec<u32>,
    eval: Vec<u32>,
    train_docs: usize,
    eval_docs: usize,
    sampler: Sampler,
}

impl PretrainData {
    /// Reads, tokenizes and packs `paths`, in order.
    pub fn load(
        paths: &[PathBuf],
        tokenizer: &Tokenizer,
        config: &PretrainConfig,
        seed: u64,
    ) -> Result<Self> {
        let mut docs = Vec::new();
        for p in paths {
            docs.extend(read_documents(p)?);
        }
        Self::from_documents(&docs, tokenizer, config, seed)
    }

    pub fn from_documents(
        docs: &[Document],
        tokenizer: &Tokenizer,
        config: &PretrainConfig,
        seed: u64,
    ) -> Result<Self> {
        let l = config.seq_len;
        if l == 0 {
            return Err(Error::TrainConfig("seq_len must be at least 1".into()));
        }
        if !(0.0..1.0).contains(&config.eval_fraction) {
            return Err(Error::TrainConfig("eval_fraction must be in [0, 1)".into()));
        }
        let n_eval = if config.eval_fraction > 0.0 {
            ((docs.len() as f64 * config.eval_fraction).round() as usize).max(1)
        } else {
            0
        };
        if docs.len() < n_eval + 1 {
            return Err(Error::TrainConfig(format!(
                "{} documents: too few to hold out {n_eval} and train on the rest",
                docs.len()
            )));
        }
        let split = docs.len() - n_eval;
        let train = tokenize(&docs[..split], tokenizer, config)?;
        let eval = tokenize(&docs[split..], tokenizer, config)?;
        let windows = train.len().saturating_sub(1) / l;
        if windows == 0 {
            return Err(Error::TrainConfig(format!(
                "{} training tokens: not one window of seq_len + 1 = {}",
                train.len(),
                l + 1
            )));
        }
        if n_eval > 0 && eval.len() < l + 1 {
            return Err(Error::TrainConfig(format!(
                "the held-out documents have {} tokens, fewer than seq_len + 1 = {}; raise eval_fraction",
                eval.len(),
                l + 1
            )));
        }
        Ok(PretrainData {
            seq_len: l,
            train,
            eval,
            train_docs: split,
            eval_docs: n_eval,
            sampler: Sampler::new(windows, seed),
        })
    }

    pub fn seq_len(&self) -> usize {
        self.seq_len
    }

    /// (documents, tokens) of the training part.
    pub fn train_size(&self) -> (usize, usize) {
        (self.train_docs, self.train.len())
    }

    /// (documents, tokens) of the held-out part.
    pub fn eval_size(&self) -> (usize, usize) {
        (self.eval_docs, self.eval.len())
    }

    pub fn train_windows(&self) -> usize {
        self.sampler.len()
    }

    pub fn eval_windows(&self) -> usize {
        self.eval.len().saturating_sub(1) / self.seq_len
    }

    fn window(stream: &[u32], k: usize, l: usize) -> (&[u32], &[u32]) {
        let w = &stream[k * l..k * l + l + 1];
        (&w[..l], &w[1..])
    }

    fn rows(&self, stream: &[u32], windows: &[usize]) -> Batch {
        let ones = vec![1f32; self.seq_len];
        let rows: Vec<_> = windows
            .iter()
            .map(|&k| {
                let (i, t) = Self::window(stream, k, self.seq_len);
                (i, t, ones.as_slice())
            })
            .collect();
        Batch::from_rows(&rows, 0)
    }

    /// Micro-batch `micro` of step `step`: `batch_size` windows, a function of (seed, step, micro).
    pub fn batch(
        &mut self,
        step: u64,
        micro: usize,
        grad_accum: usize,
        batch_size: usize,
    ) -> Batch {
        let windows = self.sampler.batch(step, micro, grad_accum, batch_size);
        self.rows(&self.train, &windows)
    }

    /// The fixed held-out batches: the first `max_batches · batch_size` held-out windows in
    /// order (the last batch may be smaller).
    pub fn eval_batches(&self, batch_size: usize, max_batches: usize) -> Vec<Batch> {
        let n = self.eval_windows().min(max_batches * batch_size);
        let all: Vec<usize> = (0..n).collect();
        all.chunks(batch_size.max(1))
            .map(|ks| self.rows(&self.eval, ks))
            .collect()
    }
}

fn tokenize(docs: &[Document], tokenizer: &Tokenizer, config: &PretrainConfig) -> Result<Vec<u32>> {
    let mut stream = Vec::new();
    for chunk in docs.chunks(1024) {
        let texts: Vec<&str> = chunk.iter().map(|d| d.text.as_str()).collect();
        let encodings = tokenizer.encode_batch(texts, false).map_err(|e| {
            let d = &chunk[0];
            Error::Tokenizer(format!(
                "{} (documents from line {}): {e}",
                d.path.display(),
                d.line
            ))
        })?;
        for enc in encodings {
            stream.extend(config.bos);
            stream.extend_from_slice(enc.get_ids());
            stream.extend(config.eos);
        }
    }
    Ok(stream)
}
