//! A GGUF model file mapped into memory, as the runtime wants it: weights read in place,
//! or packed once for kernels that read them faster so ([`ModelFile::model_for`]).

use crate::error::{Error, Result};
use memmap2::{Advice, Mmap, MmapMut, UncheckedAdvice};
use mote_runtime::kernels::Kernels;
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

    /// The model as kernel table `k` runs it fastest: where `k` reads matrices packed (see
    /// `Model::pack`), they are copied into `store`, and the file's pages they came from
    /// are dropped as each is copied. The store is anonymous memory committed as it is
    /// written, so peak RSS is the packed copies plus one source matrix, not both copies.
    pub fn model_for<'a>(
        &'a self,
        k: &'static Kernels,
        store: &'a mut PackedStore,
    ) -> Result<mote_runtime::Model<'a>> {
        let model = self.model()?;
        let k = k.for_weights(model.bytes_per_token());
        let need = model.packed_bytes(k);
        if need == 0 {
            return Ok(model);
        }
        let map = MmapMut::map_anon(need).map_err(|e| Error::io(&self.path, e))?;
        // Huge pages where the kernel offers them (fewer TLB misses on the weight stream).
        let _ = map.advise(Advice::HugePage);
        let base = self.map.as_ptr() as usize;
        let drop_pages = |src: &[u8]| {
            let offset = src.as_ptr() as usize - base;
            // SAFETY: the map is read-only and never written, so dropping its resident pages
            // only makes the next read fault them in again from the file, same bytes; no
            // reference sees a change. The range lies inside the map (`src` is part of it).
            let _ = unsafe {
                self.map
                    .unchecked_advise_range(UncheckedAdvice::DontNeed, offset, src.len())
            };
        };
        let buf = store.0.insert(map);
        let model = model
            .pack(k, &mut buf[..], drop_pages)
            .map_err(|e| self.model_error(e))?;
        // What packing left mapped (pages faulted in around the matrices) is read again only
        // if used: the norms, the vocabulary, embedding rows of an untied model.
        drop_pages(&self.map[..]);
        Ok(model)
    }

    /// Attach this file's path to a runtime error about its contents.
    pub fn model_error(&self, e: mote_runtime::Error) -> Error {
        Error::Model {
            path: self.path.clone(),
            error: e,
        }
    }
}

/// Packed weights for [`ModelFile::model_for`]; empty until it packs.
#[derive(Default)]
pub struct PackedStore(Option<MmapMut>);
