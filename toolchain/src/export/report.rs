//! The quality report of an export: perplexity on held-out text of the f32, q8_0 and q4_0
//! files, measured through mote-runtime on the written files, against the checkpoint.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::checkpoint::Checkpoint;
use crate::error::Result;
use crate::eval::{
    ppl_candle, ppl_runtime, read_docs, token_windows, tokenize_runtime, Perplexity,
};
use crate::gguf::llama::SpmVocab;
use crate::model::Heads;
use crate::quantize::Quant;

use super::export_gguf;

/// One row: a model variant, its file size and its perplexity.
#[derive(Debug, Clone)]
pub struct QualityRow {
    pub label: String,
    pub file: Option<PathBuf>,
    pub bytes: u64,
    pub ppl: Perplexity,
}

#[derive(Debug, Clone)]
pub struct QualityReport {
    pub text: PathBuf,
    pub rows: Vec<QualityRow>,
}

impl QualityReport {
    /// Perplexity of the row labelled `label` relative to the f32 file, in percent.
    pub fn increase_pct(&self, label: &str) -> Option<f64> {
        let base = self.rows.iter().find(|r| r.label == "f32")?.ppl.ppl();
        let row = self.rows.iter().find(|r| r.label == label)?.ppl.ppl();
        Some(100.0 * (row / base - 1.0))
    }
}

impl fmt::Display for QualityReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "quality on {} (mote-runtime on the written files):",
            self.text.display()
        )?;
        writeln!(f, "| model | size | perplexity | vs f32 | tokens |")?;
        writeln!(f, "| --- | ---: | ---: | ---: | ---: |")?;
        for r in &self.rows {
            let vs = self
                .increase_pct(&r.label)
                .map_or("-".into(), |p| format!("{p:+.3}%"));
            let size = if r.bytes > 0 {
                format!("{:.2} MiB", r.bytes as f64 / 1048576.0)
            } else {
                "-".into()
            };
            writeln!(
                f,
                "| {} | {size} | {:.4} | {vs} | {} |",
                r.label,
                r.ppl.ppl(),
                r.ppl.tokens
            )?;
        }
        Ok(())
    }
}

/// Export `ckpt` as f32, q8_0 and q4_0 into `dir` (reusing `already` for its quant) and
/// measure each on the documents of `text` in windows of `ctx` tokens. The checkpoint itself
/// (candle, f32) is the first row.
pub fn quality_report(
    ckpt: &Checkpoint,
    vocab: &SpmVocab,
    text: &Path,
    ctx: usize,
    dir: &Path,
    already: Option<(Quant, &Path)>,
) -> Result<QualityReport> {
    let docs = read_docs(text)?;
    let mut rows = Vec::new();
    let mut windows = None;
    for q in [Quant::F32, Quant::Q8_0, Quant::Q4_0] {
        let path = match already {
            Some((aq, p)) if aq == q => p.to_path_buf(),
            _ => {
                let p = dir.join(format!("quality-{}.gguf", q.name()));
                export_gguf(ckpt, vocab, q, &p)?;
                p
            }
        };
        if windows.is_none() {
            windows = Some(token_windows(&tokenize_runtime(&path, &docs)?, ctx));
            let model = ckpt.model(Heads::LM)?;
            rows.push(QualityRow {
                label: "checkpoint (candle)".into(),
                file: None,
                bytes: 0,
                ppl: ppl_candle(&model, windows.as_deref().unwrap_or(&[]), 8)?,
            });
        }
        let w = windows.as_deref().unwrap_or(&[]);
        rows.push(QualityRow {
            label: q.name().into(),
            bytes: std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
            ppl: ppl_runtime(&path, w)?,
            file: Some(path),
        });
    }
    Ok(QualityReport {
        text: text.to_path_buf(),
        rows,
    })
}
