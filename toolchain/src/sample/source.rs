//! A model to sample from, given as a GGUF file or a checkpoint directory.

use std::path::{Path, PathBuf};

use candle_core::Device;

use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};
use crate::export::{checkpoint_vocab, export_gguf};
use crate::quantize::Quant;

/// A GGUF file to run: the given one, or a checkpoint exported to f32 in a temporary
/// directory that lives as long as this value.
pub struct ModelSource {
    gguf: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

impl ModelSource {
    /// `path` is a `.gguf` file or a checkpoint directory.
    pub fn open(path: &Path) -> Result<Self> {
        if path.is_dir() {
            let ckpt = Checkpoint::load(path, &Device::Cpu)?;
            Self::from_checkpoint(&ckpt, path)
        } else {
            Ok(ModelSource {
                gguf: path.to_path_buf(),
                _tmp: None,
            })
        }
    }

    /// Export an in-memory checkpoint (`dir` names it in errors).
    pub fn from_checkpoint(ckpt: &Checkpoint, dir: &Path) -> Result<Self> {
        let vocab = checkpoint_vocab(ckpt, dir)?;
        let tmp = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
        let gguf = tmp.path().join("model-f32.gguf");
        export_gguf(ckpt, &vocab, Quant::F32, &gguf)?;
        Ok(ModelSource {
            gguf,
            _tmp: Some(tmp),
        })
    }

    pub fn gguf(&self) -> &Path {
        &self.gguf
    }
}
