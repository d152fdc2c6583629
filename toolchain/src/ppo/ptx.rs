//! PPO-ptx data: the language-model loss mixed into the policy loss, on pretraining text
//! (InstructGPT's choice) or on the assistant turns of demonstrations, which holds the
//! policy to what SFT taught where the reward model is wrong.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use tokenizers::Tokenizer;

use crate::data::{PretrainConfig, PretrainData, SftConfig, SftData};
use crate::error::{Error, Result};
use crate::train::TokenBatches;

/// What a ptx file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PtxKind {
    /// Plain text or `{"text"}` JSONL: every token is trained.
    Text,
    /// `{"messages"}` or `{"prompt","completion"}` JSONL: assistant tokens are trained.
    Conversations,
}

/// Tells the kind of `path` from its extension and first record.
pub fn kind(path: &Path) -> Result<PtxKind> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if !(ext.eq_ignore_ascii_case("jsonl") || ext.eq_ignore_ascii_case("json")) {
        return Ok(PtxKind::Text);
    }
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| Error::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&line)
            .map_err(|e| Error::data(path, i + 1, None, format!("not JSON: {e}")))?;
        let has = |k: &str| v.get(k).is_some();
        return Ok(if has("messages") || has("completion") {
            PtxKind::Conversations
        } else {
            PtxKind::Text
        });
    }
    Err(Error::data(path, 1, None, "no records"))
}

/// Batches of `path` for the ptx loss, sequences of at most `seq_len` tokens.
pub fn load(
    path: &Path,
    tokenizer: &Tokenizer,
    seq_len: usize,
    bos: u32,
    eos: u32,
    seed: u64,
) -> Result<Box<dyn TokenBatches>> {
    let paths = [PathBuf::from(path)];
    Ok(match kind(path)? {
        PtxKind::Text => Box::new(PretrainData::load(
            &paths,
            tokenizer,
            &PretrainConfig {
                seq_len,
                eval_fraction: 0.0,
                bos: Some(bos),
                eos: Some(eos),
            },
            seed,
        )?),
        PtxKind::Conversations => Box::new(SftData::load(
            &paths,
            tokenizer,
            &SftConfig {
                max_len: seq_len,
                system: None,
                bos: Some(bos),
                pad: eos,
                eval_fraction: 0.0,
            },
            seed,
        )?),
    })
}
