//! A GGUF model file mapped into memory, as the runtime wants it: zero-copy weights.

use crate::error::{Error, Result};
use memmap2::Mmap;
use std::fs::File;
use std::path::{Path, PathBuf};

/// A read-only memory map of a model file.
pub struct ModelFile {
    path: PathBuf,
    map: Mmap,
}

impl ModelFile {
    /// Map `path` read-only.
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        // SAFETY: the map is read-only and private to this process; the runtime validates
        // every byte it reads. A file truncated by another process while mapped would fault,
        // which is the accepted contract of mapping model files (as llama.cpp does).
        let map = unsafe { Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
        Ok(ModelFile {
            path: path.to_path_buf(),
            map,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// Parse the GGUF container; errors name the file.
    pub fn gguf(&self) -> Result<mote_runtime::Gguf<'_>> {
        mote_runtime::Gguf::parse(&self.map).map_err(|e| self.model_error(e))
    }

    /// Parse and load the llama model; errors name the file.
    pub fn model(&self) -> Result<mote_runtime::Model<'_>> {
        let g = self.gguf()?;
        mote_runtime::Model::load(&g).map_err(|e| self.model_error(e))
    }

    /// Attach this file's path to a runtime error about its contents.
    pub fn model_error(&self, e: mote_runtime::Error) -> Error {
        Error::Model {
            path: self.path.clone(),
            error: e,
        }
    }
}
